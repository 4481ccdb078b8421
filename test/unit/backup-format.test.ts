/**
 * The backup stream's framing and progress (store/backup/format.ts,
 * progress.ts): frames survive any split of the bytes, a damaged or
 * truncated stream is refused, file names cannot leave their part, and
 * progress gives percent and ETA from a clock.
 */
import { describe, expect, it } from 'vitest'
import { BackupInvalidError } from '../../store/errors.js'
import { checkFileName, decodeFrames, encodeFrame, MAX_FRAME_PAYLOAD, type Frame } from '../../store/backup/format.js'
import { formatBackupProgress, progressMeter } from '../../store/backup/progress.js'

async function decodeAll (chunks: readonly Uint8Array[]): Promise<Frame[]> {
  const out: Frame[] = []
  async function * source (): AsyncGenerator<Uint8Array> { yield * chunks }
  for await (const f of decodeFrames(source())) out.push(f)
  return out
}

const frames: Frame[] = [
  { header: { k: 'begin', snapshot: { domain: 'lab-a', schema: 3, epoch: 'e', head: 2, objects: 1, rows: 2 }, peerId: 'p', createdAt: 1, files: [{ part: 'blobs', count: 1, bytes: 3 }] } },
  { header: { k: 'rows', n: 2, bytes: 12 }, payload: Buffer.from('["a","b"]\n\n\n') },
  { header: { k: 'file', part: 'blobs', name: 'sha256/ab/ab', size: 3 } },
  { header: { k: 'chunk', bytes: 3 }, payload: Buffer.from([0x0a, 0x00, 0xff]) },
  { header: { k: 'end', rows: 2, storeBytes: 12, storeSha256: 'x' } }
]

describe('backup frames', () => {
  it('decode what was encoded, however the bytes are split (payloads may hold newlines and any byte)', async () => {
    const bytes = Buffer.concat(frames.map(encodeFrame))
    for (const size of [1, 2, 7, 64, bytes.length]) {
      const chunks: Uint8Array[] = []
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
      const decoded = await decodeAll(chunks)
      expect(decoded.map((f) => f.header)).toEqual(frames.map((f) => f.header))
      expect(decoded.map((f) => f.payload !== undefined ? Buffer.from(f.payload).toString('hex') : undefined)).toEqual(frames.map((f) => f.payload !== undefined ? Buffer.from(f.payload).toString('hex') : undefined))
    }
  })

  it('refuse a truncated stream, a header that is not JSON or not a frame, an oversized payload, a header without end', async () => {
    const bytes = Buffer.concat(frames.map(encodeFrame))
    await expect(decodeAll([bytes.subarray(0, bytes.length - 5)])).rejects.toThrow(/ended inside a frame/)
    await expect(decodeAll([Buffer.from('hello\n')])).rejects.toThrow(BackupInvalidError)
    await expect(decodeAll([Buffer.from('{"k":"nonsense"}\n')])).rejects.toThrow(/unknown frame/)
    await expect(decodeAll([Buffer.from(`{"k":"rows","n":1,"bytes":${MAX_FRAME_PAYLOAD + 1}}\n`)])).rejects.toThrow(/announces/)
    await expect(decodeAll([Buffer.from('{"k":"chunk","bytes":-1}\n')])).rejects.toThrow(/announces/)
    await expect(decodeAll([Buffer.alloc(70 * 1024, 0x20)])).rejects.toThrow(/longer than 64 KiB/)
  })

  it('keep file names inside their part', () => {
    expect(() => checkFileName('blobs', 'sha256/ab/abcdef')).not.toThrow()
    for (const [part, name] of [['blobs', '../x'], ['blobs', 'a/../../x'], ['blobs', '/etc/passwd'], ['blobs', 'a//b'], ['blobs', './a'], ['../b', 'x'], ['Blobs', 'x'], ['blobs', 'a b']]) {
      expect(() => checkFileName(part!, name!), `${part}/${name}`).toThrow(BackupInvalidError)
    }
  })
})

describe('backup progress', () => {
  it('gives percent and an ETA at the rate so far, 100 % only when finished', () => {
    let t = 0
    const meter = progressMeter('backup', 1000, () => t)
    expect(meter.report()).toMatchObject({ percent: 0, etaSeconds: undefined, finished: false })
    t = 2000
    meter.add(250)
    expect(meter.report()).toMatchObject({ percent: 25, etaSeconds: 6, done: 250 })
    meter.add(750)
    expect(meter.report().percent).toBe(99)
    expect(meter.report(true)).toMatchObject({ percent: 100, etaSeconds: undefined, finished: true })
    t = 4000
    expect(formatBackupProgress(progressMeter('restore', 10, () => t).report())).toBe('restore: 0% (0 / 10 rows and KiB of files)')
    const m = progressMeter('backup', 100, () => t)
    t = 5000
    m.add(50)
    expect(formatBackupProgress(m.report())).toBe('backup: 50% (50 / 100 rows and KiB of files), ETA 1 s')
  })
})
