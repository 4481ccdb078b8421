/**
 * What applying a batch from a remote is given (ApplyContext) and what it
 * reports (ApplyStats): shared by the phases of applyRemoteBatch, parking,
 * the dry run's stats and the sessions that call it. Re-exported by
 * apply-remote.ts, where callers import them from.
 */
import type { WireObject } from '../../protocol/object.js'
import type { Store } from '../../store/types.js'
import type { InstanceConnector } from '../connectors/connector.js'
import type { IgnoreReason, InboundRules } from '../rules/types.js'
import type { BlobAccess } from './blob-access.js'
import type { Logger } from '../runtime/logger.js'
import type { ProvenanceChecker } from './provenance.js'

export interface ApplyContext {
  readonly store: Store
  readonly connector: InstanceConnector
  readonly rules: InboundRules
  readonly rulesHash: string
  readonly peerId: string
  readonly now: () => number
  /** where refusals by the instance are logged (once per object and message) */
  readonly log?: Logger
  /** fetch objects by uid from the same remote (its serve rules apply) */
  readonly fetch: (uids: readonly string[]) => Promise<{ objects: readonly WireObject[], missing: readonly string[] }>
  /** which blobs are here, and fetching missing ones from the same remote */
  readonly blobs: BlobAccess
  /** checks every version's signature before anything is applied (agent/apply/provenance.ts) */
  readonly provenance: ProvenanceChecker
  /** a version from this peer was refused for its signature (parked BAD_SIGNATURE): log it, count it */
  readonly onBadSignature?: (uid: string, reason: string) => void
}

export interface ApplyStats {
  received: number
  /** objects whose current version or conflict set changed here */
  applied: number
  /** already held (equal or older vector) */
  unchanged: number
  ignored: number
  ignoredBy: Partial<Record<IgnoreReason, number>>
  /** new conflict siblings */
  conflicts: number
  /** parked in the failed queue */
  failed: number
  /** objects fetched because something required them */
  dependencies: number
  /** objects parked because a version's signature does not verify (counted in `failed` too) */
  badSignatures: number
  /** versions accepted without a signature */
  unsigned: number
}

export function emptyStats (): ApplyStats {
  return { received: 0, applied: 0, unchanged: 0, ignored: 0, ignoredBy: {}, conflicts: 0, failed: 0, dependencies: 0, badSignatures: 0, unsigned: 0 }
}
