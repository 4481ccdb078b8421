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
  let buffer: Buffer = Buffer.alloc(0)
  let header: FrameHeader | undefined
  for await (const chunk of source) {
    buffer = buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffer, chunk])
    for (;;) {
      if (header === undefined) {
        const nl = buffer.indexOf(0x0a)
        if (nl < 0) {
          if (buffer.length > MAX_HEADER_BYTES) throw new BackupInvalidError('backup stream: a frame header is longer than 64 KiB: not a labmesh backup stream')
          break
        }
        header = parseHeader(buffer.subarray(0, nl).toString('utf8'))
        buffer = buffer.subarray(nl + 1)
      }
      const need = payloadBytes(header)
      if (buffer.length < need) break
      const payload = need > 0 ? Buffer.from(buffer.subarray(0, need)) : undefined
      buffer = buffer.subarray(need)
      const frame: Frame = payload !== undefined ? { header, payload } : { header }
      header = undefined
      yield frame
    }
  }
  if (header !== undefined || buffer.length > 0) throw new BackupInvalidError('backup stream ended inside a frame: the connection to the agent was cut; run the backup again')
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
