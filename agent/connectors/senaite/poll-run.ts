/**
 * One poll of a SENAITE site, in passes: (1) which objects changed and
 * their parents, uids only (catalog metadata), so a poll of a large site —
 * the first one reads it all — never holds its items whole; (2) the changed
 * objects whole, a page at a time, type by type in dependency order, each
 * recorded unless it is unchanged or the echo of our own write; (3) users,
 * registry records and settings, read whole and compared by hash.
 *
 * The agent's own writes may land while a poll lists the site: an item such
 * a write touched (the object, its parent, or a child of it: workflow
 * cascades) may have been read half-written, so it is left to the next poll
 * (its type lands in `heldBack`, whose cursor stays put) while every other
 * item is recorded. Only when the writer cannot say what it touched is the
 * whole poll deferred.
 */
import type { BlobRef } from '../../../protocol/blob-ref.js'
import type { ConnectorRow } from '../connector.js'
import type { Logger } from '../../runtime/logger.js'
import { SiteFileRefused, withInlineFilesAsShown, type Attachments } from './attachments.js'
import type { Store } from '../../../store/types.js'
import type { WriteAccount } from './batch-log.js'
import type { SenaiteClient } from './client.js'
import { canonicalJson, contentHash, itemToData, type ReadResult } from './convert.js'
import { changesQuery, type DetectionMode } from './detection.js'
import type { LocalEdits } from './local-edits.js'
import { HASH_SPACE, MAP_SPACE, type Mapping } from './mapping.js'
import type { PortalTypeInfo } from './portal-types.js'
import { listItems } from './reads.js'
import { readSiteRecords } from './site-records.js'

export interface PollRunDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly store: Store
  readonly types: readonly PortalTypeInfo[]
  readonly modes: Readonly<Record<string, DetectionMode>>
  readonly pageSize: number
  readonly writer: WriteAccount
  readonly edits: LocalEdits
  /** whether items of a type are Dexterity in this site (read under AT names) */
  readonly dexterity: (type: string) => boolean
  /** whether a create may have made an object not mapped yet in this container (create.ts): such objects are left alone */
  readonly pendingCreate: (containerPath: string) => boolean
  /** the site's files as blobs */
  readonly attachments: Pick<Attachments, 'resolve'>
  readonly log: Logger
}

/** What the poll knows of a changed item once it has read it whole. */
interface ChangedItem {
  readonly type: string
  readonly item: Record<string, unknown>
  /** its mesh uid: the mapped one, or its SENAITE uid for an object of this site */
  readonly meshUid: string
  /** the mesh uid the mapping knew it by before this poll */
  readonly known: string | undefined
  readonly read: ReadResult
  readonly hash: string
}

export class PollRun {
  readonly #deps: PollRunDeps
  /** the writer's generation when the poll began: its writes after that may be in what we read */
  readonly #since: number
  readonly #cursors: Readonly<Record<string, string>>
  /** SENAITE uids listed by this poll: those the mapping does not know are ours, their uid their mesh uid */
  readonly #seen = new Set<string>()
  /** mesh uid → its children's mesh uids: an object does not need its own children to exist first */
  readonly #childrenOf = new Map<string, Set<string>>()
  /** types pass 1 listed something of */
  readonly #listed = new Set<string>()
  /** types with an item left to the next poll: their cursors stay */
  readonly heldBack = new Set<string>()
  /** per type, the newest `modified` the site reported */
  readonly newest: Record<string, string> = {}
  scanned = 0
  recorded = 0

  constructor (deps: PollRunDeps, since: number, cursors: Readonly<Record<string, string>>) {
    this.#deps = deps
    this.#since = since
    this.#cursors = cursors
  }

