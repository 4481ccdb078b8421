/**
 * Change detection in a SENAITE site (§2.3 and the corrections): per type,
 * the best query the site supports — `modified_since` (newer jsonapi, second
 * precise), else a range query on the catalog's `modified` index (minute
 * precise), else a full scan compared against stored content hashes. Never
 * the day-level `recent_modified` literals.
 *
 * An item whose content hash equals the hash of what the agent last wrote or
 * recorded is not an edit (echo suppression). Cursors are the newest
 * `modified` the site itself reported, so clocks need not agree.
 *
 * The agent's own writes may land while a poll lists the site: an item such
 * a write touched (the object, its parent, or a child of it: workflow
 * cascades) may have been read half-written, so it is left to the next poll
 * — and its type's cursor stays put — while every other item is recorded.
 * Only when the writer cannot say what it touched (a batch in progress, or
 * more batches than it remembers) is the whole poll deferred: a site busy
 * with the mesh's edits still gets its own edits out.
 *
 * An edit that cannot be replicated (ObjectTooLargeError or
 * InvalidObjectError from the local write) is logged once per content and
 * skipped, never retried as it is: the rest of the poll goes on, and a
 * later, corrected edit of it is recorded.
 */
import { InvalidObjectError, ObjectTooLargeError } from '../../../protocol/errors.js'
import type { ConnectorContext, ConnectorRow, LocalChange } from '../connector.js'
import type { Logger } from '../../runtime/logger.js'
import type { Store } from '../../../store/types.js'
import { SenaiteApiError, type SenaiteClient } from './client.js'
import { contentHash, itemToData } from './convert.js'
import { HASH_SPACE, MAP_SPACE, POLL_SPACE, type Mapping } from './mapping.js'
import { resourceOf, type PortalTypeInfo } from './portal-types.js'
import { readSiteRecords } from './site-records.js'
import { READ_FLAGS, type Writer } from './writer.js'

export type DetectionMode = 'modified-since' | 'modified-range' | 'scan' | 'absent'

interface Listing { count?: number, items?: Array<Record<string, unknown>>, next?: string | null }

export interface PollerDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly store: Store
  readonly context: ConnectorContext
  readonly types: readonly PortalTypeInfo[]
  readonly pageSize: number
  readonly log: Logger
  /** the writer's batch generation (odd while writing) and what its batches touched since one */
  readonly writer: Pick<Writer, 'generation' | 'touchedSince' | 'idle'>
}

export interface PollResult {
  readonly deferred: boolean
  readonly scanned: number
  readonly recorded: number
}

export interface Poller {
  /** find out, per type, how this site can be asked for changes */
  detect (): Promise<Record<string, DetectionMode>>
  poll (): Promise<PollResult>
  readonly modes: Readonly<Record<string, DetectionMode>>
}

/** Overlap of consecutive polls, so an object saved during a poll is not missed. */
const OVERLAP_MS: Record<DetectionMode, number> = { 'modified-since': 5_000, 'modified-range': 120_000, scan: 0, absent: 0 }

