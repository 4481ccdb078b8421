/**
 * The agent's blob fetches: what the apply path asks for (objects parked as
 * MISSING_BLOB), fetched from the peer that sent the object, at most
 * MAX_BLOB_FETCHES at a time and each blob at most once at a time. Each
 * job's attempts, retries and reports are blob-transfer.ts.
 *
 * After a restart, start() resumes every partial fetch whose peer is still
 * configured (the partial's progress names it). Progress — bytes, percent,
 * rate, ETA — goes to the status (transfers), the events and, every few
 * seconds, the log.
 */
import type { BlobRef } from '../../protocol/blob-ref.js'
import type { BlobAccess } from '../apply/blob-access.js'
import type { BlobTransferStatus } from './blob-status.js'
import { jobStatus, newBlobJob, runBlobJob, type BlobJob, type BlobJobDeps } from './blob-transfer.js'

/** transfers under way at once (each holds at most one window of memory) */
export const MAX_BLOB_FETCHES = 3

export type { BlobFetchCounters } from './blob-transfer.js'

export interface BlobFetcherDeps extends BlobJobDeps {
  /** names of the configured peers now: a partial fetch from another is left alone */
  readonly peers: () => readonly string[]
}

export interface BlobFetcher extends BlobAccess {
  /** resume the fetches a restart interrupted */
  start (): Promise<void>
  stop (): Promise<void>
  /** the transfers from this peer under way */
  transfers (peerName: string): BlobTransferStatus[]
}

export function createBlobFetcher (deps: BlobFetcherDeps): BlobFetcher {
  const { blobs, now } = deps
  const jobs = new Map<string, BlobJob>()
  const running = new Set<Promise<void>>()
  let controller: AbortController | undefined

  const pump = (): void => {
    const signal = controller?.signal
    if (signal === undefined) return
    for (const job of jobs.values()) {
      if (running.size >= MAX_BLOB_FETCHES) return
      if (job.state !== 'queued') continue
      job.state = 'fetching'
      const done = runBlobJob(deps, job, signal).finally(() => {
        jobs.delete(job.ref.blob)
        running.delete(done)
        pump()
      })
      running.add(done)
    }
  }

  const request = (peer: string, refs: readonly BlobRef[]): void => {
    for (const ref of refs) if (!jobs.has(ref.blob)) jobs.set(ref.blob, newBlobJob(ref, peer, now()))
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
        if (typeof peer !== 'string' || !deps.peers().includes(peer)) continue
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
      return [...jobs.values()].filter((j) => j.peer === peerName).map((j) => jobStatus(j, now()))
    }
  }
}
