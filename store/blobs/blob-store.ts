/**
 * Blobs on disk, beside LevelDB (not in it): content-addressed files named
 * by their SHA-256, each stored once however many objects reference it.
 *
 *   <dir>/sha256/<2 hex>/<64 hex>   visible blobs: whole and verified
 *   <dir>/tmp/<random>              uploads being written (removed at open)
 *   <dir>/partial/<64 hex>[.json]   fetches from peers: bytes so far + progress (partial-blob.ts)
 *
 * Invariant: a file appears under sha256/ only by a rename after its bytes
 * were written, fsynced and found to hash to its name — so a blob is visible
 * only when whole and verified, whatever crashes meanwhile (a rename within
 * one file system is atomic; the directory is fsynced after it). Bytes
 * stream through in chunks: memory stays bounded whatever a blob's size.
 *
 * This is the seam for anything that moves files (the document API, the
 * blob protocol, connectors): put and read by hash, streamed.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm, stat, utimes, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { BLOB_HASH_PREFIX, isBlobHash } from '../../protocol/blob-ref.js'
import { BlobMismatchError, BlobNotFoundError, BlobTooLargeError } from '../errors.js'
import { openPartialBlob, readPartials, type PartialBlob, type PartialInfo } from './partial-blob.js'

export type { PartialBlob, PartialInfo } from './partial-blob.js'

export interface BlobStat {
  readonly hash: string
  readonly size: number
  /** when it became visible here, or was last uploaded again (garbage collection's grace) */
  readonly mtimeMs: number
}

export interface PutOptions {
  /** refuse (BlobMismatchError) bytes that do not hash to this */
  readonly hash?: string
  /** refuse (BlobTooLargeError) more bytes than this */
  readonly maxBytes?: number
  /** what the bytes are, for error messages ("the upload", "blob … from peer x") */
  readonly what?: string
}

export interface PutResult {
  readonly hash: string
  readonly size: number
  /** false: the blob was here already (deduplicated) */
  readonly created: boolean
}

