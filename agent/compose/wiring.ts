/**
 * How the agent's parts report to each other and to the event bus: store
 * commits, replicator events, the connector's context (recording edits
 * found in the instance through the echo-loop guard, with the revert of
 * read-only ones), and the guard's view of what the agent writes into the
 * instance. Kept apart from the lifecycle so that start() reads as the order
 * things come up in.
 */
import { AgentError } from '../../protocol/errors.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'
import type { Store } from '../../store/types.js'
import type { LoadedConfig } from '../../config/load.js'
import { recordInstanceChange, type LocalWriteDeps } from '../apply/local-writes.js'
import { createEchoGuard, type EchoLoopGuard } from '../apply/echo-holds.js'
import type { EchoGuardOptions } from '../apply/echo-guard.js'
import type { ConnectorContext, InstanceConnector } from '../connectors/connector.js'
import type { EventBus } from '../observe/events.js'
import type { Logger } from '../runtime/logger.js'
import type { ApplyStats } from '../apply/apply-remote.js'
import type { Replicator, ReplicatorEvents } from '../sync/replicator.js'
import type { AppliedBatch } from '../sync/pull-pipeline.js'

/** Callbacks a caller of createAgent may pass (the bench, tests), called beside the bus events. */
export interface AgentEventHooks {
  /** `batch`: the feed positions (from, lastSeq] it covered, and whether it was pushed */
  onBatchApplied?: (peer: string, stats: ApplyStats, batch: AppliedBatch) => void
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
  readonly echoGuard: EchoLoopGuard | undefined
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
      ...(deps.echoGuard !== undefined ? { echoGuard: deps.echoGuard } : {}),
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

/** A round trip through another agent that takes longer than this is not part of a loop, whatever the window. */
const MIN_ROUND_TRIP_MS = 10 * 60_000
/** The echo window without a configured one: an instance the agent polls gets two polls and some slack. */
const DEFAULT_ECHO_WINDOW_MS = 30_000

/** The guard's settings from the config (echoGuard), or undefined when it is off. */
export function echoGuardOptions (config: LoadedConfig): EchoGuardOptions | undefined {
  const { echoGuard, instance } = config
  if (!echoGuard.enabled) return undefined
  const windowMs = echoGuard.window ?? (instance.kind === 'senaite' ? 2 * instance.pollInterval + DEFAULT_ECHO_WINDOW_MS : DEFAULT_ECHO_WINDOW_MS)
  return { bounces: echoGuard.bounces, windowMs, roundTripMs: Math.max(MIN_ROUND_TRIP_MS, 4 * windowMs) }
}

/** The echo-loop guard of an agent, its holds and releases on the bus. */
export function echoGuardFor (deps: { store: Store, log: Logger, now: () => number, bus: EventBus }, options: EchoGuardOptions): EchoLoopGuard {
  return createEchoGuard({
    store: deps.store,
    log: deps.log,
    now: deps.now,
    options,
    onEvent: (e) => deps.bus.emit({ type: 'echo-loop', uid: e.uid, objectType: e.type, id: e.id, action: e.action, held: e.held })
  })
}

/**
 * The connector as the replicator sees it: every version the instance took
 * is noted by the guard (when it was written is what tells the instance's
 * echo of it from a person's edit).
 */
export function watchInstanceWrites (connector: InstanceConnector, guard: EchoLoopGuard | undefined): InstanceConnector {
  if (guard === undefined) return connector
  return {
    kind: connector.kind,
    start: async (context) => { await connector.start(context) },
    stop: async () => { await connector.stop() },
    async applyRemote (writes, rows) {
      const results = await connector.applyRemote(writes, rows)
      // an initial sync, or an instance that never reports edits: nothing to note
      if (!guard.remembersAny) return results
      const written: string[] = []
      results.forEach((r, i) => { if (r.ok) written.push(writes[i]!.next.uid) })
      guard.noteWritten(written)
      return results
    },
    // reads only (the dry run): passed through as it is, or left out when the connector has none
    ...(connector.placement !== undefined ? { placement: connector.placement.bind(connector) } : {})
  }
}
