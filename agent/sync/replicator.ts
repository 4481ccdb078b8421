/**
 * The replicator: one pull loop per remote (`pull: true`) and one serve
 * session per inbound stream, plus the per-peer state the admin sees.
 *
 * A pull loop opens a session, runs it until it ends, and reconnects with
 * exponential backoff; the backoff resets after a session that got as far as
 * the hello. Relay is transitive by construction: what we apply from one
 * remote enters our feed, which every other peer pulls.
 *
 * This module wires the parts: the per-peer runtimes (peer-runtime.ts), the
 * pull loops (pull-loop.ts), inbound serving (inbound-serving.ts), the status
 * view (peer-status.ts) and the dry run (dry-run.ts). Between start() and
 * stop() one AbortController's signal runs every session; stop() aborts it
 * and waits for all of them.
 */
import type { Connection, Stream } from '@libp2p/interface'
import type { WireObject } from '../../protocol/object.js'
import { applyRemoteBatch, type ApplyStats } from '../apply/apply-remote.js'
import type { PullPlan } from '../apply/plan.js'
import { NotFoundError } from '../errors.js'
import type { MeshPeer } from '../net/mesh.js'
import type { InboundRules } from '../rules/types.js'
import { dryRun } from './dry-run.js'
import { createInboundServing } from './inbound-serving.js'
import { PeerRuntimes } from './peer-runtime.js'
import { peerStatusOf, type PeerStatus } from './peer-status.js'
import type { ProgressSnapshot } from './progress.js'
import { pullLoop } from './pull-loop.js'
import { applyContextFor, peerChanged, type ReplicatorDeps } from './replicator-deps.js'

export type { PeerStatus } from './peer-status.js'
export type { ReplicatorDeps, ReplicatorEvents } from './replicator-deps.js'

export interface Replicator {
  start (): Promise<void>
  stop (): Promise<void>
  handleInbound (stream: Stream, connection: Connection, peer: MeshPeer): void
  connectionChanged (peerName: string, connected: boolean, address: string | undefined): void
  status (): PeerStatus[]
  peerStatus (name: string): PeerStatus
  /** pull from a remote now and wait until caught up */
  syncNow (name: string): Promise<ProgressSnapshot>
  /** inbound rules of every peer (read-only enforcement, plan) */
  readonly inboundRules: readonly InboundRules[]
  /** fetch objects from a connected remote (retries of parked objects) */
  fetchFrom (peerName: string, uids: readonly string[]): Promise<{ objects: WireObject[], missing: string[] }>
  applyFrom (peerName: string, changes: readonly WireObject[]): Promise<ApplyStats>
  /** dry run: what a pull from this remote would do now, writing nothing */
  plan (peerName: string): Promise<PullPlan>
}

export function createReplicator (deps: ReplicatorDeps): Replicator {
  const { store, mesh } = deps
  const peers = new PeerRuntimes(deps.config, deps.now)
  const serving = createInboundServing(deps)
  let controller: AbortController | undefined
  const loops: Array<Promise<void>> = []

  return {
    inboundRules: [...peers.all()].map((r) => r.rules),

    async start () {
      if (controller !== undefined) return
      controller = new AbortController()
      for (const { checkpoint, peerId } of await store.listCheckpoints()) peers.byPeerId(peerId)?.restore(checkpoint)
      for (const rt of peers.all()) {
        if (rt.config.pull) loops.push(pullLoop(deps, rt, controller.signal))
      }
    },

    async stop () {
      controller?.abort()
      controller = undefined
      await Promise.allSettled([...loops, ...serving.running])
      loops.length = 0
    },

    handleInbound (stream, _connection, peer) {
      const rt = peers.get(peer.name)
      const signal = controller?.signal
      if (signal === undefined) {
        stream.abort(new Error('agent is not running'))
        return
      }
      serving.serve(rt, stream, peer, signal)
    },

    connectionChanged (peerName, connected, address) {
      const rt = peers.find(peerName)
      if (rt === undefined) return
      rt.connectionChanged(connected, address, deps.now())
      peerChanged(deps, peerName)
    },

    status () {
      const conflicts = store.conflictsByPeer()
      const failed = store.failedByPeer()
      return [...peers.all()].map((rt) => peerStatusOf(rt, store, mesh, conflicts, failed))
    },

    peerStatus (name) {
      return peerStatusOf(peers.get(name), store, mesh, store.conflictsByPeer(), store.failedByPeer())
    },

    async syncNow (name) {
      const rt = peers.get(name)
      if (!rt.config.pull) throw new NotFoundError(`peer "${name}" is not a remote of this agent (pull: false): set pull: true to import from it`)
      const session = rt.session
      if (session === undefined || session.remote === undefined) throw new NotFoundError(`peer "${name}" is not connected${rt.lastError !== undefined ? ` (${rt.lastError})` : ''}: try again once it is up`)
      return await session.syncNow()
    },

    async fetchFrom (peerName, uids) {
      const rt = peers.get(peerName)
      if (rt.session === undefined) throw new NotFoundError(`peer "${peerName}" is not connected`)
      return await rt.session.get(uids)
    },

    async plan (peerName) {
      return await dryRun(deps, peers.get(peerName), () => controller?.signal)
    },

    async applyFrom (peerName, changes) {
      const rt = peers.get(peerName)
      return await applyRemoteBatch(applyContextFor(deps, rt, rt.session), changes, undefined)
    }
  }
}
