/**
 * The failed queue's retrier. A parked object is retried when its backoff
 * expires, at once when a dependency it waits for arrives (any commit may
 * bring it; a blob arriving calls nudge()), and on demand (POST
 * /api/failed/:uid/retry). A retry goes through the normal apply path, so it
 * either applies whole or is parked again with one more attempt and a longer
 * backoff — never written half-made. A MISSING_BLOB entry waits for blobs
 * (its `missing` are hashes), any other for objects (uids).
 */
import type { Store, FailedEntry } from '../../store/types.js'
import { describeError } from '../../protocol/errors.js'
import { NotFoundError } from '../errors.js'
import type { Logger } from '../runtime/logger.js'
import type { WireObject } from '../../protocol/object.js'
import type { ApplyStats } from './apply-remote.js'
import type { BlobAccess } from './blob-access.js'

/** How often the queue is checked for expired backoffs. */
const SCAN_INTERVAL_MS = 1000
/** After a commit (which may bring a dependency), how soon the queue is checked: commits of a pull come in bursts. */
const COMMIT_SCAN_DELAY_MS = 100
/** entries read per page of a scan: the whole queue is scanned, a page at a time */
const SCAN_PAGE = 500

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
  let after: string | undefined
  while (!stopped()) {
    const page = await store.listFailed({ limit: SCAN_PAGE, ...(after !== undefined ? { after } : {}) })
    for (const entry of page) {
      if (stopped()) return
      const due = entry.nextRetryAt <= now
      const unblocked = !due && entry.missing.length > 0 && await dependenciesHere(deps, entry)
      if (due || unblocked) await attempt(deps, entry)
    }
    if (page.length < SCAN_PAGE) return
    after = page[page.length - 1]!.uid
  }
}
