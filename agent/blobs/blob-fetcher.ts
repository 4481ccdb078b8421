/**
 * The agent's blob fetches: what the apply path asks for (objects parked as
 * MISSING_BLOB), fetched from the peer that sent the object, at most
 * MAX_BLOB_FETCHES at a time and each blob at most once at a time.
 *
 * A transfer that is cut (the link, the peer, a bad frame) resumes from its
 * partial file after a backoff, up to MAX_ATTEMPTS times in a row; one that
 * the peer refuses (not there, not for us) or whose bytes do not match
 * their hash ends, and the parked object's own retries ask again later.
 * After a restart, start() resumes every partial fetch whose peer is still
 * configured (the partial's progress names it). Progress — bytes, percent,
 * rate, ETA — goes to the status (peerStatus), the events and, every few
 * seconds, the log.
 */
import type { Stream } from '@libp2p/interface'
import type { BlobRef } from '../../protocol/blob-ref.js'
import { describeError } from '../../protocol/errors.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'
import { BlobMismatchError } from '../../store/errors.js'
import type { BlobAccess } from '../apply/blob-access.js'
import { Backoff } from '../runtime/backoff.js'
import type { Logger } from '../runtime/logger.js'
import { BlobUnavailableError, fetchBlob } from './blob-fetch.js'
import { formatTransfer, type BlobTransferStatus } from './blob-status.js'

/** transfers under way at once (each holds at most one window of memory) */
export const MAX_BLOB_FETCHES = 3
/** cut attempts in a row before a transfer waits for its object's next retry */
const MAX_ATTEMPTS = 8
/** how often a transfer's progress becomes an event (the status page's bars) */
const EVENT_EVERY_MS = 500

export interface BlobFetchCounters {
  fetched: number
  bytesFetched: number
  refused: number
}

export interface BlobFetcherDeps {
  readonly blobs: BlobStore
  /** open a blob-protocol stream to the configured peer of this name */
  readonly open: (peerName: string, signal: AbortSignal) => Promise<Stream>
  /** names of the configured peers: a partial fetch from another is left alone */
  readonly peers: readonly string[]
  /** the counters of one peer (kept by the blob service, with what is served to it) */
  readonly counters: (peerName: string) => BlobFetchCounters
  readonly log: Logger
  readonly now: () => number
  /** a transfer moved on, or ended (fetched, or given up for now) */
  readonly onTransfer?: (peer: string, transfer: BlobTransferStatus, state: 'progress' | 'done' | 'failed') => void
  /** ms between progress log lines of one transfer (default 3000) */
  readonly progressLogMs?: number
}

export interface BlobFetcher extends BlobAccess {
  /** resume the fetches a restart interrupted */
  start (): Promise<void>
  stop (): Promise<void>
  /** the transfers from this peer under way */
  transfers (peerName: string): BlobTransferStatus[]
}

interface Job {
  readonly ref: BlobRef
  readonly peer: string
  state: BlobTransferStatus['state']
  done: number
  resumedFrom: number
  attempts: number
  /** when the current attempt started, and the bytes here then */
  startedAt: number
  lastLog: number
  lastEvent: number
}

