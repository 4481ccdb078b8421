/**
 * What a backup is, on disk and on the wire.
 *
 * On disk, a directory:
 *
 *   manifest.json        what it holds (BackupManifest): domain, schema, the
 *                        store's epoch and head at the snapshot, counts, sha-256
 *   store.jsonl          every LevelDB row of one snapshot, `[key, value]` per
 *                        line, keys with their sublevel prefix (`!o!uid`)
 *   <part>/<name>        immutable files listed at the snapshot (blobs/sha256/…)
 *
 * The manifest is written last, so a directory without one is not a backup.
 *
 * On the wire (`POST /api/backup`), the same content as frames: a JSON line
 * (the frame's header) followed by `bytes` bytes of payload. Payloads are
 * capped (MAX_FRAME_PAYLOAD), so a reader holds at most one frame: a large
 * file travels as a `file` frame and `chunk` frames after it. The stream
 * ends with `end` (the sender's own counts, which the receiver checks) or
 * `error` (the sender failed: the receiver keeps nothing).
 */
import { BackupInvalidError } from '../errors.js'

export const BACKUP_FORMAT = 1
export const MANIFEST_FILE = 'manifest.json'
export const STORE_FILE = 'store.jsonl'
/** the HTTP content type of the frame stream */
export const BACKUP_MEDIA_TYPE = 'application/vnd.labmesh.backup'

/** rows per `rows` frame (and per LevelDB batch on restore) */
export const ROWS_PER_FRAME = 1000
/** bytes of a file per `chunk` frame */
export const FILE_CHUNK_BYTES = 1024 * 1024
/** a frame's payload is never larger: a bigger one is a damaged stream */
export const MAX_FRAME_PAYLOAD = 16 * 1024 * 1024
const MAX_HEADER_BYTES = 64 * 1024

/** One part of immutable files (e.g. blobs) as the manifest counts it. */
export interface FilePartSummary {
  readonly part: string
  readonly count: number
  readonly bytes: number
}

/** What the snapshot was of: fixed when the snapshot is taken. */
export interface SnapshotInfo {
  readonly domain: string
  /** the store's schema version (store/upgrades) */
  readonly schema: number
  /** the store's feed epoch at the snapshot (a restore starts a new one) */
  readonly epoch: string
  /** the store's feed head at the snapshot */
  readonly head: number
  readonly objects: number
  /** rows in store.jsonl */
  readonly rows: number
}

export interface BackupManifest extends SnapshotInfo {
  readonly kind: 'labmesh-backup'
  readonly format: typeof BACKUP_FORMAT
  readonly createdAt: number
  /** the agent's peer ID (its identity key is not in the backup) */
  readonly peerId: string
  /** whether it was taken from a running agent (admin API) or from a stopped one's store */
  readonly online: boolean
  readonly storeBytes: number
  readonly storeSha256: string
  readonly files: readonly FilePartSummary[]
}

export type FrameHeader =
  | { readonly k: 'begin', readonly snapshot: SnapshotInfo, readonly peerId: string, readonly createdAt: number, readonly files: readonly FilePartSummary[] }
  /** `n` rows as JSON lines in the payload */
  | { readonly k: 'rows', readonly n: number, readonly bytes: number }
  /** a file of `size` bytes follows as `chunk` frames */
  | { readonly k: 'file', readonly part: string, readonly name: string, readonly size: number }
  | { readonly k: 'chunk', readonly bytes: number }
  | { readonly k: 'end', readonly rows: number, readonly storeBytes: number, readonly storeSha256: string }
  | { readonly k: 'error', readonly code: string, readonly message: string }

export interface Frame {
  readonly header: FrameHeader
  readonly payload?: Uint8Array
}

/** A frame as bytes: its header line, then its payload. */
export function encodeFrame (frame: Frame): Uint8Array {
  const line = Buffer.from(`${JSON.stringify(frame.header)}\n`)
  return frame.payload !== undefined ? Buffer.concat([line, frame.payload]) : line
}

function payloadBytes (header: FrameHeader): number {
  return header.k === 'rows' || header.k === 'chunk' ? header.bytes : 0
}

/** Frames from a byte stream (an HTTP body); a truncated or malformed stream throws BackupInvalidError. */
export async function * decodeFrames (source: AsyncIterable<Uint8Array>): AsyncGenerator<Frame> {
  // chunks are kept as they come and joined once a whole frame is there:
  // a frame of many small chunks is copied once, not once per chunk
  const pending = new ChunkQueue()
  let header: FrameHeader | undefined
  for await (const chunk of source) {
    pending.push(chunk)
    for (;;) {
      if (header === undefined) {
        const line = pending.takeLine()
        if (line === undefined) {
          if (pending.length > MAX_HEADER_BYTES) throw new BackupInvalidError('backup stream: a frame header is longer than 64 KiB: not a labmesh backup stream')
          break
        }
        header = parseHeader(line)
      }
      const need = payloadBytes(header)
      if (pending.length < need) break
      const frame: Frame = need > 0 ? { header, payload: pending.take(need) } : { header }
      header = undefined
      yield frame
    }
  }
  if (header !== undefined || pending.length > 0) throw new BackupInvalidError('backup stream ended inside a frame: the connection to the agent was cut; run the backup again')
}

/** Bytes received and not yet taken, as the chunks they came in. */
class ChunkQueue {
  #chunks: Buffer[] = []
  length = 0

  push (chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    this.length += chunk.length
  }

  /** the text up to the next newline (which is dropped), or undefined when none has arrived */
  takeLine (): string | undefined {
    let seen = 0
    for (const chunk of this.#chunks) {
      const nl = chunk.indexOf(0x0a)
      if (nl >= 0) {
        const text = this.take(seen + nl + 1).subarray(0, seen + nl).toString('utf8')
        return text
      }
      seen += chunk.length
    }
    return undefined
  }

  /** the first `n` bytes, as one buffer of their own */
  take (n: number): Buffer {
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const first = this.#chunks[0]!
      const part = Math.min(first.length, n - filled)
      first.copy(out, filled, 0, part)
      filled += part
      if (part === first.length) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(part)
    }
    this.length -= n
    return out
  }
}

function parseHeader (text: string): FrameHeader {
  let header: FrameHeader
  try {
    header = JSON.parse(text) as FrameHeader
  } catch (err) {
    throw new BackupInvalidError('backup stream: a frame header is not JSON: not a labmesh backup stream', { cause: err })
  }
  const kinds = ['begin', 'rows', 'file', 'chunk', 'end', 'error']
  if (typeof header !== 'object' || header === null || !kinds.includes(header.k)) throw new BackupInvalidError(`backup stream: unknown frame ${text.slice(0, 80)}`)
  const need = payloadBytes(header)
  if (!Number.isSafeInteger(need) || need < 0 || need > MAX_FRAME_PAYLOAD) throw new BackupInvalidError(`backup stream: a frame announces ${String(need)} bytes (at most ${MAX_FRAME_PAYLOAD})`)
  return header
}

/** A file's name inside its part: relative, no `..`, plain characters (it becomes a path on restore). */
export function checkFileName (part: string, name: string): void {
  const ok = /^[a-z][a-z0-9-]*$/.test(part) && /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name) && !name.split('/').some((s) => s === '..' || s === '.')
  if (!ok) throw new BackupInvalidError(`backup: file "${part}/${name}" has a name a backup may not hold`)
}
