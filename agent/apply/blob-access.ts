/**
 * What the apply path, local writes and the failed queue need to know of
 * blobs: which are here, and how to ask the peer that sent an object for the
 * blobs it references. A seam: the files are store/blobs/, the fetching is
 * agent/blobs/ (a layer above this one), wired together by the composition
 * root.
 *
 * Invariant it serves: an object is stored only once every blob its
 * versions reference is here (visible: whole and verified). What misses a
 * blob is parked as MISSING_BLOB, its blobs are fetched from the peer it
 * came from, and the failed queue applies it once they are here.
 */
import type { BlobRef } from '../../protocol/blob-ref.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'

export interface BlobAccess {
  /** the size of each of these blobs if it is here, else undefined */
  sizes (hashes: readonly string[]): Promise<Array<number | undefined>>
  /** fetch these blobs from `peerName` in the background (each at most once at a time); never throws */
  request (peerName: string, refs: readonly BlobRef[]): void
}

/**
 * The blobs of `store` with nowhere to fetch from: what applying without
 * peers needs (tools, benchmarks, tests that drive the apply path alone).
 * A missing blob then parks its object until the blob is put here.
 */
export function localBlobAccess (store: Pick<BlobStore, 'stat'>): BlobAccess {
  return {
    async sizes (hashes) {
      return await Promise.all(hashes.map(async (h) => (await store.stat(h))?.size))
    },
    request () {}
  }
}
