/**
 * What the agent reports about itself: the status behind `GET /api/status`,
 * the CLI's table, the status page and the metrics.
 */
import type { BlobPeerStatus } from '../blobs/blob-status.js'
import type { PeerStatus } from '../sync/replicator.js'
import type { VerificationStatus } from '../verify/report.js'
import type { EchoHoldView } from '../apply/echo-holds.js'
import type { BackupProgress } from '../../store/backup/progress.js'
import type { FileTransferStatus } from '../connectors/file-transfers.js'

/** held objects listed in the status (GET /api/echo-loops lists them all) */
export const STATUS_ECHO_LOOPS = 100

/** One peer as the admin sees it: its sessions and lags (PeerStatus) and its blob transfers. */
export type PeerReport = PeerStatus & {
  /** blob transfers from this peer under way (bytes, percent, ETA), and blob counts since start */
  readonly blobs: BlobPeerStatus
  /** the last verify with this peer and the one running (labmesh verify) */
  readonly verification?: VerificationStatus
}

export interface AgentStatusReport {
  readonly domain: string
  readonly peerId: string
  readonly listen: readonly string[]
  readonly httpUrl: string | undefined
  readonly instance: string
  readonly epoch: string
  /** the vector entry this agent's edits raise: its domain, or after a restore from backup `<domain>~<tag>` */
  readonly entry?: string
  readonly objects: number
  readonly feedHead: number
  readonly conflicts: number
  readonly failed: number
  /** local edits of read-only objects that were reverted (connectors that cannot refuse) */
  readonly readOnlyReverts: number
  /** objects the echo-loop guard holds now: their instance edits are not sent out */
  readonly echoHeld: number
  /** echo loops found since start (each object held, or held again) */
  readonly echoLoopsFound: number
  /** the held objects, oldest hold first (at most STATUS_ECHO_LOOPS) */
  readonly echoLoops: readonly EchoHoldView[]
  readonly startedAt: number
  /** the config file the running config was read from (undefined when built in code) */
  readonly configFile: string | undefined
  /** when the running config was loaded: at start, or by the last reload */
  readonly configLoadedAt: number
  readonly peers: readonly PeerReport[]
  /** files moving between the instance and the agent now (SENAITE attachments), with percent and ETA */
  readonly instanceFiles?: readonly FileTransferStatus[]
  /** the backup being taken now (percent, ETA); null (or absent) when none runs */
  readonly backup?: BackupProgress | null
}
