/**
 * The failed queue's retrier. A parked object is retried when its backoff
 * expires, at once when a dependency it waits for arrives (any commit may
 * bring it), and on demand (POST /api/failed/:uid/retry). A retry goes through
 * the normal apply path, so it either applies whole or is parked again with
 * one more attempt and a longer backoff — never written half-made.
 */
import type { Store, FailedEntry } from '../store/types.js'
import { describeError, NotFoundError } from './errors.js'
import type { Logger } from './logger.js'
import type { Replicator } from './replicator.js'

/** How often the queue is checked for expired backoffs. */
const SCAN_INTERVAL_MS = 1000

export interface FailedRetrierDeps {
  readonly store: Store
  readonly replicator: Replicator
  readonly log: Logger
  readonly now: () => number
}

export interface FailedRetrier {
  start (): void
  stop (): Promise<void>
  /** retry one parked object now; resolves with whether it left the queue */
  retry (uid: string): Promise<{ applied: boolean, entry: FailedEntry | undefined }>
}

export function createFailedRetrier (deps: FailedRetrierDeps): FailedRetrier {
  const { store, replicator, log } = deps
  let timer: NodeJS.Timeout | undefined
  let unsubscribe: (() => void) | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = true

  async function attempt (entry: FailedEntry): Promise<void> {
    const missingHeld = entry.missing.length === 0 ? [] : await store.getObjects(entry.missing)
    const depsHere = missingHeld.every((o) => o !== undefined)
    const connected = replicator.peerStatus(entry.peer).sessionOpen
    if (!connected && !depsHere) return // wait for the peer: nothing else could help
    try {
      const fresh = connected ? (await replicator.fetchFrom(entry.peer, [entry.uid])).objects : []
      await replicator.applyFrom(entry.peer, fresh.length > 0 ? fresh : [entry.version])
    } catch (err) {
      log.debug({ uid: entry.uid, err: describeError(err) }, 'retry of a parked object could not run')
    }
  }

  async function scan (): Promise<void> {
    if (store.info().failed === 0) return
    const now = deps.now()
    for (const entry of await store.listFailed({ limit: 1000 })) {
      if (stopped) return
      const due = entry.nextRetryAt <= now
      const unblocked = entry.missing.length > 0 && (await store.getObjects(entry.missing)).every((o) => o !== undefined)
      if (due || unblocked) await attempt(entry)
    }
  }

  function kick (): void {
    if (stopped) return
    if (running !== undefined) { again = true; return }
    running = scan().catch((err: unknown) => { log.warn({ err: describeError(err) }, 'failed-queue scan failed') }).finally(() => {
      running = undefined
      if (again) { again = false; kick() }
    })
  }

  return {
    start () {
      if (!stopped) return
      stopped = false
      timer = setInterval(kick, SCAN_INTERVAL_MS)
      // a commit may have brought a dependency someone waits for
      unsubscribe = store.onCommit(() => { if (store.info().failed > 0) kick() })
    },

    async stop () {
      stopped = true
      if (timer !== undefined) clearInterval(timer)
      unsubscribe?.()
      await running
    },

    async retry (uid) {
      const entry = await store.getFailed(uid)
      if (entry === undefined) throw new NotFoundError(`object ${uid} is not in the failed queue`)
      if (!replicator.peerStatus(entry.peer).sessionOpen) {
        const deps = entry.missing.length === 0 ? [] : await store.getObjects(entry.missing)
        if (!deps.every((o) => o !== undefined)) throw new NotFoundError(`peer "${entry.peer}" is not connected and ${entry.uid} still misses ${entry.missing.join(', ')}: retry once the peer is up`)
      }
      await attempt(entry)
      const after = await store.getFailed(uid)
      return { applied: after === undefined, entry: after }
    }
  }
}
