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
import { canonicalJson, contentHash, itemToData } from './convert.js'
import { HASH_SPACE, siteUidOf, type Mapping } from './mapping.js'
import { readItem } from './reads.js'

export interface EchoHashDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly log: Logger
  /** whether items of a type are Dexterity in this site (read under AT names) */
  readonly dexterity: (type: string) => boolean
}

export interface EchoHashes {
  /** the fields a write of this batch sent for `meshUid` (what the read-back must show) */
  sent (meshUid: string, keys: string[]): void
  /** after a batch: the hashes of the objects it wrote and of their parents, as the site shows them now */
  afterBatch (writes: readonly RemoteWrite[], results: readonly RemoteWriteResult[], rows: ConnectorRows | undefined): Promise<void>
}

export function createEchoHashes (deps: EchoHashDeps): EchoHashes {
  const { client, mapping } = deps
  /** per written object, the fields this batch sent; cleared with every batch */
  const sentKeys = new Map<string, string[]>()
  const translation = { meshUidOf: (uid: string): string | undefined => mapping.mesh(uid), dexterity: deps.dexterity }

  async function refresh (mesh: string, version: ObjectVersion | undefined, rows: ConnectorRows | undefined): Promise<void> {
    const local = siteUidOf(mapping, mesh)
    if (local === undefined) return
    try {
      const item = await readItem(client, local)
      const type = typeof item.portal_type === 'string' ? item.portal_type : ''
      const read = itemToData(item, translation)
      // someone edited the object between our write and this read: leave it to the poller
      if (version !== undefined && !showsWhatWeWrote(read.data, version, sentKeys.get(mesh) ?? [])) return
      const hash = contentHash(read, type)
      mapping.setHash(mesh, hash)
      rows?.put(HASH_SPACE, mesh, hash)
    } catch (err) {
      deps.log.debug({ uid: mesh, err: (err as Error).message }, 'could not refresh the content hash after a write')
    }
  }

  return {
    sent (meshUid, keys) {
      sentKeys.set(meshUid, keys)
    },

    async afterBatch (writes, results, rows) {
      const touched: string[] = []
      writes.forEach((w, i) => {
        if (!results[i]!.ok) return
        touched.push(w.next.uid)
        if (w.next.parent !== null) touched.push(w.next.parent)
      })
      const written = new Map(writes.filter((_, i) => results[i]!.ok).map((w) => [w.next.uid, w.next]))
      await Promise.all([...new Set(touched)].map(async (mesh) => { await refresh(mesh, written.get(mesh), rows) }))
      sentKeys.clear()
    }
  }
}

/**
 * Whether the site shows the field values we wrote (SENAITE returns falsy
 * values as null, so "empty" matches "empty"). Workflow fields are excluded:
 * the site moves them through cascades of its own.
 */
function showsWhatWeWrote (read: Record<string, unknown>, version: ObjectVersion, sent: readonly string[]): boolean {
  const empty = (v: unknown): boolean => v === null || v === undefined || v === '' || v === false || v === 0 || (Array.isArray(v) && v.length === 0)
  for (const key of sent) {
    const value = version.data[key]
    if (!(key in read)) continue // a field this site does not show or keep
    const shown = read[key]
    if (empty(value) && empty(shown)) continue
    // a number written is read back as the site formats it ("10" for 10)
    if (typeof value !== 'object' && typeof shown !== 'object' && String(value) === String(shown)) continue
    if (canonicalJson(value) !== canonicalJson(shown)) return false
  }
  return true
}
