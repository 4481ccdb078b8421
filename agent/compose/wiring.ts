/**
 * How the agent's parts report to each other and to the event bus: store
 * commits, replicator events, and the connector's context (recording edits
 * found in the instance, with the revert of read-only ones). Kept apart from
 * the lifecycle so that start() reads as the order things come up in.
 */
import { AgentError } from '../../protocol/errors.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'
import type { Store } from '../../store/types.js'
import { recordInstanceChange, type LocalWriteDeps } from '../apply/local-writes.js'
import type { ConnectorContext, InstanceConnector } from '../connectors/connector.js'
import type { EventBus } from '../observe/events.js'
import type { Logger } from '../runtime/logger.js'
import type { ApplyStats } from '../apply/apply-remote.js'
import type { Replicator, ReplicatorEvents } from '../sync/replicator.js'

/** Callbacks a caller of createAgent may pass (the bench, tests), called beside the bus events. */
export interface AgentEventHooks {
  onBatchApplied?: (peer: string, stats: ApplyStats, batch: { remaining: number, more: boolean, durationMs: number }) => void
  onPeerChange?: (peer: string) => void
  onCommit?: (head: number) => void
  onReadOnlyRevert?: (uid: string, peer: string) => void
}

/** Store commits as bus events; returns the unsubscribe. */
export function forwardCommits (store: Store, bus: EventBus, onCommit: ((head: number) => void) | undefined): () => void {
  let lastConflicts = store.info().conflicts
  let lastFailed = store.info().failed
  return store.onCommit((e) => {
    const info = store.info()
    if (e.changed > 0) {
      onCommit?.(e.head)
      bus.emit({ type: 'commit', head: e.head, objects: info.objects })
    }
    // a write that only parks objects (or un-parks them) changes no feed entry: still an event
    if (info.conflicts !== lastConflicts) { lastConflicts = info.conflicts; bus.emit({ type: 'conflict', open: info.conflicts }) }
    if (info.failed !== lastFailed) { lastFailed = info.failed; bus.emit({ type: 'failure', parked: info.failed }) }
  })
}

/** The replicator's events on the bus, and on to the caller's own listeners. */
export function replicatorEvents (bus: EventBus, external: AgentEventHooks | undefined): ReplicatorEvents {
  return {
    onBatchApplied: (peer, stats, batch) => {
      external?.onBatchApplied?.(peer, stats, batch)
      bus.emit({ type: 'batch', peer, received: stats.received, applied: stats.applied, conflicts: stats.conflicts, failed: stats.failed, remaining: batch.remaining, more: batch.more, durationMs: batch.durationMs })
    },
    onPeerChange: (peer) => external?.onPeerChange?.(peer),
    onProgress: (peer, progress) => bus.emit({ type: 'progress', peer, progress }),
    onPullFinished: (peer, pulled, durationMs, caughtUp) => bus.emit({ type: 'pull-finished', peer, pulled, durationMs, caughtUp }),
    onServed: (peer, objects) => bus.emit({ type: 'served', peer, objects })
  }
}

export interface ConnectorContextDeps {
  readonly local: LocalWriteDeps
  readonly blobs: BlobStore
  readonly connector: () => InstanceConnector
  readonly replicator: () => Replicator
  readonly log: Logger
  readonly bus: EventBus
  readonly onReadOnlyRevert: ((uid: string, peer: string) => void) | undefined
  /** counts the reverts for the status report */
  readonly reverted: () => void
}

/**
 * What the connector may do with the agent. An edit of a read-only object is
 * written back to the peer's version through the connector's own
 * applyRemote: an instance that cannot refuse edits (SENAITE) is corrected
 * after the fact, and the edit never reaches the feed.
 */
export function connectorContext (deps: ConnectorContextDeps, connectorLog: Logger): ConnectorContext {
  const { local, log, bus } = deps
  return {
    store: local.store,
    blobs: deps.blobs,
    log: connectorLog,
    pullsIdle: () => deps.replicator().status().every((p) => p.progress.state === 'idle'),
    recordLocalChange: async (change, rows, precondition) => await recordInstanceChange({
      ...local,
      revert: async (object) => {
        const [result] = await deps.connector().applyRemote([{ previous: object, next: object }])
        if (result !== undefined && !result.ok) throw new AgentError('CONNECTOR_ERROR', `could not revert ${object.uid} in the instance: ${result.reason}`)
      },
      onReverted: (object, verdict) => {
        deps.reverted()
        log.warn({ uid: object.uid, type: object.type, id: object.id, peer: verdict.peer }, `reverted a local edit of read-only ${object.type} ${object.id} (types.readOnly of peer ${verdict.peer}); it was not sent out`)
        deps.onReadOnlyRevert?.(object.uid, verdict.peer)
        bus.emit({ type: 'read-only-revert', uid: object.uid, peer: verdict.peer })
      }
    }, change, rows, precondition)
  }
}
