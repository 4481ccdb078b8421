/**
 * Writing remote versions into a SENAITE site through its JSON API: one
 * object per request (the API refuses lists), parents before children,
 * create-then-patch for references to objects not there yet (cycles),
 * workflow reached by replaying transitions, deletes as deactivation (or
 * cancellation). Each object's outcome is reported on its own.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { ConnectorRows, RemoteWrite, RemoteWriteResult } from '../connector.js'
import { ConnectorError } from '../../errors.js'
import type { Logger } from '../../runtime/logger.js'
import type { SenaiteClient } from './client.js'
import { canonicalJson, contentHash, itemToData, versionToFields } from './convert.js'
import { HASH_SPACE, MAP_SPACE, PATCH_SPACE, type LocalRef, type Mapping } from './mapping.js'
import { portalType, resourceOf, type Layout } from './portal-types.js'
import { isSiteRecordType, unwritableReason } from './site-records.js'
import { transitionsTo, type HistoryEntry } from './workflow.js'

interface Envelope { items?: Array<Record<string, unknown>>, count?: number }

/** The flags the poller reads with: hashes must be computed on the same view. */
export const READ_FLAGS = { complete: 'yes', workflow: 'yes', filedata: 'yes' } as const

export interface WriterDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly layout: Layout
  /** the portal path, e.g. /senaite */
  readonly portalPath: string
  readonly log: Logger
  /** versions still waiting for reference targets, as persisted (PATCH_SPACE) by an earlier run */
  readonly awaiting?: ReadonlyArray<readonly [string, AwaitingPatch]>
}

/** A version written without some references, kept until their targets exist here (PATCH_SPACE rows). */
export interface AwaitingPatch {
  readonly next: ObjectVersion
  /** how many of its references were left out at the last attempt */
  readonly deferred: number
}

export interface Writer {
  write (writes: readonly RemoteWrite[], rows: ConnectorRows | undefined): Promise<RemoteWriteResult[]>
  readonly written: number
  /** odd while a batch is being written; changes with every batch (the poller's staleness check) */
  readonly generation: number
  /**
   * The SENAITE uids that batches finished after `generation` wrote to
   * (objects, their parents, objects created), or undefined when that cannot
   * be told: a batch is being written, or the log no longer reaches back.
   */
  touchedSince (generation: number): Touched | undefined
  /** resolves once no batch is being written */
  idle (): Promise<void>
}

/** How many finished batches' touched uids the writer remembers for the poller. */
const TOUCHED_LOG_BATCHES = 256
/**
 * What batches wrote to in the site, by SENAITE uid: the objects themselves
 * (written or created) and their parents (which workflow cascades move). An
 * object is touched when it is in either set, or its parent was written
 * (cascades move children) — not when only a sibling was written.
 */
export interface Touched {
  readonly written: ReadonlySet<string>
  readonly parents: ReadonlySet<string>
}
const NOTHING_TOUCHED: Touched = { written: new Set(), parents: new Set() }

