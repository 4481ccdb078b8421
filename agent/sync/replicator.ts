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
import type { LoadedConfig } from '../../config/load.js'
import type { LiveChanges } from '../../config/live-changes.js'
import type { WireObject } from '../../protocol/object.js'
import { applyRemoteBatch, type ApplyStats } from '../apply/apply-remote.js'
import type { PullPlan } from '../apply/plan.js'
import { NotFoundError, PeerNotAllowedError } from '../errors.js'
import type { MeshPeer } from '../net/mesh.js'
import type { InboundRules } from '../rules/types.js'
import { dryRun } from './dry-run.js'
import { createInboundServing } from './inbound-serving.js'
import { PeerRuntimes, type PeerRuntime } from './peer-runtime.js'
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
  /** a pull session with this peer is open (false for a name no longer configured) */
  sessionOpen (name: string): boolean
  /** pull from a remote now and wait until caught up */
  syncNow (name: string): Promise<ProgressSnapshot>
  /** inbound rules of every peer (read-only enforcement, plan) */
  readonly inboundRules: readonly InboundRules[]
  /** fetch objects from a connected remote (retries of parked objects) */
  fetchFrom (peerName: string, uids: readonly string[]): Promise<{ objects: WireObject[], missing: string[] }>
  applyFrom (peerName: string, changes: readonly WireObject[]): Promise<ApplyStats>
  /** dry run: what a pull from this remote would do now, writing nothing */
  plan (peerName: string): Promise<PullPlan>
  /**
   * A reload: the runtimes of removed and changed peers end (their sessions
   * with them), changed and added peers get new ones under `config`, and the
   * remotes among them start pulling (from zero where the rules hash moved).
   */
  setPeers (config: LoadedConfig, changes: LiveChanges): Promise<void>
}

/**
 * A reload's changes to the runtimes: those of removed and changed entries
 * retire (their sessions end, awaited), changed and added entries get new
 * ones under `config`, restored from their checkpoints, and `started` runs
 * each (its pull loop, for a remote).
 */
async function replaceRuntimes (deps: ReplicatorDeps, peers: PeerRuntimes, config: LoadedConfig, changes: LiveChanges, started: (rt: PeerRuntime) => void): Promise<void> {
  const replaced = [...changes.removed, ...changes.changed].flatMap((name) => peers.find(name) ?? [])
  await Promise.allSettled(replaced.map(async (rt) => await rt.retire()))
  for (const name of changes.removed) peers.remove(name)
  const fresh = [...changes.changed, ...changes.added].flatMap((name) => config.peers.find((p) => p.name === name) ?? [])
  for (const peer of fresh) {
    const old = replaced.find((rt) => rt.config.name === peer.name && rt.config.peerId === peer.peerId)
    const rt = peers.add(config, peer)
    if (old !== undefined) rt.carryFrom(old)
    const checkpoint = await deps.store.getCheckpoint(peer.peerId).catch(() => undefined)
    if (checkpoint !== undefined) rt.restore(checkpoint)
    started(rt)
    peerChanged(deps, peer.name)
  }
}

/** "Get updates" from this remote over its open session. */
async function syncNowWith (rt: PeerRuntime): Promise<ProgressSnapshot> {
  const name = rt.config.name
  if (!rt.config.pull) throw new NotFoundError(`peer "${name}" is not a remote of this agent (pull: false): set pull: true to import from it`)
  const session = rt.session
  if (session === undefined || session.remote === undefined) throw new NotFoundError(`peer "${name}" is not connected${rt.lastError !== undefined ? ` (${rt.lastError})` : ''}: try again once it is up`)
  return await session.syncNow()
}

/** What ends a runtime's sessions: the replicator's stop, or the entry's retirement. */
function signalFor (rt: PeerRuntime, signal: AbortSignal): AbortSignal {
  return AbortSignal.any([signal, rt.retired.signal])
}

export function createReplicator (deps: ReplicatorDeps): Replicator {
  const { store, mesh } = deps
  const peers = new PeerRuntimes(deps.config, deps.now)
  const serving = createInboundServing(deps)
  let controller: AbortController | undefined
  /** every peer's import rules, kept as one array: local writes read it per object */
  let inboundRules = [...peers.all()].map((r) => r.rules)
  const startPulling = (rt: PeerRuntime, signal: AbortSignal): void => {
    if (rt.config.pull) rt.track(pullLoop(deps, rt, signalFor(rt, signal)))
  }

  return {
    get inboundRules () { return inboundRules },

    async start () {
      if (controller !== undefined) return
      controller = new AbortController()
      for (const { checkpoint, peerId } of await store.listCheckpoints()) peers.byPeerId(peerId)?.restore(checkpoint)
      for (const rt of peers.all()) startPulling(rt, controller.signal)
    },

    async stop () {
      controller?.abort()
      controller = undefined
      await Promise.allSettled([...[...peers.all()].flatMap((rt) => [...rt.tasks]), ...serving.running])
    },

    async setPeers (config, changes) {
      await replaceRuntimes(deps, peers, config, changes, (rt) => { if (controller !== undefined) startPulling(rt, controller.signal) })
      inboundRules = [...peers.all()].map((r) => r.rules)
    },

    handleInbound (stream, _connection, peer) {
      const rt = peers.find(peer.name)
      const signal = controller?.signal
      if (signal === undefined) stream.abort(new Error('agent is not running'))
      // a peer the config has just lost (a reload) whose connection is still being hung up on
      else if (rt === undefined || rt.config.peerId !== peer.peerId) stream.abort(new PeerNotAllowedError(peer.peerId))
      else serving.serve(rt, stream, peer, signalFor(rt, signal))
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

    sessionOpen (name) {
      return peers.find(name)?.session !== undefined
    },

    peerStatus (name) {
      return peerStatusOf(peers.get(name), store, mesh, store.conflictsByPeer(), store.failedByPeer())
    },

    syncNow: async (name) => await syncNowWith(peers.get(name)),

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
