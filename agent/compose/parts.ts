/**
 * What a started agent is made of, and how it comes apart. start() fills the
 * parts in order; stop() and a failed start run the same unwind over
 * whatever is there. Parts stay after a stop (a stopped agent's status and
 * store still answer as the closed store does); the next start replaces
 * them. Only the HTTP server is dropped, so httpUrl says there is none.
 */
import type { Hono } from 'hono'
import { AgentError, describeError } from '../../protocol/errors.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'
import type { Store } from '../../store/types.js'
import type { HttpServer } from '../admin/server.js'
import type { FailedRetrier } from '../apply/failed-retry.js'
import type { BlobService } from '../blobs/blob-service.js'
import type { LocalWriteDeps } from '../apply/local-writes.js'
import type { EchoLoopGuard } from '../apply/echo-holds.js'
import type { InstanceConnector } from '../connectors/connector.js'
import type { InviteBook } from '../invite/invite-book.js'
import type { Mesh } from '../net/mesh.js'
import type { AgentMetrics } from '../observe/metrics.js'
import type { Logger } from '../runtime/logger.js'
import type { Replicator } from '../sync/replicator.js'
import type { Verifier } from '../verify/verifier.js'

export type AgentState = 'stopped' | 'starting' | 'started' | 'stopping'

/** What the agent knows of itself beside its parts; peerId and token stay after a stop. */
export interface AgentSelf {
  state: AgentState
  peerId: string
  token: string
  startedAt: number
  /** local edits of read-only objects reverted in the instance since start */
  readOnlyReverts: number
}

export interface AgentParts {
  store?: Store
  /** blob files beside the store */
  blobStore?: BlobStore
  /** fetching, serving and collecting blobs */
  blobs?: BlobService
  /** stops nudging the failed queue when a blob arrives */
  unsubscribeBlobs?: () => void
  /** forwards the store's commits to the event bus */
  unsubscribeCommit?: () => void
  connector?: InstanceConnector
  mesh?: Mesh
  /** the invitations issued here (none when passive) */
  invites?: InviteBook
  replicator?: Replicator
  /** verifies with peers, and serving theirs */
  verifier?: Verifier
  /** local writes, the same path the document API takes */
  local?: LocalWriteDeps
  /** none when echoGuard.enabled is false */
  echoGuard?: EchoLoopGuard
  metrics?: AgentMetrics
  app?: Hono
  /** none when passive */
  retrier?: FailedRetrier
  /** none when passive */
  server?: HttpServer
}

/** A part, or NOT_STARTED naming it and the agent's state. */
export type NeedPart = <K extends keyof AgentParts>(key: K, what: string) => NonNullable<AgentParts[K]>

export function partsAccessor (parts: AgentParts, state: () => AgentState): NeedPart {
  return (key, what) => {
    const value = parts[key]
    if (value === undefined) throw new AgentError('NOT_STARTED', `${what} is not available: the agent is ${state()}`)
    return value as NonNullable<typeof value>
  }
}

/**
 * Stop order: HTTP server (no new requests) → failed queue → verifies → blob transfers
 * → sessions → connector → libp2p → store. Each step's failure is logged and
 * the next step still runs: a stop must release the store's lock whatever
 * else broke.
 */
export async function unwindParts (parts: AgentParts, log: Logger): Promise<void> {
  const steps: Array<[string, () => Promise<void>]> = [
    ['http server', async () => { if (parts.server !== undefined) await parts.server.close(); parts.server = undefined }],
    ['failed queue', async () => { parts.unsubscribeBlobs?.(); await parts.retrier?.stop() }],
    ['verifier', async () => { await parts.verifier?.stop() }],
    ['blob transfers', async () => { await parts.blobs?.stop() }],
    ['replicator', async () => { await parts.replicator?.stop() }],
    ['connector', async () => { await parts.connector?.stop() }],
    ['mesh', async () => { await parts.mesh?.stop() }],
    ['store', async () => { parts.unsubscribeCommit?.(); parts.metrics?.stop(); await parts.store?.close() }]
  ]
  for (const [name, step] of steps) {
    try {
      await step()
    } catch (err) {
      log.warn({ err: describeError(err), step: name }, 'error while stopping')
    }
  }
}
