/**
 * What the admin sees of blobs per peer: the transfers from it under way
 * (bytes, percent, rate, ETA) and counts since this agent started. Shown in
 * /api/status (`peers[].blobs`), the status page and the logs.
 */
import { formatMiB } from '../runtime/mib.js'

export interface BlobTransferStatus {
  readonly hash: string
  /** the file name the referencing object gives it, if any */
  readonly name: string | undefined
  readonly size: number
  /** bytes here (durable or being written) */
  readonly done: number
  /** 0–100 */
  readonly percent: number
  /** bytes per second over the current attempt */
  readonly rate: number
  /** seconds to go at `rate`; undefined until a rate is measured */
  readonly etaSeconds: number | undefined
  /** where the current attempt started (bytes found here from an earlier, cut attempt) */
  readonly resumedFrom: number
  /** queued: waiting for a slot; fetching; retrying: cut, waiting to resume */
  readonly state: 'queued' | 'fetching' | 'retrying'
  readonly attempts: number
}

export interface BlobPeerStatus {
  /** transfers from this peer under way */
  readonly transfers: readonly BlobTransferStatus[]
  /** blobs fetched from this peer since start, and their bytes received */
  readonly fetched: number
  readonly bytesFetched: number
  /** blobs from this peer refused because their bytes did not match their hash */
  readonly refused: number
  /** blob bytes sent to this peer since start (data frames), and blobs sent to their end */
  readonly bytesServed: number
  readonly served: number
}

/** "blob report.pdf (sha256:0a1b…): 120 MiB / 500 MiB (24%), ETA 7 s" */
export function formatTransfer (t: BlobTransferStatus): string {
  const eta = t.etaSeconds !== undefined ? `, ETA ${Math.ceil(t.etaSeconds)} s` : ''
  return `blob ${t.name !== undefined ? `${t.name} (${t.hash.slice(0, 15)}…)` : t.hash.slice(0, 23) + '…'}: ${formatMiB(t.done)} / ${formatMiB(t.size)} (${Math.floor(t.percent)}%)${eta}`
}
