/**
 * One blob job of the fetcher (blob-fetcher.ts): its attempts, one transfer
 * each (blob-fetch.ts), until the blob is here, refused, or not to be had
 * from its peer now; its status (bytes, percent, rate, ETA) and the events
 * and log lines that report it.
 *
 * A cut attempt (the link, the peer, a bad frame) is retried after a
 * backoff, resuming from the partial file, up to MAX_ATTEMPTS times in a
 * row; a refusal (the peer does not have it, or may not give it) or bytes
 * that do not match their hash end the job: the parked object's own
 * retries ask again later.
 */
import type { Stream } from '@libp2p/interface'
import type { BlobRef } from '../../protocol/blob-ref.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'
import type { Logger } from '../runtime/logger.js'
import { describeError } from '../../protocol/errors.js'
import { BlobMismatchError } from '../../store/errors.js'
import { Backoff } from '../runtime/backoff.js'
import { BlobUnavailableError, fetchBlob } from './blob-fetch.js'
import { formatTransfer, type BlobTransferStatus } from './blob-status.js'

/** cut attempts in a row before a transfer waits for its object's next retry */
const MAX_ATTEMPTS = 8
/** how often a transfer's progress becomes an event (the status page's bars) */
const EVENT_EVERY_MS = 500

export interface BlobFetchCounters {
  fetched: number
  bytesFetched: number
  refused: number
}

/** What a job needs (the fetcher's deps). */
export interface BlobJobDeps {
  readonly blobs: BlobStore
  /** open a blob-protocol stream to the configured peer of this name */
  readonly open: (peerName: string, signal: AbortSignal) => Promise<Stream>
  /** the counters of one peer (kept by the blob service, with what is served to it) */
  readonly counters: (peerName: string) => BlobFetchCounters
  readonly log: Logger
  readonly now: () => number
  /** a transfer moved on, or ended (fetched, or given up for now) */
  readonly onTransfer?: (peer: string, transfer: BlobTransferStatus, state: 'progress' | 'done' | 'failed') => void
  /** ms between progress log lines of one transfer (default 3000) */
  readonly progressLogMs?: number
}

export interface BlobJob {
  readonly ref: BlobRef
  readonly peer: string
  state: BlobTransferStatus['state']
  done: number
  resumedFrom: number
  attempts: number
  /** when the current attempt started */
  startedAt: number
  lastLog: number
  lastEvent: number
}

export function newBlobJob (ref: BlobRef, peer: string, now: number): BlobJob {
  return { ref, peer, state: 'queued', done: 0, resumedFrom: 0, attempts: 0, startedAt: now, lastLog: 0, lastEvent: 0 }
}

/** The job as the status shows it; the rate is over the current attempt. */
export function jobStatus (job: BlobJob, now: number): BlobTransferStatus {
  const elapsed = (now - job.startedAt) / 1000
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

/** Run a job's attempts until it is over or `signal` aborts. */
export async function runBlobJob (deps: BlobJobDeps, job: BlobJob, signal: AbortSignal): Promise<void> {
  const backoff = new Backoff()
  try {
    while (!signal.aborted && !await attempt(deps, job, signal)) {
      job.state = 'retrying'
      await backoff.wait(signal)
    }
  } catch (err) {
    deps.log.warn({ peer: job.peer, hash: job.ref.blob, err: describeError(err) }, 'blob fetch failed')
  }
}

function progressed (deps: BlobJobDeps, job: BlobJob, written: number): void {
  job.done = written
  const t = deps.now()
  if (t - job.lastEvent >= EVENT_EVERY_MS) {
    job.lastEvent = t
    deps.onTransfer?.(job.peer, jobStatus(job, t), 'progress')
  }
  if (t - job.lastLog >= (deps.progressLogMs ?? 3000)) {
    job.lastLog = t
    deps.log.info({ peer: job.peer, hash: job.ref.blob, done: job.done, size: job.ref.size }, `fetching ${formatTransfer(jobStatus(job, t))}`)
  }
}

/** One attempt; true when the job is over (fetched, refused, or not to be had from this peer now). */
async function attempt (deps: BlobJobDeps, job: BlobJob, signal: AbortSignal): Promise<boolean> {
  const { blobs, log, now } = deps
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
    const { received } = await fetchBlob({ stream, peerName: peer, partial, onProgress: (w) => progressed(deps, job, w) })
    const counters = deps.counters(peer)
    counters.fetched++
    counters.bytesFetched += received
    const seconds = (now() - job.startedAt) / 1000
    log.info({ peer, hash: ref.blob, size: ref.size, received, resumedFrom: job.resumedFrom, seconds, mibPerSecond: seconds > 0 ? Math.round(received / 1048576 / seconds * 10) / 10 : undefined }, `fetched blob ${ref.blob} (${ref.size} bytes) from peer ${peer}`)
    deps.onTransfer?.(peer, { ...jobStatus(job, now()), done: ref.size, percent: 100, etaSeconds: 0 }, 'done')
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
    deps.onTransfer?.(peer, jobStatus(job, now()), 'failed')
    return true
  }
}
