/**
 * What the replicator is given (ReplicatorDeps, re-exported by
 * replicator.ts), and what its parts hand on from it per peer: the basics of
 * every pull session with a peer, and the context a batch from it is applied
 * in. The pull loop, the dry run and retries of parked objects share these,
 * so a session or an apply sees the same peer the same way whatever it is for.
 */
import type { Store } from '../../store/types.js'
import type { LoadedConfig } from '../../config/load.js'
import type { ApplyContext, ApplyStats } from '../apply/apply-remote.js'
import type { BlobAccess } from '../apply/blob-access.js'
import type { ProvenanceChecker } from '../apply/provenance.js'
import type { InstanceConnector } from '../connectors/connector.js'
import { NotFoundError } from '../errors.js'
import type { Logger } from '../runtime/logger.js'
import type { Mesh } from '../net/mesh.js'
import type { PeerRuntime } from './peer-runtime.js'
import type { ProgressSnapshot } from './progress.js'
import type { AppliedBatch } from './pull-pipeline.js'
import type { PullSession, PullSessionDeps } from './pull-session.js'
import { offeredCodecs } from './compression-policy.js'

export interface ReplicatorEvents {
  onBatchApplied?: (peer: string, stats: ApplyStats, batch: AppliedBatch) => void
  onPeerChange?: (peer: string) => void
  onProgress?: (peer: string, progress: ProgressSnapshot) => void
  onPullFinished?: (peer: string, pulled: number, durationMs: number, caughtUp: boolean) => void
  onServed?: (peer: string, objects: number) => void
}

export interface ReplicatorDeps {
  readonly config: LoadedConfig
  readonly store: Store
  readonly mesh: Mesh
  readonly connector: InstanceConnector
  readonly log: Logger
  readonly now: () => number
  /** which blobs are here; fetching those an applied object misses from the peer that sent it */
  readonly blobs: BlobAccess
  /** checks signatures of pulled versions; learns domain ↔ peer ID from hellos */
  readonly provenance: ProvenanceChecker
  readonly events?: ReplicatorEvents
  /** push in protocol 2 (default on); off stands for a version-2 agent without it (tests) */
  readonly push?: boolean
}

/** Something the status view shows for this peer changed. */
export function peerChanged (deps: ReplicatorDeps, name: string): void {
  deps.events?.onPeerChange?.(name)
}

/** What every pull session with this peer is given, whatever it is for. */
export function sessionBasics (deps: ReplicatorDeps, rt: PeerRuntime): Pick<PullSessionDeps, 'store' | 'domain' | 'peerName' | 'peerId' | 'window' | 'rulesHash' | 'now' | 'codecs'> {
  return {
    // the link as it is now: the stream was just opened on this connection
    codecs: offeredCodecs(deps.config.sync.compression, deps.mesh.remoteAddress(rt.config.peerId)),
    store: deps.store,
    domain: deps.config.domain,
    peerName: rt.config.name,
    peerId: rt.config.peerId,
    window: deps.config.sync.window,
    rulesHash: rt.rulesHash,
    now: deps.now
  }
}

/** How a batch from this peer is applied; its dependencies are fetched over `session`, if one is open. */
export function applyContextFor (deps: ReplicatorDeps, rt: PeerRuntime, session: PullSession | undefined): ApplyContext {
  return {
    store: deps.store,
    connector: deps.connector,
    rules: rt.rules,
    rulesHash: rt.rulesHash,
    peerId: rt.config.peerId,
    now: deps.now,
    log: deps.log,
    fetch: async (uids: readonly string[]) => {
      if (session === undefined) throw new NotFoundError(`peer "${rt.config.name}" is not connected`)
      return await session.get(uids)
    },
    provenance: deps.provenance,
    onBadSignature: (uid, problem) => {
      rt.badSignatures++
      deps.log.warn({ peer: rt.config.name, peerId: rt.config.peerId, uid, problem }, `refused a version of ${uid} relayed by peer ${rt.config.name}: ${problem}; parked as BAD_SIGNATURE, the version held here is kept`)
      peerChanged(deps, rt.config.name)
    },
    blobs: deps.blobs
  }
}

/** A peer said hello over an authenticated connection: its peer ID speaks for the domain it names. */
export function learnBinding (deps: ReplicatorDeps, rt: PeerRuntime, domain: string): void {
  const warning = deps.provenance.bind(domain, rt.config.peerId)
  if (warning !== undefined) deps.log.warn({ peer: rt.config.name, domain }, `signer binding changed: ${warning} (from its hello); versions signed under the old binding no longer verify here`)
}