  /** pass 1: the uids of the changed objects, and which of them are children of which */
  async listChanged (): Promise<void> {
    const parentOf = new Map<string, string>()
    for (const info of this.#polledTypes()) {
      for await (const brain of this.#list(info.type, false)) {
        this.#listed.add(info.type)
        this.#seen.add(brain.uid as string)
        if (typeof brain.parent_uid === 'string' && brain.parent_uid !== '') parentOf.set(brain.uid as string, brain.parent_uid)
      }
    }
    for (const [uid, parentUid] of parentOf) {
      const parent = this.#meshUidOf(parentUid)
      const child = this.#meshUidOf(uid)
      if (parent === undefined || child === undefined) continue
      if (!this.#childrenOf.has(parent)) this.#childrenOf.set(parent, new Set())
      this.#childrenOf.get(parent)!.add(child)
    }
  }

  /** pass 2: the changed objects whole; false when the poll must be deferred (the writer cannot tell what it touched) */
  async recordChanged (): Promise<boolean> {
    // a type pass 1 found nothing of is not asked again: an object made since is found by the next poll
    for (const info of this.#polledTypes().filter((t) => this.#listed.has(t.type))) {
      for await (const item of this.#list(info.type, true)) {
        if (await this.#recordItem(info.type, item) === 'deferred') return false
      }
    }
    return true
  }

  /** pass 3: users, registry records and settings: few, read whole each cycle, compared by hash */
  async recordSiteRecords (): Promise<void> {
    const { mapping, edits } = this.#deps
    for (const record of await readSiteRecords(this.#deps.client, this.#deps.pageSize)) {
      const hash = contentHash({ parent: null, refs: [], data: record.data }, record.type)
      if (mapping.hash(record.uid) === hash || edits.refused(record.uid, hash)) continue
      // the writer never writes these (the JSON API cannot): nothing of ours can have touched them
      const stored = await edits.record({ uid: record.uid, type: record.type, id: record.id, parent: null, refs: [], data: record.data, deleted: false }, hash, [{ space: HASH_SPACE, key: record.uid, value: hash }], () => true)
      if (stored !== undefined && stored !== 'too-large') { mapping.setHash(record.uid, hash); this.recorded++ }
    }
  }

  #polledTypes (): PortalTypeInfo[] {
    return this.#deps.types.filter((info) => this.#deps.modes[info.type] !== 'absent')
  }

  #list (type: string, complete: boolean): AsyncGenerator<Record<string, unknown>> {
    return listItems(this.#deps.client, type, changesQuery(this.#deps.modes[type], this.#cursors[type]), complete, this.#deps.pageSize)
  }

  readonly #meshUidOf = (uid: string): string | undefined => this.#deps.mapping.mesh(uid) ?? (this.#seen.has(uid) ? uid : undefined)

  /** one item of pass 2 */
  async #recordItem (type: string, item: Record<string, unknown>): Promise<'deferred' | undefined> {
    const { mapping } = this.#deps
    this.scanned++
    const modified = typeof item.modified === 'string' ? item.modified : undefined
    if (modified !== undefined && (this.newest[type] === undefined || Date.parse(modified) > Date.parse(this.newest[type]!))) this.newest[type] = modified
    const maybeOurs = this.#touched(item)
    if (maybeOurs === undefined) return 'deferred'
    const senaiteUid = item.uid as string
    this.#seen.add(senaiteUid) // created since pass 1
    const known = mapping.mesh(senaiteUid)
    const meshUid = known ?? senaiteUid
    // an item a write of ours touched is not worth a download: unless its files are known, it waits for the next poll
    const files = await this.#files(type, item, meshUid, modified, !maybeOurs)
    if (files === 'refused') return
    if (files === undefined) { this.heldBack.add(type); return }
    const read = itemToData(item, { meshUidOf: this.#meshUidOf, dexterity: this.#deps.dexterity, files })
    const hash = contentHash(read, type)
    // unchanged, or the echo of our own write — touched or not, nothing to record nor to hold back
    if (mapping.hash(meshUid) === hash) return
    if (maybeOurs) { this.heldBack.add(type); return }
    // perhaps made by a create of ours whose outcome is not known yet: it is the mesh object's, adopted at its next attempt
    if (known === undefined && this.#deps.pendingCreate(String(item.parent_path ?? ''))) { this.heldBack.add(type); return }
    if (this.#deps.edits.refused(meshUid, hash)) return // too large, and not edited since
    if (known !== undefined && await this.#holdsAlready(meshUid, read, hash)) return
    await this.#record({ type, item, meshUid, known, read, hash })
  }

  /**
   * The item's files as blobs (attachments.ts), downloaded unless known (or `download` is false:
   * undefined); 'refused' when a file is (over instance.maxFileBytes, or not readable by the account):
   * the edit is skipped, logged once per version of the object, and the rest of the poll goes on.
   */
  async #files (type: string, item: Record<string, unknown>, meshUid: string, modified: string | undefined, download: boolean): Promise<ReadonlyMap<string, BlobRef> | 'refused' | undefined> {
    try {
      return await this.#deps.attachments.resolve(item, { download })
    } catch (err) {
      if (!(err instanceof SiteFileRefused)) throw err
      const key = `files@${modified ?? ''}`
      if (this.#deps.edits.refused(meshUid, key)) return 'refused'
      this.#deps.edits.skip(meshUid, key)
      this.#deps.log.warn({ uid: meshUid, type, id: item.id, err: err.message }, `SENAITE ${type} ${String(item.id)} was not recorded: ${err.message}`)
      return 'refused'
    }
  }

  /**
   * Whether the store's current version of the object is what the site
   * shows (a content hash taken under older rules, or lost): then there is
   * no edit to record — the hash is brought up to date instead.
   */
  async #holdsAlready (meshUid: string, read: ReadResult, hash: string): Promise<boolean> {
    const current = await this.#deps.store.getObject(meshUid)
    if (current === undefined || current.deleted) return false
    // a file stored inline (before blobs) that is the blob the site shows is the same content
    const same = canonicalJson([current.parent, [...current.refs].sort(), withInlineFilesAsShown(current.data, read.data)]) === canonicalJson([read.parent, read.refs, read.data])
    if (!same) return false
    await this.#deps.store.write((tx) => { tx.putAux(HASH_SPACE, meshUid, hash) })
    this.#deps.mapping.setHash(meshUid, hash)
    return true
  }

  /** record a changed item as a local edit, unless a write of ours touches it before the store commits */
  async #record (changed: ChangedItem): Promise<void> {
    const { mapping, edits } = this.#deps
    const { type, item, meshUid, known, hash } = changed
    const children = this.#childrenOf.get(meshUid)
    const read = children === undefined ? changed.read : { ...changed.read, refs: changed.read.refs.filter((r) => !children.has(r)) }
    const rows: ConnectorRow[] = [{ space: HASH_SPACE, key: meshUid, value: hash }]
    const ref = { uid: item.uid as string, path: String(item.path ?? ''), id: String(item.id ?? '') }
    if (known === undefined) rows.push({ space: MAP_SPACE, key: meshUid, value: ref })
    // an object that came from another lab keeps its mesh id (SENAITE gave it its own)
    const id = known !== undefined && known !== ref.uid ? ((await this.#deps.store.getObject(meshUid))?.id ?? ref.id) : ref.id
    // checked again inside the store transaction: no write of ours may have touched it since we read it
    const stored = await edits.record({ uid: meshUid, type, id, parent: read.parent, refs: read.refs, data: read.data, deleted: false }, hash, rows, () => this.#touched(item) === false)
    if (stored === 'too-large') return
    if (stored === undefined && this.#touched(item) !== false) { this.heldBack.add(type); return } // refused by the check: next poll
    if (known === undefined) mapping.set(meshUid, ref)
    if (stored !== undefined) {
      mapping.setHash(meshUid, hash)
      this.recorded++
    }
  }

  /** whether one of our writes since the poll began may have changed this item; undefined: cannot tell */
  #touched (item: Record<string, unknown>): boolean | undefined {
    const t = this.#deps.writer.touchedSince(this.#since)
    if (t === undefined) return undefined
    const uid = item.uid as string
    return t.written.has(uid) || t.parents.has(uid) || (typeof item.parent_uid === 'string' && t.written.has(item.parent_uid))
  }
}