export function createBlobFetcher (deps: BlobFetcherDeps): BlobFetcher {
  const { blobs, log, now } = deps
  const jobs = new Map<string, Job>()
  const running = new Set<Promise<void>>()
  let controller: AbortController | undefined

  const status = (job: Job): BlobTransferStatus => {
    const elapsed = (now() - job.startedAt) / 1000
    const rate = job.state === 'fetching' && elapsed > 0 ? (job.done - job.resumedFrom) / elapsed : 0
    const size = job.ref.size
    return {
      hash: job.ref.blob,
      name: job.ref.name,
      size,
      done: job.done,
      percent: size > 0 ? Math.floor(job.done / size * 1000) / 10 : 100,
      rate: Math.round(rate),
      etaSeconds: rate > 0 ? Math.ceil((size - job.done) / rate) : undefined,
      resumedFrom: job.resumedFrom,
      state: job.state,
      attempts: job.attempts
    }
  }

  const progressed = (job: Job, written: number): void => {
    job.done = written
    const t = now()
    if (t - job.lastEvent >= EVENT_EVERY_MS) {
      job.lastEvent = t
      deps.onTransfer?.(job.peer, status(job), 'progress')
    }
    if (t - job.lastLog >= (deps.progressLogMs ?? 3000)) {
      job.lastLog = t
      log.info({ peer: job.peer, hash: job.ref.blob, done: job.done, size: job.ref.size }, `fetching ${formatTransfer(status(job))}`)
    }
  }

  /** One attempt; true when the job is over (fetched, refused, or not to be had from this peer now). */
  const attempt = async (job: Job, signal: AbortSignal): Promise<boolean> => {
    const { ref, peer } = job
    if (await blobs.has(ref.blob)) return true
    const partial = await blobs.partial(ref.blob, ref.size, { peer, ...(ref.name !== undefined ? { name: ref.name } : {}) })
    try {
      job.attempts++
      job.state = 'fetching'
      job.resumedFrom = job.done = partial.have
      job.startedAt = job.lastLog = now()
      if (partial.have > 0) log.info({ peer, hash: ref.blob, offset: partial.have, size: ref.size }, `resuming blob fetch at byte ${partial.have} of ${ref.size}`)
      const stream = await deps.open(peer, signal)
      const { received } = await fetchBlob({ stream, peerName: peer, partial, onProgress: (w) => progressed(job, w) })
      const counters = deps.counters(peer)
      counters.fetched++
      counters.bytesFetched += received
      const seconds = (now() - job.startedAt) / 1000
      log.info({ peer, hash: ref.blob, size: ref.size, received, resumedFrom: job.resumedFrom, seconds, mibPerSecond: seconds > 0 ? Math.round(received / 1048576 / seconds * 10) / 10 : undefined }, `fetched blob ${ref.blob} (${ref.size} bytes) from peer ${peer}`)
      deps.onTransfer?.(peer, { ...status(job), done: ref.size, percent: 100, etaSeconds: 0 }, 'done')
      return true
    } catch (err) {
      await partial.close().catch(() => {})
      if (signal.aborted) return true
      if (err instanceof BlobMismatchError) {
        deps.counters(peer).refused++
        log.warn({ peer, hash: ref.blob, actual: err.actual }, `refused blob ${ref.blob} from peer ${peer}: its bytes hash to ${err.actual}; nothing of it was kept`)
      } else if (err instanceof BlobUnavailableError) {
        log.info({ peer, hash: ref.blob, code: err.code }, `peer ${peer} cannot give blob ${ref.blob} now (${err.message}); the object that references it stays parked and asks again at its next retry`)
      } else if (job.attempts < MAX_ATTEMPTS) {
        log.info({ peer, hash: ref.blob, err: describeError(err), at: partial.have }, `blob fetch from peer ${peer} was cut at byte ${partial.have}: resuming`)
        return false
      } else {
        log.warn({ peer, hash: ref.blob, err: describeError(err) }, `blob fetch from peer ${peer} failed ${job.attempts} times; the object that references it asks again at its next retry`)
      }
      deps.onTransfer?.(peer, status(job), 'failed')
      return true
    }
  }

  const run = async (job: Job, signal: AbortSignal): Promise<void> => {
    const backoff = new Backoff()
    try {
      while (!signal.aborted && !await attempt(job, signal)) {
        job.state = 'retrying'
        await backoff.wait(signal)
      }
    } catch (err) {
      log.warn({ peer: job.peer, hash: job.ref.blob, err: describeError(err) }, 'blob fetch failed')
    } finally {
      jobs.delete(job.ref.blob)
    }
  }

  const pump = (): void => {
    const signal = controller?.signal
    if (signal === undefined) return
    for (const job of jobs.values()) {
      if (running.size >= MAX_BLOB_FETCHES) return
      if (job.state !== 'queued') continue
      job.state = 'fetching'
      const done = run(job, signal).finally(() => { running.delete(done); pump() })
      running.add(done)
    }
  }

  const request = (peer: string, refs: readonly BlobRef[]): void => {
    for (const ref of refs) {
      if (jobs.has(ref.blob)) continue
      jobs.set(ref.blob, { ref, peer, state: 'queued', done: 0, resumedFrom: 0, attempts: 0, startedAt: now(), lastLog: 0, lastEvent: 0 })
    }
    pump()
  }

  return {
    async sizes (hashes) {
      return await Promise.all(hashes.map(async (h) => (await blobs.stat(h))?.size))
    },

    request,

    async start () {
      if (controller !== undefined) return
      controller = new AbortController()
      for (const p of await blobs.partials()) {
        const peer = p.meta.peer
        if (typeof peer !== 'string' || !deps.peers.includes(peer)) continue
        const name = typeof p.meta.name === 'string' ? p.meta.name : undefined
        request(peer, [{ blob: p.hash, size: p.size, ...(name !== undefined ? { name } : {}) }])
      }
      pump()
    },

    async stop () {
      controller?.abort()
      controller = undefined
      await Promise.allSettled([...running])
      jobs.clear()
    },

    transfers (peerName) {
      return [...jobs.values()].filter((j) => j.peer === peerName).map(status)
    }
  }
}
