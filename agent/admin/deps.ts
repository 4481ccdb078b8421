/**
 * What the admin HTTP app needs from the agent: a narrow facade, so the app
 * can be tested through `app.request()` without a socket and without libp2p.
 * Its operations part (`AgentOperations`) is also the public Agent's: what
 * the HTTP API can do, an in-process caller can do, through the same code.
 */
import type { Readable } from 'node:stream'
import type { BlobStat, PutResult } from '../../store/blobs/blob-store.js'
import type { AgentStatusReport, PeerReport } from '../observe/status.js'
import type { StoredObject, FailedEntry, HistoryEntry } from '../../store/types.js'
import type { DocumentInput, Resolution } from '../apply/local-writes.js'
import type { ConflictedObject } from '../apply/conflict-merge.js'
import type { Logger } from '../runtime/logger.js'
import type { ProgressSnapshot } from '../sync/progress.js'
import type { PullPlan } from '../apply/plan.js'
import type { EventBus } from '../observe/events.js'
import type { AgentMetrics } from '../observe/metrics.js'
import type { ReloadReport } from '../../config/live-changes.js'
import type { CreatedInvite, InviteOptions, InviteView, JoinOptions, JoinResult } from '../invite/types.js'
import type { EchoHoldView } from '../apply/echo-holds.js'
import type { FailedSummary } from '../apply/failed-summary.js'
import type { GroupRetryResult } from '../apply/failed-retry.js'
import type { VerifyOptions } from '../verify/verifier.js'
import type { VerificationStatus, VerifyResult } from '../verify/report.js'
import type { SelfVerifyReport } from '../verify/report-build.js'
import type { Frame } from '../../store/backup/format.js'

/** The document, conflict, failed-queue, sync and membership operations of a running agent. */
export interface AgentOperations {
  readonly documents: {
    get (uid: string): Promise<StoredObject | undefined>
    list (options: { type?: string, after?: string, limit: number }): Promise<{ items: readonly StoredObject[], next: string | null }>
    put (input: DocumentInput): Promise<StoredObject>
    /** many objects in one atomic transaction */
    putMany (inputs: readonly DocumentInput[]): Promise<StoredObject[]>
    delete (uid: string): Promise<StoredObject>
    /** the versions this agent has seen of the object, oldest first (undefined: it knows nothing of it) */
    history (uid: string): Promise<ObjectHistory | undefined>
  }
  /** files referenced from objects, by hash (content-addressed, stored once) */
  readonly blobs: {
    /** stream a file in; it is stored (once) when whole, fsynced and hashed; `maxBytes` caps it (BlobTooLargeError) */
    put (source: AsyncIterable<Uint8Array>, options?: { readonly maxBytes?: number }): Promise<PutResult>
    /** its bytes (or `start`…`end`, inclusive), streamed; NOT_FOUND when it is not here */
    read (hash: string, range?: { readonly start: number, readonly end: number }): Promise<{ stream: Readable, size: number }>
    stat (hash: string): Promise<BlobStat | undefined>
  }
  status (): AgentStatusReport
  peerStatus (name: string): PeerReport
  syncNow (name: string): Promise<ProgressSnapshot>
  /** dry run of a pull from this remote */
  plan (name: string): Promise<PullPlan>
  readonly conflicts: {
    /** conflicted objects in uid order, each with its three-way comparison */
    list (options: { limit?: number, after?: string }): Promise<ConflictedObject[]>
    /** one conflicted object with its three-way comparison (undefined: none, or no conflict) */
    get (uid: string): Promise<ConflictedObject | undefined>
    resolve (uid: string, resolution: Resolution): Promise<StoredObject>
  }
  readonly failed: {
    /** in uid order: `limit` entries after the uid `after` (only those with `code`, if given) */
    list (options: { limit: number, after?: string, code?: string }): Promise<FailedEntry[]>
    retry (uid: string): Promise<{ applied: boolean, entry: FailedEntry | undefined }>
    /** the whole queue grouped by reason code */
    summary (): Promise<FailedSummary>
    /** retry every object parked with this code now */
    retryGroup (code: string): Promise<GroupRetryResult>
  }
  /** objects the echo-loop guard holds */
  readonly echoLoops: {
    list (): EchoHoldView[]
    /** end a hold; the instance edit it held, if still current, is recorded */
    release (uid: string): Promise<{ uid: string, released: true, recorded: boolean }>
  }
  /** invitations for other agents to join this one (single use, persisted) */
  readonly invites: {
    create (options: InviteOptions): Promise<CreatedInvite>
    list (): InviteView[]
    revoke (id: string): Promise<void>
  }
  /** join the agent that issued `code`: both agents add each other to their peers (config file written and reloaded) */
  join (code: string, options: JoinOptions): Promise<JoinResult>
  /** read the config file again and apply what changed (peers, their rules); an invalid file changes nothing */
  reloadConfig (): Promise<ReloadReport>
  /** compare what we hold with what a peer holds (anti-entropy digest); optionally repair from it */
  verify (name: string, options?: VerifyOptions): Promise<VerifyResult>
  /** a peer's last verification and the one running */
  verification (name: string): VerificationStatus
  /** rebuild our digest from our records and compare it with the stored one */
  verifySelf (): Promise<SelfVerifyReport>
  /**
   * A backup of the running agent as frames (store/backup/format.ts): one
   * consistent snapshot of the store, and the file parts beside it. Read it
   * to the end or return() it (the snapshot is held until then); one at a
   * time (BACKUP_CONFLICT).
   */
  backup (): AsyncIterable<Frame>
}

/** GET /api/objects/:uid/history */
export interface ObjectHistory {
  readonly uid: string
  /** entries kept per object (config history.versions); older ones were dropped */
  readonly retention: number
  /** what the agent holds now (null: nothing, e.g. only a refused version was seen) */
  readonly current: { readonly vector: Readonly<Record<string, number>>, readonly deleted: boolean, readonly conflicts: number, readonly signature: 'valid' | 'unsigned' } | null
  readonly entries: readonly HistoryEntry[]
}

export interface AdminDeps extends AgentOperations {
  readonly token: string
  /** reads (GET) of /api work without the token */
  readonly publicStatus: boolean
  /** GET /metrics works without the token */
  readonly publicMetrics: boolean
  /** host names requests may be addressed to besides IP addresses and localhost (DNS-rebinding guard) */
  readonly allowedHosts: readonly string[]
  readonly bus: EventBus
  readonly metrics: () => AgentMetrics
  readonly maxBodyBytes: number
  /** largest PUT /api/blobs body (http.maxBlobBytes) */
  readonly maxBlobBytes: number
  readonly log: Logger
  /** the agent's clock (job times) */
  readonly now: () => number
}