export function createPoller (deps: PollerDeps): Poller {
  const { client, mapping, store, context, log } = deps
  const modes: Record<string, DetectionMode> = {}
  let cursors: Record<string, string> | undefined
  /** content hash of each object whose edit was too large to record (skipped until it changes) */
  const tooLarge = new Map<string, string>()

  /** recordLocalChange, or 'too-large' (logged) when the object is over the size limit */
  async function recordChange (change: LocalChange, hash: string, rows: readonly ConnectorRow[], precondition: () => boolean): Promise<Awaited<ReturnType<ConnectorContext['recordLocalChange']>> | 'too-large'> {
    try {
      const stored = await context.recordLocalChange(change, rows, precondition)
      tooLarge.delete(change.uid)
      return stored
    } catch (err) {
      if (!(err instanceof ObjectTooLargeError) && !(err instanceof InvalidObjectError)) throw err
      tooLarge.set(change.uid, hash)
      const detail = err instanceof ObjectTooLargeError ? { bytes: err.bytes, limit: err.limit } : { problems: err.problems }
      log.warn({ uid: change.uid, type: change.type, id: change.id, ...detail }, `SENAITE ${change.type} ${change.id} was not recorded: ${err.message}`)
      return 'too-large'
    }
  }

  async function * list (type: string, query: Record<string, string | number | undefined>, complete: boolean): AsyncGenerator<Record<string, unknown>> {
    for (let start = 0; ; start += deps.pageSize) {
      const page = await client.get<Listing>(resourceOf(type), { ...query, limit: deps.pageSize, b_start: start, ...(complete ? READ_FLAGS : {}) })
      const items = (page.items ?? []).filter((i) => typeof i.uid === 'string' && i.portal_type === type)
      for (const item of items) yield item
      if ((page.items ?? []).length < deps.pageSize || page.next === null || page.next === undefined) return
    }
  }

  async function count (type: string, query: Record<string, string | number>): Promise<number> {
    const page = await client.get<Listing>(resourceOf(type), { ...query, limit: 1 })
    return page.count ?? (page.items ?? []).length
  }

  async function loadCursors (): Promise<Record<string, string>> {
    if (cursors !== undefined) return cursors
    cursors = {}
    for await (const [type, iso] of store.iterateAux<string>(POLL_SPACE)) cursors[type] = iso
    return cursors
  }

  function queryFor (type: string, cursor: string | undefined): Record<string, string | undefined> {
    const mode = modes[type] ?? 'scan'
    if (cursor === undefined || mode === 'scan') return {}
    const since = new Date(Date.parse(cursor) - OVERLAP_MS[mode]).toISOString().replace(/\.\d+Z$/, 'Z')
    if (mode === 'modified-since') return { modified_since: since, sort_on: 'modified' }
    return { 'modified.query:record:date': since, 'modified.range:record': 'min' }
  }

  return {
    get modes () { return modes },

    async detect () {
      const future = '2999-01-01T00:00:00'
      for (const t of deps.types) {
        let all: number
        try {
          all = await count(t.type, {})
        } catch (err) {
          // a type this site does not have (an add-on's, or an older version): not replicated here
          if (err instanceof SenaiteApiError && !err.retryable) { modes[t.type] = 'absent'; continue }
          throw err
        }
        if (all === 0) { modes[t.type] = 'scan'; continue }
        if (await count(t.type, { modified_since: future }) === 0) modes[t.type] = 'modified-since'
        else if (await count(t.type, { 'modified.query:record:date': future, 'modified.range:record': 'min' }) === 0) modes[t.type] = 'modified-range'
        else modes[t.type] = 'scan'
      }
      log.info({ modes }, 'SENAITE change detection per type')
      return modes
    },

    async poll () {
      // a poll starts between pulls: children a batch's workflow moved may come in the pull's next batch
      if (!context.pullsIdle()) return { deferred: true, scanned: 0, recorded: 0 }
      await deps.writer.idle()
      const since = deps.writer.generation
      const cursorOf = await loadCursors()
      // 1. which objects changed, and their parents: uids only (catalog metadata), so a poll
      //    of a large site — the first one reads it all — never holds its items whole
      const seen = new Set<string>()
      const parentOf = new Map<string, string>()
      for (const info of deps.types) {
        if (modes[info.type] === 'absent') continue
        for await (const brain of list(info.type, queryFor(info.type, cursorOf[info.type]), false)) {
          seen.add(brain.uid as string)
          if (typeof brain.parent_uid === 'string' && brain.parent_uid !== '') parentOf.set(brain.uid as string, brain.parent_uid)
        }
      }
      // objects first seen here are ours: their SENAITE uid is their mesh uid
      const meshUidOf = (uid: string): string | undefined => mapping.mesh(uid) ?? (seen.has(uid) ? uid : undefined)
      // an object does not need its own children to exist first (a sample's Analyses are inside it)
      const childrenOf = new Map<string, Set<string>>()
      for (const [uid, parentUid] of parentOf) {
        const parent = meshUidOf(parentUid)
        const child = meshUidOf(uid)
        if (parent !== undefined && child !== undefined) {
          if (!childrenOf.has(parent)) childrenOf.set(parent, new Set())
          childrenOf.get(parent)!.add(child)
        }
      }
      parentOf.clear()
      /** whether one of our writes since the poll began may have changed this item; undefined: cannot tell */
      const touched = (item: Record<string, unknown>): boolean | undefined => {
        const t = deps.writer.touchedSince(since)
        if (t === undefined) return undefined
        const uid = item.uid as string
        return t.written.has(uid) || t.parents.has(uid) || (typeof item.parent_uid === 'string' && t.written.has(item.parent_uid))
      }
      const heldBack = new Set<string>() // types with an item left to the next poll: their cursors stay
      const newest: Record<string, string> = {}
      let scanned = 0
      let recorded = 0
      // 2. the changed objects whole, a page at a time, type by type (dependency order)
      for (const info of deps.types) {
        if (modes[info.type] === 'absent') continue
        for await (const item of list(info.type, queryFor(info.type, cursorOf[info.type]), true)) {
          scanned++
          const modified = typeof item.modified === 'string' ? item.modified : undefined
          if (modified !== undefined && (newest[info.type] === undefined || Date.parse(modified) > Date.parse(newest[info.type]!))) newest[info.type] = modified
          let maybeOurs = touched(item)
          if (maybeOurs === undefined) {
            // a batch is being written: what it touches is known once it ends
            await deps.writer.idle()
            maybeOurs = touched(item)
            if (maybeOurs === undefined) return { deferred: true, scanned, recorded } // more batches than the writer remembers
          }
          const senaiteUid = item.uid as string
          seen.add(senaiteUid) // created since step 1
          const known = mapping.mesh(senaiteUid)
          const meshUid = known ?? senaiteUid
          const translated = itemToData(item, { meshUidOf })
          const hash = contentHash(translated, info.type)
          // unchanged, or the echo of our own write — touched or not, nothing to record nor to hold back
          if (mapping.hash(meshUid) === hash) continue
          if (maybeOurs) { heldBack.add(info.type); continue }
          const children = childrenOf.get(meshUid)
          const read = children === undefined ? translated : { ...translated, refs: translated.refs.filter((r) => !children.has(r)) }
          if (tooLarge.get(meshUid) === hash) continue // too large, and not edited since
          const rows: ConnectorRow[] = [{ space: HASH_SPACE, key: meshUid, value: hash }]
          const ref = { uid: senaiteUid, path: String(item.path ?? ''), id: String(item.id ?? '') }
          if (known === undefined) rows.push({ space: MAP_SPACE, key: meshUid, value: ref })
          // an object that came from another lab keeps its mesh id (SENAITE gave it its own)
          const id = known !== undefined && known !== senaiteUid ? ((await store.getObject(meshUid))?.id ?? ref.id) : ref.id
          // checked again inside the store transaction: no write of ours may have touched it since we read it
          const stored = await recordChange({ uid: meshUid, type: info.type, id, parent: read.parent, refs: read.refs, data: read.data, deleted: false }, hash, rows, () => touched(item) === false)
          if (stored === 'too-large') continue
          if (stored === undefined && touched(item) !== false) { heldBack.add(info.type); continue } // refused by the check: next poll
          if (known === undefined) mapping.set(meshUid, ref)
          if (stored !== undefined) {
            mapping.setHash(meshUid, hash)
            recorded++
          }
        }
      }
      // users, registry records and settings: few, read whole each cycle, compared by hash
      for (const record of await readSiteRecords(client, deps.pageSize)) {
        const hash = contentHash({ parent: null, refs: [], data: record.data }, record.type)
        if (mapping.hash(record.uid) === hash || tooLarge.get(record.uid) === hash) continue
        // the writer never writes these (the JSON API cannot): nothing of ours can have touched them
        const stored = await recordChange({ uid: record.uid, type: record.type, id: record.id, parent: null, refs: [], data: record.data, deleted: false }, hash, [{ space: HASH_SPACE, key: record.uid, value: hash }], () => true)
        if (stored !== undefined && stored !== 'too-large') { mapping.setHash(record.uid, hash); recorded++ }
      }
      // 3. advance the cursors
      const updates = Object.entries(newest).filter(([type, iso]) => !heldBack.has(type) && (cursorOf[type] === undefined || Date.parse(iso) > Date.parse(cursorOf[type]!)))
      if (updates.length > 0) {
        await store.write((tx) => { for (const [type, iso] of updates) tx.putAux(POLL_SPACE, type, iso) })
        for (const [type, iso] of updates) cursorOf[type] = iso
      }
      if (recorded > 0) log.info({ scanned, recorded }, 'SENAITE poll: local edits recorded')
      return { deferred: false, scanned, recorded }
    }
  }
}
