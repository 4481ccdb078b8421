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

/** Where a store keeps what: visible blobs by hash, uploads under way, partial fetches. */
interface Layout {
  readonly dir: string
  readonly tmpDir: string
  readonly partialDir: string
  pathOf (hash: string): string
}

export function createBlobStore (dir: string, options: { readonly now?: () => number } = {}): BlobStore {
  const now = options.now ?? Date.now
  const listeners = new Set<(hash: string) => void>()
  const layout: Layout = {
    dir,
    tmpDir: join(dir, 'tmp'),
    partialDir: join(dir, 'partial'),
    pathOf (hash) {
      if (!isBlobHash(hash)) throw new BlobNotFoundError(hash)
      const hex = hash.slice(BLOB_HASH_PREFIX.length)
      return join(dir, 'sha256', hex.slice(0, 2), hex)
    }
  }
  const publish = async (file: string, hash: string): Promise<boolean> => {
    const created = await publishFile(layout, file, hash, now)
    if (created) for (const l of listeners) l(hash)
    return created
  }

  const store: BlobStore = {
    dir,

    open: async () => await prepareDirs(layout),

    async has (hash) {
      return isBlobHash(hash) && await exists(layout.pathOf(hash))
    },

    async stat (hash) {
      if (!isBlobHash(hash)) return undefined
      try {
        const s = await stat(layout.pathOf(hash))
        return { hash, size: s.size, mtimeMs: s.mtimeMs }
      } catch {
        return undefined
      }
    },

    put: async (source, putOptions = {}) => await putVerified(layout, publish, source, putOptions),

    async read (hash, range) {
      const s = await store.stat(hash)
      if (s === undefined) throw new BlobNotFoundError(hash)
      const stream = createReadStream(layout.pathOf(hash), { highWaterMark: 256 * 1024, ...(range !== undefined ? { start: range.start, end: range.end } : {}) })
      return { stream, size: s.size }
    },

    async openFile (hash) {
      const handle = await open(layout.pathOf(hash), 'r').catch(() => { throw new BlobNotFoundError(hash) })
      return { handle, size: (await handle.stat()).size }
    },

    async partial (hash, size, meta) {
      if (!isBlobHash(hash)) throw new BlobNotFoundError(hash)
      return await openPartialBlob({ dir: layout.partialDir, hash, size, meta: meta ?? {}, publish, now })
    },

    partials: async () => await readPartials(layout.partialDir),

    async removePartial (hash) {
      if (!isBlobHash(hash)) return
      const hex = hash.slice(BLOB_HASH_PREFIX.length)
      await rm(join(layout.partialDir, hex), { force: true })
      await rm(join(layout.partialDir, `${hex}.json`), { force: true })
    },

    async remove (hash) {
      await rm(layout.pathOf(hash), { force: true })
    },

    list: () => listBlobs(join(dir, 'sha256')),

    onAdded (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
  return store
}

/** The directories, and none of the uploads a crash left behind (they were never visible). */
async function prepareDirs (layout: Layout): Promise<void> {
  await mkdir(join(layout.dir, 'sha256'), { recursive: true })
  await mkdir(layout.partialDir, { recursive: true })
  await rm(layout.tmpDir, { recursive: true, force: true })
  await mkdir(layout.tmpDir, { recursive: true })
}

/** Move a verified file into place (true), or drop it: the blob is here already (false; its time is renewed). */
async function publishFile (layout: Layout, file: string, hash: string, now: () => number): Promise<boolean> {
  const target = layout.pathOf(hash)
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
  return true
}

/** Stream `source` to a temp file, hashing it; fsync, verify, publish. Nothing is left of a refused or failed upload. */
async function putVerified (layout: Layout, publish: (file: string, hash: string) => Promise<boolean>, source: AsyncIterable<Uint8Array>, options: PutOptions): Promise<PutResult> {
  const file = join(layout.tmpDir, randomBytes(12).toString('hex'))
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
}

/** Every visible blob under `root` (sha256/<2 hex>/<64 hex>). */
async function * listBlobs (root: string): AsyncIterable<BlobStat> {
  for (const prefix of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, prefix)).catch(() => [] as string[])) {
      const hash = BLOB_HASH_PREFIX + name
      if (!isBlobHash(hash)) continue
      const s = await stat(join(root, prefix, name)).catch(() => undefined)
      if (s !== undefined) yield { hash, size: s.size, mtimeMs: s.mtimeMs }
    }
  }
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