export function createWriter (deps: WriterDeps): Writer {
  const { client, mapping } = deps
  const containers = new Map<string, string>()
  let written = 0
  let generation = 0
  /** SENAITE uids the batch being written touches; then, per finished batch, logged with the generation it ended at */
  let touching = { written: new Set<string>(), parents: new Set<string>() }
  const touchedLog: Array<{ generation: number, touched: Touched }> = []
  const touch = (localUid: string | undefined, as: 'written' | 'parents' = 'written'): void => { if (localUid !== undefined) touching[as].add(localUid) }
  /** the union for the last `since` asked (a poll asks for the same one per item): extended, not rebuilt */
  let union: { since: number, upTo: number, written: Set<string>, parents: Set<string> } | undefined
  /** batches queued or being written, and the end of the last one */
  let queued = 0
  let tail: Promise<void> = Promise.resolve()
  /**
   * versions written with references left out because their targets were not
   * here yet; persisted as PATCH_SPACE rows in the transaction of the batch
   * that changed them, so a restart still patches them
   */
  const awaitingTargets = new Map<string, { write: RemoteWrite, deferred: number }>(
    (deps.awaiting ?? []).map(([uid, a]) => [uid, { write: { previous: undefined, next: a.next }, deferred: a.deferred }]))
  const awaitPatch = (uid: string, write: RemoteWrite, deferred: number, rows: ConnectorRows | undefined): void => {
    awaitingTargets.set(uid, { write, deferred })
    rows?.put(PATCH_SPACE, uid, { next: write.next, deferred } satisfies AwaitingPatch)
  }
  const patched = (uid: string, rows: ConnectorRows | undefined): void => {
    awaitingTargets.delete(uid)
    rows?.delete(PATCH_SPACE, uid)
  }
  /** per written object, the fields this batch sent (what the read-back must show) */
  const sentKeys = new Map<string, string[]>()

  async function containerUid (path: string): Promise<string> {
    const cached = containers.get(path)
    if (cached !== undefined) return cached
    const full = `${deps.portalPath}/${path}`
    const found = await client.get<Envelope>('search', { path: full, depth: 0, limit: 1 })
    const uid = found.items?.[0]?.uid
    if (typeof uid !== 'string') throw new ConnectorError(`container ${full} does not exist in this site: check instance.layout (${deps.layout})`, false)
    containers.set(path, uid)
    return uid
  }

  /** The complete current record of an object, with workflow (for state and the echo hash). */
  async function readBack (uid: string): Promise<Record<string, unknown>> {
    return await client.get<Record<string, unknown>>(uid, READ_FLAGS)
  }

  /**
   * After a batch: remember what the site now shows for every object written
   * and for their parents, with the batch's final uid mapping. Cascades our
   * writes set off (a sample moved by its analyses) are then not mistaken
   * for local edits, and references to objects written later in the batch
   * resolve the way the poller will resolve them.
   */
  async function refreshHashes (meshUids: Iterable<string>, written: ReadonlyMap<string, ObjectVersion>, rows: ConnectorRows | undefined): Promise<void> {
    await Promise.all([...new Set(meshUids)].map(async (mesh) => {
      const local = mapping.local(mesh)?.uid ?? (isOwn(mesh) ? mesh : undefined)
      if (local === undefined) return
      try {
        const item = await readBack(local)
        const type = typeof item.portal_type === 'string' ? item.portal_type : ''
        const read = itemToData(item, { meshUidOf })
        const version = written.get(mesh)
        // someone edited the object between our write and this read: leave it to the poller
        if (version !== undefined && !showsWhatWeWrote(read.data, version, sentKeys.get(mesh) ?? [])) return
        const hash = contentHash(read, type)
        mapping.setHash(mesh, hash)
        rows?.put(HASH_SPACE, mesh, hash)
      } catch (err) {
        deps.log.debug({ uid: mesh, err: (err as Error).message }, 'could not refresh the content hash after a write')
      }
    }))
  }

  const meshUidOf = (uid: string): string | undefined => mapping.mesh(uid)
  const localUidOf = (mesh: string): string | undefined => mapping.local(mesh)?.uid

  async function create (version: ObjectVersion, fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    const info = portalType(version.type)
    let container: string
    if (version.parent !== null && localUidOf(version.parent) !== undefined) container = localUidOf(version.parent)!
    else if (info?.container !== undefined) container = await containerUid(info.container[deps.layout])
    else throw new ConnectorError(`${version.type} ${version.id} needs its parent ${version.parent ?? '(none)'} in this site first`, true)
    if (info?.adoptById === true) {
      // created with its parent (analyses of a sample): take the one SENAITE made
      const siblings = await client.get<Envelope>(resourceOf(version.type), { path: `${await pathOf(container)}`, depth: 1, limit: 1000 })
      const match = siblings.items?.find((i) => i.id === version.id || i.getKeyword === version.data.Keyword)
      if (match !== undefined) return match
    }
    const created = await client.post<Envelope>(`${resourceOf(version.type)}/create/${container}`, { portal_type: version.type, ...fields })
    const item = created.items?.[0]
    if (item === undefined || typeof item.uid !== 'string') throw new ConnectorError(`SENAITE created no ${version.type} for ${version.id}`, false)
    return item
  }

  async function pathOf (uid: string): Promise<string> {
    const item = await client.get<Record<string, unknown>>(uid)
    return String(item.path ?? '')
  }

  /** write one version; `deferred` when some reference could not be set yet */
  async function writeOne (w: RemoteWrite, rows: ConnectorRows | undefined): Promise<{ result: RemoteWriteResult, deferred: boolean }> {
    const version = w.next
    if (isSiteRecordType(version.type)) return { result: { ok: false, code: 'SENAITE_UNSUPPORTED', reason: unwritableReason(version.type), retryable: false }, deferred: false }
    const existing = mapping.local(version.uid) ?? (isOwn(version.uid) ? { uid: version.uid, path: '', id: version.id } : undefined)
    // what this write may change in the site, workflow cascades included (parent ↔ children; the poller checks children by their parent)
    touch(existing?.uid)
    if (version.parent !== null) touch(localUidOf(version.parent) ?? (isOwn(version.parent) ? version.parent : undefined), 'parents')
    try {
      if (version.deleted) {
        if (existing !== undefined) await retire(existing.uid, version.type)
        return { result: { ok: true }, deferred: false }
      }
      const payload = versionToFields(version, { localUidOf: (m) => localUidOf(m) ?? (isOwn(m) ? m : undefined) }, existing !== undefined ? w.previous : undefined)
      if (payload.uncleared.length > 0) {
        deps.log.warn({ uid: version.uid, type: version.type, id: version.id, fields: payload.uncleared }, 'fields emptied on another site cannot be emptied here: SENAITE\'s JSON API cannot clear a single reference; clear them in SENAITE by hand')
      }
      let item: Record<string, unknown>
      sentKeys.set(version.uid, Object.keys(payload.fields))
      if (existing !== undefined) {
        item = Object.keys(payload.fields).length > 0
          ? (await client.post<Envelope>(`update/${existing.uid}`, payload.fields)).items?.[0] ?? await readBack(existing.uid)
          : await readBack(existing.uid)
      } else {
        item = await create(version, payload.fields)
        touch(item.uid as string)
        const ref: LocalRef = { uid: item.uid as string, path: String(item.path ?? ''), id: String(item.id ?? '') }
        await mapping.journal(version.uid, ref)
        mapping.set(version.uid, ref)
        rows?.put(MAP_SPACE, version.uid, ref)
      }
      const localUid = item.uid as string
      const history = (Array.isArray(version.data.review_history) ? version.data.review_history : []) as HistoryEntry[]
      const actions = transitionsTo(item.review_state as string | undefined ?? stateOf(item), payload.reviewState, history)
      if (actions === undefined) {
        deps.log.warn({ uid: version.uid, from: stateOf(item), to: payload.reviewState }, 'no known transitions reach the target review state')
      } else {
        for (const action of actions) await client.post(`update/${localUid}`, { transition: action })
      }
      written++
      return { result: { ok: true }, deferred: payload.deferred.length > 0 }
    } catch (err) {
      const e = err as ConnectorError
      return { result: { ok: false, code: 'SENAITE_REFUSED', reason: e.message, retryable: e.retryable === true }, deferred: false }
    }
  }

  async function retire (uid: string, type: string): Promise<void> {
    if (portalType(type)?.deactivable !== false) {
      await client.post(`delete/${uid}`, {})
      return
    }
    // nothing is deleted in SENAITE: samples and analyses are cancelled instead
    await client.post(`update/${uid}`, { transition: 'cancel' })
  }

  function deferredCount (w: RemoteWrite): number {
    return versionToFields(w.next, { localUidOf: (m) => localUidOf(m) ?? (isOwn(m) ? m : undefined) }).deferred.length
  }

  /** a mesh uid that is a SENAITE uid we already know as ours */
  function isOwn (meshUid: string): boolean {
    return mapping.mesh(meshUid) === meshUid
  }

  return {
    get written () { return written },
    get generation () { return generation },

    async write (writes, rows) {
      // one batch at a time: a revert (from the poller, outside any store
      // transaction) may come while a pull's batch is being written, and the
      // generation's parity and the touched log describe one batch
      queued++
      const run = async (): Promise<RemoteWriteResult[]> => {
        generation++
        touching = { written: new Set(), parents: new Set() }
        try {
          return await writeBatch(writes, rows)
        } finally {
          generation++
          touchedLog.push({ generation, touched: touching })
          if (touchedLog.length > TOUCHED_LOG_BATCHES) touchedLog.shift()
        }
      }
      const result = tail.then(run, run)
      tail = result.then(() => {}, () => {})
      try {
        return await result
      } finally {
        queued--
      }
    },

    async idle () {
      while (queued > 0) await tail
    },

    touchedSince (since) {
      if (generation % 2 === 1) return undefined
      if (since === generation) return NOTHING_TOUCHED
      if (union === undefined || union.since !== since) union = { since, upTo: since, written: new Set(), parents: new Set() }
      // the first batch not merged yet ended at upTo + 2 (or + 1 from an odd start): it must still be in the log
      if (generation > union.upTo && (touchedLog.length === 0 || touchedLog[0]!.generation > union.upTo + 2)) return undefined
      for (const entry of touchedLog) {
        if (entry.generation <= union.upTo) continue
        for (const uid of entry.touched.written) union.written.add(uid)
        for (const uid of entry.touched.parents) union.parents.add(uid)
        union.upTo = entry.generation
      }
      return union
    }
  }

  async function writeBatch (writes: readonly RemoteWrite[], rows: ConnectorRows | undefined): Promise<RemoteWriteResult[]> {
    const results: RemoteWriteResult[] = new Array(writes.length)
    // parents and referenced objects first: level by level inside the batch
    const pending = new Map(writes.map((w, i) => [w.next.uid, i]))
    const needs = (i: number): string[] => {
      const v = writes[i]!.next
      return [...(v.parent !== null ? [v.parent] : []), ...v.refs].filter((u) => pending.has(u) && u !== v.uid)
    }
    const done = new Set<string>()
    const deferred: number[] = []
    let remaining = writes.map((_, i) => i)
    while (remaining.length > 0) {
      let level = remaining.filter((i) => needs(i).every((u) => done.has(u)))
      // a reference cycle: write those whose parent is there, patch the references afterwards
      if (level.length === 0) level = remaining.filter((i) => { const p = writes[i]!.next.parent; return p === null || done.has(p) || !pending.has(p) })
      if (level.length === 0) level = [remaining[0]!]
      const outcomes = await Promise.all(level.map(async (i) => await writeOne(writes[i]!, rows)))
      level.forEach((i, k) => {
        results[i] = outcomes[k]!.result
        if (outcomes[k]!.deferred) deferred.push(i)
        done.add(writes[i]!.next.uid)
      })
      const set = new Set(level)
      remaining = remaining.filter((i) => !set.has(i))
    }
    // create-then-patch: set the references whose targets exist now
    for (const i of deferred) {
      const again = await writeOne(writes[i]!, rows)
      results[i] = again.result
      if (again.deferred) awaitPatch(writes[i]!.next.uid, writes[i]!, deferredCount(writes[i]!), rows)
      else patched(writes[i]!.next.uid, rows)
    }
    // a version written whole in this batch supersedes what waited for it
    const deferredHere = new Set(deferred.map((i) => writes[i]!.next.uid))
    for (const w of writes) if (awaitingTargets.has(w.next.uid) && !deferredHere.has(w.next.uid)) patched(w.next.uid, rows)
    // references still waiting from earlier batches: patch once more of them can be set
    // (not from a revert, which has no transaction to record it in)
    for (const [uid, waiting] of rows === undefined ? [] : [...awaitingTargets]) {
      if (pending.has(uid)) continue // this batch carried a newer version: written (and deferred again if need be) above
      if (deferredCount(waiting.write) >= waiting.deferred) continue
      const again = await writeOne(waiting.write, rows)
      if (!again.deferred || !again.result.ok) patched(uid, rows)
      else awaitPatch(uid, waiting.write, deferredCount(waiting.write), rows)
    }
    const touched: string[] = []
    writes.forEach((w, i) => {
      if (!results[i]!.ok) return
      touched.push(w.next.uid)
      if (w.next.parent !== null) touched.push(w.next.parent)
    })
    await refreshHashes(touched, new Map(writes.filter((_, i) => results[i]!.ok).map((w) => [w.next.uid, w.next])), rows)
    sentKeys.clear()
    return results
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
    if (canonicalJson(value) !== canonicalJson(shown)) return false
  }
  return true
}

function stateOf (item: Record<string, unknown>): string | undefined {
  const wf = Array.isArray(item.workflow_info) ? item.workflow_info[0] as Record<string, unknown> | undefined : undefined
  return typeof wf?.review_state === 'string' ? wf.review_state : undefined
}
