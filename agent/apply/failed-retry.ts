/**
 * The failed queue's retrier. A parked object is retried when its backoff
 * expires, at once when a dependency it waits for arrives (any commit may
 * bring it; a blob arriving calls nudge()), and on demand: one object (POST
 * /api/failed/:uid/retry) or a whole group of one reason code (POST
 * /api/failed/groups/:code/retry, in batches per peer, with progress in the
 * log). A retry goes through the normal apply path, so it either applies
 * whole or is parked again with one more attempt and a longer backoff —
 * never written half-made. A MISSING_BLOB entry waits for blobs (its
 * `missing` are hashes), any other for objects (uids).
 */
import type { Store, FailedEntry } from '../../store/types.js'
import { describeError } from '../../protocol/errors.js'
import { NotFoundError } from '../errors.js'
import type { Logger } from '../runtime/logger.js'
import type { WireObject } from '../../protocol/object.js'
import type { ApplyStats } from './apply-remote.js'
import type { BlobAccess } from './blob-access.js'
import { failedEntries } from './failed-summary.js'

/** How often the queue is checked for expired backoffs. */
const SCAN_INTERVAL_MS = 1000
/** After a commit (which may bring a dependency), how soon the queue is checked: commits of a pull come in bursts. */
const COMMIT_SCAN_DELAY_MS = 100
/** objects fetched and applied together when a group is retried */
const GROUP_CHUNK = 200
/** how often a long group retry logs its progress */
const PROGRESS_LOG_MS = 3000

/** What retrying a group did. */
export interface GroupRetryResult {
  readonly code: string
  /** objects of the group when the retry began */
  readonly retried: number
  /** of those, no longer parked */
  readonly applied: number
  /** still parked (for this or another reason) */
  readonly parked: number
}

/** What the retrier needs from the sessions with peers (the replicator has it). */
export interface PeerAccess {
  /** a pull session with this peer is open, so objects can be fetched from it */
  sessionOpen (peerName: string): boolean
  fetchFrom (peerName: string, uids: readonly string[]): Promise<{ objects: WireObject[], missing: string[] }>
  /** apply versions from this peer through the normal apply path, without moving its checkpoint */
  applyFrom (peerName: string, changes: readonly WireObject[]): Promise<ApplyStats>
}

export interface FailedRetrierDeps {
  readonly store: Store
  readonly peers: PeerAccess
  readonly log: Logger
  readonly now: () => number
  /** which blobs are here (MISSING_BLOB entries wait for them) */
  readonly blobs: Pick<BlobAccess, 'sizes'>
}

export interface FailedRetrier {
  start (): void
  stop (): Promise<void>
  /** something an entry may wait for arrived outside the store (a blob): scan soon */
  nudge (): void
  /** retry one parked object now; resolves with whether it left the queue */
  retry (uid: string): Promise<{ applied: boolean, entry: FailedEntry | undefined }>
  /** retry every object parked with this code now */
  retryGroup (code: string): Promise<GroupRetryResult>
}

export function createFailedRetrier (deps: FailedRetrierDeps): FailedRetrier {
  const { store, peers, log } = deps
  let timer: NodeJS.Timeout | undefined
  let unsubscribe: (() => void) | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = true
  let soon: NodeJS.Timeout | undefined

  function kick (): void {
    if (stopped) return
    if (running !== undefined) { again = true; return }
    running = scan(deps, () => stopped).catch((err: unknown) => { log.warn({ err: describeError(err) }, 'failed-queue scan failed') }).finally(() => {
      running = undefined
      if (again) { again = false; kick() }
    })
  }

  function nudge (): void {
    if (store.info().failed === 0 || soon !== undefined || stopped) return
    soon = setTimeout(() => { soon = undefined; kick() }, COMMIT_SCAN_DELAY_MS)
  }

  return {
    start () {
      if (!stopped) return
      stopped = false
      timer = setInterval(kick, SCAN_INTERVAL_MS)
      // a commit may have brought a dependency someone waits for
      unsubscribe = store.onCommit(nudge)
    },

    nudge,

    async stop () {
      stopped = true
      if (timer !== undefined) clearInterval(timer)
      if (soon !== undefined) clearTimeout(soon)
      soon = undefined
      unsubscribe?.()
      await running
    },

    async retry (uid) {
      const entry = await store.getFailed(uid)
      if (entry === undefined) throw new NotFoundError(`object ${uid} is not in the failed queue`)
      if (!peers.sessionOpen(entry.peer)) {
        if (!await dependenciesHere(deps, entry)) throw new NotFoundError(`peer "${entry.peer}" is not connected and ${entry.uid} still misses ${entry.missing.join(', ')}: retry once the peer is up`)
      }
      await attempt(deps, entry)
      const after = await store.getFailed(uid)
      return { applied: after === undefined, entry: after }
    },

    async retryGroup (code) {
      return await retryGroup(deps, code)
    }
  }
}

