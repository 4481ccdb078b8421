/**
 * Files moving between the instance and the agent (SENAITE attachments:
 * downloads from the site into the blob store, uploads from the blob store
 * into the site), with bytes, percent, rate and ETA while they run: shown in
 * `/api/status` (`instanceFiles`), `labmesh status`, the status page, and
 * the log every few seconds. A file of a few hundred MiB takes minutes at a
 * site's speed; without this the agent looked idle meanwhile.
 */
import type { Logger } from '../runtime/logger.js'
import { formatMiB } from '../runtime/mib.js'

export interface FileTransferStatus {
  readonly direction: 'download' | 'upload'
  /** the file's name, or where it is */
  readonly name: string
  /** bytes moved in this attempt */
  readonly done: number
  /** the file's size when known (a site's download may not say) */
  readonly size: number | undefined
  /** 0–100; undefined without a size */
  readonly percent: number | undefined
  /** bytes per second since the attempt started */
  readonly rate: number
  /** seconds to go at `rate`; undefined without a size or a rate */
  readonly etaSeconds: number | undefined
  readonly startedAt: number
}

export interface FileTransfers {
  /** the transfers under way, oldest first */
  list (): FileTransferStatus[]
  /** `source`'s chunks, counted as one transfer while they flow (ended when the source ends or fails) */
  track (direction: FileTransferStatus['direction'], name: string, size: number | undefined, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array>
}

/** how often a running transfer logs its progress */
const LOG_EVERY_MS = 3000

interface Running { direction: FileTransferStatus['direction'], name: string, size: number | undefined, done: number, startedAt: number }

export function createFileTransfers (log: Logger, now: () => number = Date.now): FileTransfers {
  const running = new Set<Running>()

  const statusOf = (t: Running): FileTransferStatus => {
    const seconds = (now() - t.startedAt) / 1000
    const rate = seconds > 0 ? t.done / seconds : 0
    const percent = t.size !== undefined && t.size > 0 ? Math.min(100, t.done / t.size * 100) : t.size === 0 ? 100 : undefined
    const etaSeconds = t.size !== undefined && rate > 0 ? Math.max(0, (t.size - t.done) / rate) : undefined
    return { direction: t.direction, name: t.name, done: t.done, size: t.size, percent, rate, etaSeconds, startedAt: t.startedAt }
  }

  return {
    list: () => [...running].map(statusOf),

    async * track (direction, name, size, source) {
      const t: Running = { direction, name, size, done: 0, startedAt: now() }
      running.add(t)
      let logged = t.startedAt
      try {
        for await (const chunk of source) {
          t.done += chunk.byteLength
          if (now() - logged >= LOG_EVERY_MS) {
            logged = now()
            const s = statusOf(t)
            log.info({ direction, file: name, done: s.done, size: s.size, percent: s.percent, etaSeconds: s.etaSeconds }, formatFileTransfer(s))
          }
          yield chunk
        }
      } finally {
        running.delete(t)
      }
    }
  }
}

/** "download report.pdf from the instance: 120 MiB / 500 MiB (24%), ETA 7 s" */
export function formatFileTransfer (t: FileTransferStatus): string {
  const where = t.direction === 'download' ? 'from the instance' : 'into the instance'
  const amount = t.size !== undefined ? `${formatMiB(t.done)} / ${formatMiB(t.size)} (${Math.floor(t.percent ?? 0)}%)` : `${formatMiB(t.done)} so far`
  const eta = t.etaSeconds !== undefined ? `, ETA ${Math.ceil(t.etaSeconds)} s` : ''
  return `${t.direction} ${t.name} ${where}: ${amount}${eta}`
}
