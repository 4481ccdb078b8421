/**
 * Prometheus metrics (prom-client) with a registry per agent: several agents
 * share one process in tests and the demo, so nothing goes to the global
 * default registry. Gauges read the agent's state when scraped; counters and
 * the pull-duration histogram follow the event bus.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { AgentStatusReport } from './status.js'
import type { EventBus } from './events.js'

export interface AgentMetrics {
  readonly registry: Registry
  /** the exposition text of GET /metrics */
  render (): Promise<string>
  readonly contentType: string
  stop (): void
}

export function createMetrics (deps: { readonly bus: EventBus, readonly status: () => AgentStatusReport, readonly processMetrics?: boolean }): AgentMetrics {
  const registry = new Registry()
  const status = deps.status
  const perPeer = (name: string, help: string, pick: (p: AgentStatusReport['peers'][number]) => number): Gauge<'peer'> => new Gauge({
    name, help, labelNames: ['peer'] as const, registers: [registry],
    collect () {
      this.reset()
      for (const p of status().peers) this.set({ peer: p.name }, pick(p))
    }
  })
  new Gauge({ name: 'labmesh_objects', help: 'Objects in this agent\'s store (tombstones included)', registers: [registry], collect () { this.set(status().objects) } })
  new Gauge({ name: 'labmesh_feed_head', help: 'Highest sequence number of this agent\'s feed', registers: [registry], collect () { this.set(status().feedHead) } })
  new Gauge({ name: 'labmesh_conflicts', help: 'Objects holding unresolved concurrent versions', registers: [registry], collect () { this.set(status().conflicts) } })
  new Gauge({ name: 'labmesh_failed', help: 'Objects parked in the failed queue', registers: [registry], collect () { this.set(status().failed) } })
  new Gauge({ name: 'labmesh_config_loaded_timestamp_seconds', help: 'Unix time the running config was loaded (start or the last reload)', registers: [registry], collect () { this.set(status().configLoadedAt / 1000) } })
  new Gauge({ name: 'labmesh_echo_held_objects', help: 'Objects the echo-loop guard holds now (their instance edits are not sent out)', registers: [registry], collect () { this.set(status().echoHeld) } })
  perPeer('labmesh_peer_connected', '1 when a connection to the peer is open', (p) => p.connected ? 1 : 0)
  perPeer('labmesh_peer_lag_in', 'Objects the remote has that this agent has not applied (exact at batch boundaries)', (p) => p.lagIn)
  perPeer('labmesh_peer_lag_out', 'Objects of this agent\'s feed after the peer\'s position', (p) => p.lagOut)
  perPeer('labmesh_peer_conflicts', 'Open conflicts whose other side came from the peer', (p) => p.conflicts)
  perPeer('labmesh_peer_failed', 'Objects in the failed queue whose version came from the peer', (p) => p.failed)
  perPeer('labmesh_peer_skipped_objects', 'Objects not served to the peer since start because no frame can carry them (stored before the object size limit)', (p) => p.skipped)
  perPeer('labmesh_peer_last_contact_timestamp_seconds', 'Unix time of the last message or connection from the peer (0: never)', (p) => (p.lastContact ?? 0) / 1000)
  perPeer('labmesh_peer_sync_progress_percent', 'Progress of the current or last pull from the peer', (p) => p.progress.percent)
  perPeer('labmesh_peer_blob_transfers', 'Blob transfers from the peer under way', (p) => p.blobs.transfers.length)
  perPeer('labmesh_peer_blob_bytes_fetched', 'Blob bytes received from the peer since start', (p) => p.blobs.bytesFetched)
  perPeer('labmesh_peer_blob_bytes_served', 'Blob bytes sent to the peer since start', (p) => p.blobs.bytesServed)
  perPeer('labmesh_peer_blobs_refused', 'Blobs from the peer refused since start because their bytes did not match their hash', (p) => p.blobs.refused)
  const pulled = new Counter({ name: 'labmesh_pulled_objects_total', help: 'Objects received from the peer since start', labelNames: ['peer'] as const, registers: [registry] })
  const served = new Counter({ name: 'labmesh_served_objects_total', help: 'Objects served to the peer since start', labelNames: ['peer'] as const, registers: [registry] })
  const applied = new Counter({ name: 'labmesh_applied_objects_total', help: 'Objects whose version changed here, by peer', labelNames: ['peer'] as const, registers: [registry] })
  const echoLoops = new Counter({ name: 'labmesh_echo_loops_total', help: 'Echo loops found since start: objects held because they bounced between instances with no one editing them', registers: [registry] })
  const pullDuration = new Histogram({
    name: 'labmesh_pull_duration_seconds', help: 'Duration of pulls from a remote until caught up', labelNames: ['peer'] as const, registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
  })
  if (deps.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'labmesh_process_' })

  const unsubscribe = deps.bus.subscribe((event) => {
    switch (event.type) {
      case 'batch': pulled.inc({ peer: event.peer }, event.received); applied.inc({ peer: event.peer }, event.applied); break
      case 'served': served.inc({ peer: event.peer }, event.objects); break
      case 'pull-finished': if (event.pulled > 0) pullDuration.observe({ peer: event.peer }, event.durationMs / 1000); break
      case 'echo-loop': if (event.action === 'held') echoLoops.inc(); break
    }
  })

  return {
    registry,
    contentType: registry.contentType,
    render: async () => await registry.metrics(),
    stop: unsubscribe
  }
}