/** Whether everything this entry waits for is here now: objects (read as presence, not whole), or blobs. */
async function dependenciesHere (deps: FailedRetrierDeps, entry: FailedEntry): Promise<boolean> {
  if (entry.missing.length === 0) return true
  if (entry.code === 'MISSING_BLOB') return (await deps.blobs.sizes(entry.missing)).every((s) => s !== undefined)
  return (await deps.store.holds(entry.missing)).every(Boolean)
}

/** Retry one entry: fetched afresh when its peer is connected, else its parked version once its dependencies are here. */
async function attempt (deps: FailedRetrierDeps, entry: FailedEntry): Promise<void> {
  const { peers, log } = deps
  const depsHere = await dependenciesHere(deps, entry)
  const connected = peers.sessionOpen(entry.peer)
  if (!connected && !depsHere) return // wait for the peer: nothing else could help
  try {
    const fresh = connected ? (await peers.fetchFrom(entry.peer, [entry.uid])).objects : []
    await peers.applyFrom(entry.peer, fresh.length > 0 ? fresh : [entry.version])
  } catch (err) {
    log.debug({ uid: entry.uid, err: describeError(err) }, 'retry of a parked object could not run')
  }
}

/** One pass over the whole queue, page by page (never only its first page: that would starve the rest), until `stopped`. */
async function scan (deps: FailedRetrierDeps, stopped: () => boolean): Promise<void> {
  const { store } = deps
  if (store.info().failed === 0) return
  const now = deps.now()
  for await (const entry of failedEntries(store)) {
    if (stopped()) return
    const due = entry.nextRetryAt <= now
    const unblocked = !due && entry.missing.length > 0 && await dependenciesHere(deps, entry)
    if (due || unblocked) await attempt(deps, entry)
  }
}

/** Retry every entry with `code`: per peer, GROUP_CHUNK at a time, fetched afresh when the peer is connected. */
async function retryGroup (deps: FailedRetrierDeps, code: string): Promise<GroupRetryResult> {
  const { store, log } = deps
  const byPeer = new Map<string, string[]>()
  let total = 0
  for await (const entry of failedEntries(store)) {
    if (entry.code !== code) continue
    const list = byPeer.get(entry.peer) ?? []
    list.push(entry.uid)
    byPeer.set(entry.peer, list)
    total++
  }
  if (total === 0) throw new NotFoundError(`no object in the failed queue has code ${code} (GET /api/failed/summary lists the codes)`)
  const began = deps.now()
  let done = 0
  let logged = began
  for (const [peer, uids] of byPeer) {
    for (let i = 0; i < uids.length; i += GROUP_CHUNK) {
      await attemptMany(deps, peer, uids.slice(i, i + GROUP_CHUNK))
      done += Math.min(GROUP_CHUNK, uids.length - i)
      const now = deps.now()
      if (now - logged >= PROGRESS_LOG_MS && done < total) {
        logged = now
        const eta = Math.ceil((now - began) / done * (total - done) / 1000)
        log.info({ code, done, total }, `retrying failed group ${code}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${Math.floor(done / total * 100)}%), ETA ${eta} s`)
      }
    }
  }
  let parked = 0
  for (const uids of byPeer.values()) for (const uid of uids) if (await store.getFailed(uid) !== undefined) parked++
  log.info({ code, retried: total, applied: total - parked, parked }, `retried failed group ${code}: ${total - parked} of ${total} applied, ${parked} still parked`)
  return { code, retried: total, applied: total - parked, parked }
}

/** One chunk of a group from one peer: fetched afresh when it is connected, else the parked versions whose dependencies are here. */
async function attemptMany (deps: FailedRetrierDeps, peer: string, uids: readonly string[]): Promise<void> {
  const { store, peers, log } = deps
  const entries: FailedEntry[] = []
  for (const uid of uids) {
    const entry = await store.getFailed(uid)
    if (entry !== undefined) entries.push(entry)
  }
  if (entries.length === 0) return // applied meanwhile (a commit brought what they waited for)
  try {
    const fresh = peers.sessionOpen(peer) ? (await peers.fetchFrom(peer, entries.map((e) => e.uid))).objects : []
    const fetched = new Set(fresh.map((o) => o.uid))
    const versions = [...fresh]
    for (const entry of entries) if (!fetched.has(entry.uid) && await dependenciesHere(deps, entry)) versions.push(entry.version)
    if (versions.length > 0) await peers.applyFrom(peer, versions)
  } catch (err) {
    log.debug({ peer, objects: entries.length, err: describeError(err) }, 'retry of parked objects could not run')
  }
}
