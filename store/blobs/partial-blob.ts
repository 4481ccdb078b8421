/**
 * A blob being fetched from a peer, resumable after a cut or a restart: its
 * bytes so far in `partial/<hex>` and its progress in `partial/<hex>.json`
 * (`have`: the bytes known to be on disk, with the size, the hash and who
 * it comes from).
 *
 * Invariants: `have` is written only after the bytes up to it were fsynced,
 * by an atomic replace of the progress file — so after any crash the file
 * holds at least `have` good bytes, and a resume truncates it there and
 * re-hashes them (a hash state cannot be saved; reading back the prefix
 * costs local disk reads, not the network). Nothing here is visible as a
 * blob: finish() verifies the whole against the hash, then moves it into
 * place; bytes that do not match are deleted and refused.
 */
import { createHash, type Hash } from 'node:crypto'
import { open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { BLOB_HASH_PREFIX, isBlobHash } from '../../protocol/blob-ref.js'
import { BlobMismatchError } from '../errors.js'

/** bytes read at a time when re-hashing a resumed partial */
const REHASH_CHUNK = 1024 * 1024

/** What a progress file records. */
export interface PartialInfo {
  readonly hash: string
  readonly size: number
  /** bytes fsynced: where a fetch resumes */
  readonly have: number
  /** who wrote it down (the fetcher's: the peer, the name) */
  readonly meta: Readonly<Record<string, unknown>>
  readonly updatedAt: number
}

export interface PartialBlob {
  readonly hash: string
  readonly size: number
  /** bytes known to be on disk (the resume point) */
  readonly have: number
  /** bytes written so far (have plus what the next checkpoint will make durable) */
  readonly written: number
  readonly meta: Readonly<Record<string, unknown>>
  /** write the next bytes (at offset `written`; a list is written as its buffers are, never joined) */
  append (bytes: Uint8Array | Iterable<Uint8Array>): Promise<void>
  /**
   * Make what is written so far durable and record it as the resume point.
   * Appends may go on while it runs (it covers the bytes written when it was
   * called); checkpoints run one after the other.
   */
  checkpoint (): Promise<void>
  /** all `size` bytes written: verify them and make the blob visible; BlobMismatchError (all discarded) when they do not match */
  finish (what: string): Promise<{ created: boolean }>
  /** delete the bytes and the progress */
  discard (): Promise<void>
  /** checkpoint and close, keeping everything for a resume */
  close (): Promise<void>
}

export interface PartialBlobOptions {
  readonly dir: string
  readonly hash: string
  readonly size: number
  readonly meta: Readonly<Record<string, unknown>>
  /** move a verified file into place as the blob `hash`; false when it was here already */
  readonly publish: (file: string, hash: string) => Promise<boolean>
  readonly now: () => number
}

export async function openPartialBlob (options: PartialBlobOptions): Promise<PartialBlob> {
  const { hash, size } = options
  const { file, progressFile, handle, meta, digest, ...start } = await resume(options)
  let have = start.have
  let written = have
  let closed = false
  /** the checkpoints, one after the other; finish and close wait for them */
  let checkpoints: Promise<void> = Promise.resolve()

  const saveProgress = async (): Promise<void> => await writeProgress(progressFile, { hash, size, have, meta, updatedAt: options.now() })
  await saveProgress()

  const removeAll = async (): Promise<void> => {
    await checkpoints.catch(() => {})
    if (!closed) { closed = true; await handle.close().catch(() => {}) }
    await rm(file, { force: true })
    await rm(progressFile, { force: true })
  }

  const partial: PartialBlob = {
    hash,
    size,
    meta,
    get have () { return have },
    get written () { return written },

    async append (bytes) {
      const buffers = bytes instanceof Uint8Array ? [bytes] : [...bytes]
      const length = buffers.reduce((sum, b) => sum + b.byteLength, 0)
      if (written + length > size) throw new RangeError(`blob ${hash} has ${size} bytes; ${written + length} would be written`)
      await writeAt(handle, buffers, written, digest)
      written += length
    },

    async checkpoint () {
      const target = written
      const run = async (): Promise<void> => {
        if (target <= have || closed) return
        await handle.datasync()
        have = target
        await saveProgress()
      }
      const next = checkpoints.then(run, run)
      checkpoints = next.catch(() => {})
      await next
    },

    async finish (what) {
      if (written !== size) throw new RangeError(`blob ${hash}: ${written} of ${size} bytes written, cannot finish`)
      await checkpoints
      await handle.datasync()
      closed = true
      await handle.close()
      const actual = BLOB_HASH_PREFIX + digest.digest('hex')
      if (actual !== hash) {
        await removeAll()
        throw new BlobMismatchError(hash, actual, what)
      }
      const created = await options.publish(file, hash)
      await rm(progressFile, { force: true })
      return { created }
    },

    discard: removeAll,

    async close () {
      if (closed) return
      try {
        await partial.checkpoint()
      } finally {
        closed = true
        await handle.close()
      }
    }
  }
  return partial
}

/** The partial file opened where its progress says it stands (truncated there, its prefix hashed again), or new. */
async function resume (options: PartialBlobOptions): Promise<{ file: string, progressFile: string, handle: FileHandle, have: number, meta: Readonly<Record<string, unknown>>, digest: Hash }> {
  const { dir, hash, size } = options
  const hex = hash.slice(BLOB_HASH_PREFIX.length)
  const file = join(dir, hex)
  const progressFile = join(dir, `${hex}.json`)
  const previous = await readProgress(progressFile)
  const resumable = previous !== undefined && previous.hash === hash && previous.size === size && previous.have <= size
  let have = resumable ? previous.have : 0
  const meta = { ...(resumable ? previous.meta : {}), ...options.meta }
  const handle = await open(file, resumable ? 'r+' : 'w+').catch(async () => await open(file, 'w+'))
  try {
    // a file shorter than its progress says (a disk fault) starts this blob over; a longer one is cut back
    if ((await handle.stat()).size < have) have = 0
    await handle.truncate(have)
    return { file, progressFile, handle, have, meta, digest: await hashPrefix(handle, have) }
  } catch (err) {
    await handle.close()
    throw err
  }
}

/** Write `buffers` at `position` (one writev: a regular file takes it whole; should it not, the rest one write at a time), hashing them. */
async function writeAt (handle: FileHandle, buffers: readonly Uint8Array[], position: number, digest: Hash): Promise<void> {
  let covered = (await handle.writev(buffers as Uint8Array[], position)).bytesWritten
  for (const buffer of buffers) {
    let at = Math.min(buffer.byteLength, covered)
    covered -= at
    while (at < buffer.byteLength) at += (await handle.write(buffer, at, buffer.byteLength - at, position + at)).bytesWritten
    position += buffer.byteLength
    digest.update(buffer)
  }
}

/** Replace the progress file atomically: written and fsynced beside it, then renamed over it. */
async function writeProgress (progressFile: string, info: PartialInfo): Promise<void> {
  const tmp = `${progressFile}.tmp`
  const out = await open(tmp, 'w')
  try {
    await out.writeFile(JSON.stringify(info))
    await out.sync()
  } finally {
    await out.close()
  }
  await rename(tmp, progressFile)
}

/** The progress of every unfinished fetch in `dir`. */
export async function readPartials (dir: string): Promise<PartialInfo[]> {
  const out: PartialInfo[] = []
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue
    const info = await readProgress(join(dir, name))
    if (info !== undefined) out.push(info)
  }
  return out
}

async function readProgress (file: string): Promise<PartialInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(file, 'utf8')) as PartialInfo
    if (!isBlobHash(info.hash) || !Number.isSafeInteger(info.size) || !Number.isSafeInteger(info.have) || info.have < 0) return undefined
    return { hash: info.hash, size: info.size, have: info.have, meta: typeof info.meta === 'object' && info.meta !== null ? info.meta : {}, updatedAt: Number(info.updatedAt) || 0 }
  } catch {
    return undefined
  }
}

/** SHA-256 state after the first `length` bytes of the file (a resumed fetch continues from it). */
async function hashPrefix (handle: FileHandle, length: number): Promise<Hash> {
  const digest = createHash('sha256')
  const buffer = Buffer.allocUnsafe(Math.min(REHASH_CHUNK, Math.max(1, length)))
  let position = 0
  while (position < length) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.byteLength, length - position), position)
    if (bytesRead === 0) throw new Error(`partial blob file ended at ${position} of ${length} recorded bytes`)
    digest.update(buffer.subarray(0, bytesRead))
    position += bytesRead
  }
  return digest
}
