/**
 * Echo suppression on the writing side. After a batch, the connector reads
 * back every object written and their parents, and stores the content hash
 * of what the site now shows, with the batch's final uid mapping. Cascades
 * our writes set off (a sample moved by its analyses) are then not mistaken
 * for local edits, and references to objects written later in the batch
 * resolve the way the poller will resolve them.
 *
 * A read-back that does not show the fields this batch sent means someone
 * edited the object between our write and the read: its hash is left alone,
 * so the poller records that edit.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { ConnectorRows, RemoteWrite, RemoteWriteResult } from '../connector.js'
import type { Logger } from '../../runtime/logger.js'
import type { SenaiteClient } from './client.js'
import type { BlobRef } from '../../../protocol/blob-ref.js'
import { sameFile, type Attachments } from './attachments.js'
import { canonicalJson, contentHash, itemToData } from './convert.js'
import { HASH_SPACE, siteUidOf, type Mapping } from './mapping.js'
import { resourceOf } from './portal-types.js'
import { READ_FLAGS, readItem, type Listing } from './reads.js'
import type { Store } from '../../../store/types.js'

export interface EchoHashDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  /** the agent's store: the type of a written object's parent that the batch does not carry */
  readonly store: Pick<Store, 'getObject'>
  readonly log: Logger
  /** whether items of a type are Dexterity in this site (read under AT names) */
  readonly dexterity: (type: string) => boolean
  /** the site's files as blobs: a file this batch wrote is known by the blob it was given (no download) */
  readonly attachments: Pick<Attachments, 'resolve'>
}

export interface EchoHashes {
  /** the fields a write of this batch sent for `meshUid` (what the read-back must show), and the blobs its file fields were given */
  sent (meshUid: string, keys: string[], files?: ReadonlyMap<string, BlobRef>): void
  /** after a batch: the hashes of the objects it wrote and of their parents, as the site shows them now */
  afterBatch (writes: readonly RemoteWrite[], results: readonly RemoteWriteResult[], rows: ConnectorRows | undefined): Promise<void>
}

export function createEchoHashes (deps: EchoHashDeps): EchoHashes {
  const { client, mapping } = deps
  /** per written object, the fields this batch sent; cleared with every batch */
  const sentKeys = new Map<string, string[]>()
  const sentFiles = new Map<string, ReadonlyMap<string, BlobRef>>()
  const meshUidOf = (uid: string): string | undefined => mapping.mesh(uid)

  async function refresh (mesh: string, item: Record<string, unknown>, version: ObjectVersion | undefined, rows: ConnectorRows | undefined): Promise<void> {
    const type = typeof item.portal_type === 'string' ? item.portal_type : ''
    let files
    try {
      files = await deps.attachments.resolve(item, { hints: sentFiles.get(mesh), rows: rows ?? null }) ?? undefined
    } catch (err) {
      deps.log.debug({ uid: mesh, err: (err as Error).message }, 'could not read the files of an object after a write: its hash is left to the poller')
      return
    }
    const read = itemToData(item, { meshUidOf, dexterity: deps.dexterity, files })
    // someone edited the object between our write and this read: leave it to the poller
    if (version !== undefined && !showsWhatWeWrote(read.data, version, sentKeys.get(mesh) ?? [])) return
    const hash = contentHash(read, type)
    mapping.setHash(mesh, hash)
    rows?.put(HASH_SPACE, mesh, hash)
  }

  /**
   * The objects as the poller reads them, by SENAITE uid: a listing of each
   * type asked for these UIDs (a page per READ_CHUNK of them: the poller's
   * own view, and a few calls instead of one per object); an object a
   * listing does not bring is read on its own.
   */
  async function readBack (byType: ReadonlyMap<string, readonly string[]>): Promise<Map<string, Record<string, unknown>>> {
    const items = new Map<string, Record<string, unknown>>()
    const chunks = [...byType].flatMap(([type, uids]) => chunk(uids, READ_CHUNK).map((part) => [type, part] as const))
    await Promise.all(chunks.map(async ([type, part]) => {
      const listing = type === '' ? { items: [] } : await client.get<Listing>(resourceOf(type), { UID: part, ...READ_FLAGS, limit: part.length }).catch(() => ({ items: [] }) as Listing)
      for (const item of listing.items ?? []) if (typeof item.uid === 'string' && part.includes(item.uid)) items.set(item.uid, item)
      await Promise.all(part.filter((uid) => !items.has(uid)).map(async (uid) => {
        try {
          items.set(uid, await readItem(client, uid))
        } catch (err) {
          deps.log.debug({ senaiteUid: uid, err: (err as Error).message }, 'could not refresh the content hash after a write')
        }
      }))
    }))
    return items
  }

  return {
    sent (meshUid, keys, files) {
      sentKeys.set(meshUid, keys)
      if (files !== undefined && files.size > 0) sentFiles.set(meshUid, files)
    },

    async afterBatch (writes, results, rows) {
      const written = new Map(writes.filter((_, i) => results[i]!.ok).map((w) => [w.next.uid, w.next]))
      const touched = new Set<string>()
      for (const v of written.values()) {
        touched.add(v.uid)
        if (v.parent !== null) touched.add(v.parent)
      }
      // SENAITE uid → mesh uid, grouped by type (a parent not in the batch: the type the store knows it by)
      const meshOf = new Map<string, string>()
      const byType = new Map<string, string[]>()
      for (const mesh of touched) {
        const local = siteUidOf(mapping, mesh)
        if (local === undefined) continue
        const type = written.get(mesh)?.type ?? (await deps.store.getObject(mesh))?.type ?? ''
        meshOf.set(local, mesh)
        byType.set(type, [...(byType.get(type) ?? []), local])
      }
      for (const [local, item] of await readBack(byType)) await refresh(meshOf.get(local)!, item, written.get(meshOf.get(local)!), rows)
      sentKeys.clear()
      sentFiles.clear()
    }
  }
}

/**
 * Whether the site shows the field values we wrote (SENAITE returns falsy
 * values as null, so "empty" matches "empty"). Workflow fields are excluded:
 * the site moves them through cascades of its own.
 */
/** UIDs asked for in one listing */
const READ_CHUNK = 50

function chunk<T> (list: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}

function showsWhatWeWrote (read: Record<string, unknown>, version: ObjectVersion, sent: readonly string[]): boolean {
  const empty = (v: unknown): boolean => v === null || v === undefined || v === '' || v === false || v === 0 || (Array.isArray(v) && v.length === 0)
  for (const key of sent) {
    const value = version.data[key]
    if (!(key in read)) continue // a field this site does not show or keep
    const shown = read[key]
    if (empty(value) && empty(shown)) continue
    if (sameFile(value, shown)) continue
    // a number written is read back as the site formats it ("10" for 10)
    if (typeof value !== 'object' && typeof shown !== 'object' && String(value) === String(shown)) continue
    if (canonicalJson(value) !== canonicalJson(shown)) return false
  }
  return true
}
