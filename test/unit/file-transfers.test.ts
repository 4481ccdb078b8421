/**
 * Instance file transfers (agent/connectors/file-transfers.ts): counted
 * while their chunks flow, with percent, rate and ETA; logged every few
 * seconds; gone when the source ends or fails.
 */
import { describe, expect, it } from 'vitest'
import { createFileTransfers, formatFileTransfer } from '../../agent/connectors/file-transfers.js'
import { capturingLogger } from '../helpers/nodes.js'

const MiB = 1024 * 1024

describe('instance file transfers', () => {
  it('shows bytes, percent and ETA while a file flows, logs every 3 s, and forgets it at the end', async () => {
    let clock = 1_000_000
    const log = capturingLogger('lab-a')
    const transfers = createFileTransfers(log.logger, () => clock)
    const seen: Array<ReturnType<typeof transfers.list>> = []
    async function * source (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 4; i++) {
        clock += 2000
        yield new Uint8Array(MiB)
        seen.push(transfers.list())
      }
    }
    let bytes = 0
    for await (const chunk of transfers.track('download', 'report.pdf', 8 * MiB, source())) bytes += chunk.byteLength
    expect(bytes).toBe(4 * MiB)
    expect(transfers.list()).toEqual([])
    // after the second chunk: 2 MiB of 8 in 4 s
    expect(seen[1]).toEqual([{ direction: 'download', name: 'report.pdf', done: 2 * MiB, size: 8 * MiB, percent: 25, rate: MiB / 2, etaSeconds: 12, startedAt: 1_000_000 }])
    expect(formatFileTransfer(seen[1]![0]!)).toBe('download report.pdf from the instance: 2.0 MiB / 8.0 MiB (25%), ETA 12 s')
    // chunks at 2, 4, 6, 8 s: logged when 3 s had passed since the last line (at 4 and 8 s)
    const lines = log.lines.filter((l) => String(l.msg).startsWith('download report.pdf'))
    expect(lines.map((l) => l.percent)).toEqual([25, 50])
  })

  it('says "so far" without a size, and forgets a transfer whose source fails', async () => {
    const transfers = createFileTransfers(capturingLogger('lab-a').logger)
    async function * failing (): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(3 * MiB)
      throw new Error('connection cut')
    }
    const it = transfers.track('upload', 'sop.pdf', undefined, failing())
    await it.next()
    const [running] = transfers.list()
    expect(running).toMatchObject({ direction: 'upload', done: 3 * MiB, size: undefined, percent: undefined, etaSeconds: undefined })
    expect(formatFileTransfer(running!)).toBe('upload sop.pdf into the instance: 3.0 MiB so far')
    await expect(it.next()).rejects.toThrow('connection cut')
    expect(transfers.list()).toEqual([])
  })
})
