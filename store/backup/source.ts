/**
 * The sending side of a backup: a snapshot (and the file parts listed right
 * after it) as frames. The same frames feed the admin API's stream (encoded)
 * and an offline backup's directory writer (directly). The snapshot is
 * closed when the frames end, fail or are abandoned (return()).
 */
import { createHash } from 'node:crypto'
import { FILE_CHUNK_BYTES, ROWS_PER_FRAME, type FilePartSummary, type Frame } from './format.js'
import type { BackupFilePart } from './file-parts.js'
import { fileUnits, progressMeter, type BackupProgress } from './progress.js'
import type { StoreSnapshot } from './snapshot.js'

export interface BackupSourceOptions {
  readonly peerId: string
  readonly now?: () => number
  readonly onProgress?: (progress: BackupProgress) => void
}

export async function * backupFrames (snapshot: StoreSnapshot, parts: readonly BackupFilePart[], options: BackupSourceOptions): AsyncGenerator<Frame> {
  const now = options.now ?? Date.now
  try {
    // listed right after the snapshot was taken: see file-parts.ts
    const listed = await Promise.all(parts.map(async (p) => ({ part: p, files: await p.list() })))
    const files: FilePartSummary[] = listed.map(({ part, files }) => ({ part: part.part, count: files.length, bytes: files.reduce((n, f) => n + f.size, 0) }))
    const meter = progressMeter('backup', snapshot.info.rows + files.reduce((n, f) => n + fileUnits(f.bytes), 0), now)
    const progress = (finished = false): void => options.onProgress?.(meter.report(finished))
    yield { header: { k: 'begin', snapshot: snapshot.info, peerId: options.peerId, createdAt: now(), files } }
    progress()
    const hash = createHash('sha256')
    let rows = 0
    let storeBytes = 0
    let lines: string[] = []
    const flush = (): Frame => {
      const payload = Buffer.from(lines.join(''))
      hash.update(payload)
      storeBytes += payload.length
      const frame: Frame = { header: { k: 'rows', n: lines.length, bytes: payload.length }, payload }
      meter.add(lines.length)
      lines = []
      return frame
    }
    for await (const [key, value] of snapshot.rows()) {
      lines.push(`${JSON.stringify([key, value])}\n`)
      rows++
      if (lines.length === ROWS_PER_FRAME) {
        yield flush()
        progress()
      }
    }
    if (lines.length > 0) yield flush()
    for (const { part, files } of listed) {
      for (const file of files) {
        yield { header: { k: 'file', part: part.part, name: file.name, size: file.size } }
        yield * fileChunks(part, file)
        meter.add(fileUnits(file.size))
        progress()
      }
    }
    // finished once the last frame is made: a reader may stop at the end frame
    progress(true)
    yield { header: { k: 'end', rows, storeBytes, storeSha256: hash.digest('hex') } }
  } finally {
    await snapshot.close()
  }
}

/** A file as chunk frames of exactly its listed size: one that changed size since the listing is not immutable, and fails the backup. */
async function * fileChunks (part: BackupFilePart, file: { name: string, size: number }): AsyncGenerator<Frame> {
  let sent = 0
  let pending: Buffer[] = []
  let pendingBytes = 0
  const chunk = (): Frame => {
    const payload = Buffer.concat(pending)
    pending = []
    pendingBytes = 0
    return { header: { k: 'chunk', bytes: payload.length }, payload }
  }
  for await (const data of part.read(file.name)) {
    sent += data.length
    if (sent > file.size) break
    pending.push(Buffer.from(data))
    pendingBytes += data.length
    if (pendingBytes >= FILE_CHUNK_BYTES) yield chunk()
  }
  if (sent !== file.size) throw new Error(`${part.part}/${file.name} changed size during the backup (${file.size} bytes listed, ${sent} read): files of a backup part must be immutable`)
  if (pendingBytes > 0) yield chunk()
}
