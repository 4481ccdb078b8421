/**
 * Garbage collection of blobs: a blob no object references is removed once
 * it has been unreferenced for the grace period (`blobs.gcGrace`) — counted
 * from the later of the file's time (when it arrived, or was last uploaded
 * again) and its orphan mark (when a reference to it last went away). An
 * upload has the grace to be referenced; a reference dropped by an edit can
 * come back within it without a transfer. Partial fetches untouched for the
 * grace period (their peer gone for good) are removed as well.
 *
 * The decision is taken inside a store transaction: no write can add a
 * reference between the check and the removal, and a write after it finds
 * the blob gone (local writes are refused, pulled objects parked).
 */
import { describeError } from '../../protocol/errors.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'
import type { Store } from '../../store/types.js'
import type { Logger } from '../runtime/logger.js'

export interface BlobGcDeps {
  readonly store: Store
  readonly blobs: BlobStore
  /** ms a blob must have been unreferenced before it is removed */
  readonly graceMs: number
  /** ms between two collections; 0: only when asked (collect()) */
  readonly intervalMs: number
  /** blobs being fetched right now are left alone */
  readonly busy: (hash: string) => boolean
  readonly log: Logger
  readonly now: () => number
}

export interface BlobGcResult {
  readonly collected: number
  readonly bytes: number
  readonly partials: number
}

export interface BlobGc {
  start (): void
  stop (): Promise<void>
  /** one collection now */
  collect (): Promise<BlobGcResult>
}

export function createBlobGc (deps: BlobGcDeps): BlobGc {
  const { store, blobs, log } = deps
  let timer: NodeJS.Timeout | undefined
  let running: Promise<BlobGcResult> | undefined

  const collectOnce = async (): Promise<BlobGcResult> => {
    const now = deps.now()
    const expired = (ms: number): boolean => now - ms >= deps.graceMs
    let collected = 0
    let bytes = 0
    for await (const blob of blobs.list()) {
      if (!expired(blob.mtimeMs) || deps.busy(blob.hash)) continue
      const removed = await store.write(async (tx) => {
        if (await tx.blobReferenced(blob.hash)) return false
        const orphanedAt = await tx.blobOrphanedAt(blob.hash)
        if (orphanedAt !== undefined && !expired(orphanedAt)) return false
        await blobs.remove(blob.hash)
        tx.forgetBlob(blob.hash)
        return true
      })
      if (removed) { collected++; bytes += blob.size }
    }
    let partials = 0
    for (const p of await blobs.partials()) {
      if (!expired(p.updatedAt) || deps.busy(p.hash)) continue
      await blobs.removePartial(p.hash)
      partials++
    }
    if (collected > 0 || partials > 0) log.info({ collected, bytes, partials, graceMs: deps.graceMs }, `collected ${collected} unreferenced blob(s) (${bytes} bytes) and ${partials} stale partial fetch(es)`)
    return { collected, bytes, partials }
  }

  const collect = async (): Promise<BlobGcResult> => {
    if (running !== undefined) return await running
    running = collectOnce().finally(() => { running = undefined })
    return await running
  }

  return {
    collect,
    start () {
      if (timer !== undefined || deps.intervalMs <= 0) return
      timer = setInterval(() => {
        collect().catch((err: unknown) => { log.warn({ err: describeError(err) }, 'blob garbage collection failed; it runs again at the next interval') })
      }, deps.intervalMs)
      timer.unref()
    },
    async stop () {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      await running?.catch(() => {})
    }
  }
}