export interface BlobStore {
  readonly dir: string
  /** create the directories, remove uploads a crash left behind */
  open (): Promise<void>
  has (hash: string): Promise<boolean>
  stat (hash: string): Promise<BlobStat | undefined>
  /** stream bytes in; they become a visible blob only once whole, fsynced and verified */
  put (source: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult>
  /** the blob's bytes (or `start`…`end`, inclusive), streamed; BlobNotFoundError when absent */
  read (hash: string, range?: { readonly start: number, readonly end: number }): Promise<{ stream: Readable, size: number }>
  /** an open file handle on the blob, for reading chunks at offsets; BlobNotFoundError when absent */
  openFile (hash: string): Promise<{ handle: FileHandle, size: number }>
  /** the resumable download of `hash` (size `size`): where it stands, and more bytes for it */
  partial (hash: string, size: number, meta?: Readonly<Record<string, unknown>>): Promise<PartialBlob>
  /** downloads a crash or a cut left unfinished (to resume them) */
  partials (): Promise<PartialInfo[]>
  /** drop an unfinished download (its bytes and progress) */
  removePartial (hash: string): Promise<void>
  remove (hash: string): Promise<void>
  /** every visible blob, in no particular order */
  list (): AsyncIterable<BlobStat>
  /** called whenever a blob becomes visible; returns the unsubscribe */
  onAdded (listener: (hash: string) => void): () => void
}

export function createBlobStore (dir: string, options: { readonly now?: () => number } = {}): BlobStore {
  const now = options.now ?? Date.now
  const listeners = new Set<(hash: string) => void>()
  const tmpDir = join(dir, 'tmp')
  const partialDir = join(dir, 'partial')
  const pathOf = (hash: string): string => {
    if (!isBlobHash(hash)) throw new BlobNotFoundError(hash)
    const hex = hash.slice(BLOB_HASH_PREFIX.length)
    return join(dir, 'sha256', hex.slice(0, 2), hex)
  }
  const added = (hash: string): void => { for (const l of listeners) l(hash) }

  /** Move a verified file into place (or drop it: the blob is here already). */
  const publish = async (file: string, hash: string): Promise<boolean> => {
    const target = pathOf(hash)
    if (await exists(target)) {
      await rm(file, { force: true })
      // uploaded again: its grace before collection starts over
      const at = new Date(now())
      await utimes(target, at, at)
      return false
    }
    await mkdir(join(target, '..'), { recursive: true })
    await rename(file, target)
    await syncDir(join(target, '..'))
    added(hash)
    return true
  }

  const store: BlobStore = {
    dir,

    async open () {
      await mkdir(join(dir, 'sha256'), { recursive: true })
      await mkdir(partialDir, { recursive: true })
      await rm(tmpDir, { recursive: true, force: true })
      await mkdir(tmpDir, { recursive: true })
    },

    async has (hash) {
      return isBlobHash(hash) && await exists(pathOf(hash))
    },

    async stat (hash) {
      if (!isBlobHash(hash)) return undefined
      try {
        const s = await stat(pathOf(hash))
        return { hash, size: s.size, mtimeMs: s.mtimeMs }
      } catch {
        return undefined
      }
    },

    async put (source, options = {}) {
      const file = join(tmpDir, randomBytes(12).toString('hex'))
      const what = options.what ?? 'the bytes'
      let handle: FileHandle | undefined
      try {
        handle = await open(file, 'wx')
        const digest = createHash('sha256')
        let size = 0
        for await (const chunk of source) {
          size += chunk.byteLength
          if (options.maxBytes !== undefined && size > options.maxBytes) throw new BlobTooLargeError(options.maxBytes, what)
          digest.update(chunk)
          await handle.write(chunk)
        }
        await handle.sync()
        await handle.close()
        handle = undefined
        const hash = BLOB_HASH_PREFIX + digest.digest('hex')
        if (options.hash !== undefined && options.hash !== hash) throw new BlobMismatchError(options.hash, hash, what)
        return { hash, size, created: await publish(file, hash) }
      } finally {
        await handle?.close().catch(() => {})
        await rm(file, { force: true })
      }
    },

    async read (hash, range) {
      const s = await store.stat(hash)
      if (s === undefined) throw new BlobNotFoundError(hash)
      const stream = createReadStream(pathOf(hash), { highWaterMark: 256 * 1024, ...(range !== undefined ? { start: range.start, end: range.end } : {}) })
      return { stream, size: s.size }
    },

    async openFile (hash) {
      let handle: FileHandle
      try {
        handle = await open(pathOf(hash), 'r')
      } catch {
        throw new BlobNotFoundError(hash)
      }
      return { handle, size: (await handle.stat()).size }
    },

    async partial (hash, size, meta) {
      if (!isBlobHash(hash)) throw new BlobNotFoundError(hash)
      return await openPartialBlob({ dir: partialDir, hash, size, meta: meta ?? {}, publish, now })
    },

    async partials () {
      return await readPartials(partialDir)
    },

    async removePartial (hash) {
      if (!isBlobHash(hash)) return
      const hex = hash.slice(BLOB_HASH_PREFIX.length)
      await rm(join(partialDir, hex), { force: true })
      await rm(join(partialDir, `${hex}.json`), { force: true })
    },

    async remove (hash) {
      await rm(pathOf(hash), { force: true })
    },

    async * list () {
      const root = join(dir, 'sha256')
      for (const prefix of await readdir(root).catch(() => [] as string[])) {
        for (const name of await readdir(join(root, prefix)).catch(() => [] as string[])) {
          const hash = BLOB_HASH_PREFIX + name
          if (!isBlobHash(hash)) continue
          const s = await stat(join(root, prefix, name)).catch(() => undefined)
          if (s !== undefined) yield { hash, size: s.size, mtimeMs: s.mtimeMs }
        }
      }
    },

    onAdded (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
  return store
}

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** fsync a directory, so that a rename into it survives a power cut */
export async function syncDir (path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
