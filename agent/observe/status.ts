/**
 * What the agent reports about itself: the status behind `GET /api/status`,
 * the CLI's table, the status page and the metrics.
 */
import type { BlobPeerStatus } from '../blobs/blob-status.js'
import type { PeerStatus } from '../sync/replicator.js'

/** One peer as the admin sees it: its sessions and lags (PeerStatus) and its blob transfers. */
export type PeerReport = PeerStatus & {
  /** blob transfers from this peer under way (bytes, percent, ETA), and blob counts since start */
  readonly blobs: BlobPeerStatus
}

export interface AgentStatusReport {
  readonly domain: string
  readonly peerId: string
  readonly listen: readonly string[]
  readonly httpUrl: string | undefined
  readonly instance: string
  readonly epoch: string
  readonly objects: number
  readonly feedHead: number
  readonly conflicts: number
  readonly failed: number
  /** local edits of read-only objects that were reverted (connectors that cannot refuse) */
  readonly readOnlyReverts: number
  readonly startedAt: number
  readonly peers: readonly PeerReport[]
}
