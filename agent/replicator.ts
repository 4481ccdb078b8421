/**
 * The replicator: one pull loop per remote (`pull: true`) and one serve
 * session per inbound stream, plus the per-peer state the admin sees.
 *
 * A pull loop opens a session, runs it until it ends, and reconnects with
 * exponential backoff; the backoff resets after a session that got as far as
 * the hello. Relay is transitive by construction: what we apply from one
 * remote enters our feed, which every other peer pulls.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { RECONNECT_MAX_MS, RECONNECT_MIN_MS } from '../protocol/constants.js'
import type { WireObject } from '../protocol/object.js'
import type { Store } from '../store/types.js'
import type { LoadedConfig } from '../config/load.js'
import type { PeerConfig } from '../config/schema.js'
import { applyRemoteBatch, emptyStats, type ApplyContext, type ApplyStats } from './apply-remote.js'
import { createPlanner, type PullPlan } from './plan.js'
import type { InstanceConnector } from './connectors/connector.js'
import { describeError, NotFoundError } from './errors.js'
import { shortPeerId, type Logger } from './logger.js'
import type { Mesh, MeshPeer } from './mesh.js'
import { sleep } from './mesh.js'
import { PullProgress, type ProgressSnapshot } from './progress.js'
import { PullSession } from './pull-session.js'
import { compileInboundRules, inboundRulesHash } from './rules/inbound.js'
import { compileServeRules, serveExclusion, serveRulesHash } from './rules/serve.js'
import type { InboundRules } from './rules/types.js'
import { serveSession } from './serve-session.js'

/** What the admin API shows for one peer. */
export interface PeerStatus {
  readonly name: string
  readonly peerId: string
  readonly pull: boolean
  readonly connected: boolean
  readonly address: string | undefined
  readonly lastContact: number | undefined
  readonly lastError: string | undefined
  /** objects pulled from this peer into our store (all time) */
  readonly pulled: number
  /** objects we served to this peer since start */
  readonly served: number
  /** remote feed head as last heard (hello, notify, batch) */
  readonly remoteHead: number
  /** last remote seq applied here */
  readonly appliedSeq: number
  /** feed positions we are behind this remote (≈ objects) */
  readonly lagIn: number
  /** feed positions this peer is behind us, as of its last pull */
  readonly lagOut: number
  /** lagIn for a remote we pull from, lagOut for a peer that only pulls from us */
  readonly lag: number
  /** open conflicts whose other side came from this peer */
  readonly conflicts: number
  readonly progress: ProgressSnapshot
  readonly sessionOpen: boolean
}

export interface ReplicatorEvents {
  onBatchApplied?: (peer: string, stats: ApplyStats, batch: { remaining: number, more: boolean, durationMs: number }) => void
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
  readonly events?: ReplicatorEvents
}

interface PeerRuntime {
  readonly config: PeerConfig
  readonly rules: InboundRules
  readonly rulesHash: string
  readonly progress: PullProgress
  connected: boolean
  address: string | undefined
  lastContact: number | undefined
  lastError: string | undefined
  served: number
  pulledBase: number
  pulledSession: number
  remoteHead: number
  appliedSeq: number
  /** the seq this peer last pulled from (our feed) */
  servedSince: number | undefined
  session: PullSession | undefined
}

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
  const { config, store, mesh, log } = deps
  const runtimes = new Map<string, PeerRuntime>()
  for (const peer of config.peers) {
    const rules = compileInboundRules(config, peer)
    runtimes.set(peer.name, {
      config: peer,
      rules,
      rulesHash: inboundRulesHash(rules),
      progress: new PullProgress(deps.now),
      connected: false,
      address: undefined,
      lastContact: undefined,
      lastError: undefined,
      served: 0,
      pulledBase: 0,
      pulledSession: 0,
      remoteHead: 0,
      appliedSeq: 0,
      servedSince: undefined,
      session: undefined
    })
  }
  const serveRules = new Map(config.peers.map((p) => [p.name, compileServeRules(p)]))
  let controller: AbortController | undefined
  const loops: Array<Promise<void>> = []
  const inbound = new Set<Promise<unknown>>()

  const runtime = (name: string): PeerRuntime => {
    const r = runtimes.get(name)
    if (r === undefined) throw new NotFoundError(`no peer named "${name}" in this agent's config`)
    return r
  }

  const changed = (name: string): void => deps.events?.onPeerChange?.(name)

  const applyContext = (rt: PeerRuntime, session: PullSession | undefined): ApplyContext => ({
    store,
    connector: deps.connector,
    rules: rt.rules,
    rulesHash: rt.rulesHash,
    peerId: rt.config.peerId,
    now: deps.now,
    fetch: async (uids: readonly string[]) => {
      if (session === undefined) throw new NotFoundError(`peer "${rt.config.name}" is not connected`)
      return await session.get(uids)
    }
  })

  async function pullLoop (rt: PeerRuntime, signal: AbortSignal): Promise<void> {
    const peerLog = log.child({ peer: rt.config.name, peerId: shortPeerId(rt.config.peerId) })
    let delay = RECONNECT_MIN_MS
    while (!signal.aborted) {
      let stream: Stream
      try {
        stream = await mesh.openStream(rt.config.peerId, signal)
      } catch (err) {
        if (signal.aborted) return
        rt.lastError = `cannot reach peer: ${describeError(err)}`
        peerLog.debug({ err: describeError(err), retryInMs: delay }, 'cannot open a pull session')
        await sleep(delay * (0.75 + Math.random() * 0.5), signal)
        delay = Math.min(RECONNECT_MAX_MS, delay * 2)
        continue
      }
      const session = new PullSession(stream, {
        store,
        domain: config.domain,
        peerName: rt.config.name,
        peerId: rt.config.peerId,
        window: config.sync.window,
        live: rt.config.autoSync.live,
        intervalMs: rt.config.autoSync.interval,
        rulesHash: rt.rulesHash,
        progress: rt.progress,
        log: peerLog,
        now: deps.now,
        apply: async (s, changes, next) => await applyRemoteBatch(applyContext(rt, s), changes, next),
        onActivity: () => { rt.lastContact = deps.now(); rt.remoteHead = Math.max(rt.remoteHead, session.remoteHead) },
        onBatchApplied: (stats, batch) => {
          rt.pulledSession += stats.received
          rt.appliedSeq = batch.lastSeq
          rt.remoteHead = Math.max(rt.remoteHead, session.remoteHead)
          deps.events?.onBatchApplied?.(rt.config.name, stats, batch)
          deps.events?.onProgress?.(rt.config.name, rt.progress.snapshot())
          changed(rt.config.name)
        },
        onPullFinished: (pulled, durationMs, caughtUp) => deps.events?.onPullFinished?.(rt.config.name, pulled, durationMs, caughtUp),
        onStarted: (since) => {
          rt.lastError = undefined
          // the remote as it is now: after its store was rebuilt (new epoch), the head and the
          // position remembered from the old feed would show a lag that never clears
          rt.remoteHead = session.remoteHead
          rt.appliedSeq = since
          changed(rt.config.name)
        }
      })
      rt.session = session
      const checkpoint = await store.getCheckpoint(rt.config.peerId).catch(() => undefined)
      rt.pulledBase = checkpoint?.pulled ?? 0
      rt.pulledSession = 0
      changed(rt.config.name)
      const started = deps.now()
      const end = await session.run(signal)
      rt.session = undefined
      if (end.reason === 'error') {
        rt.lastError = describeError(end.error)
        peerLog.warn({ err: rt.lastError }, 'pull session ended with an error')
      } else {
        peerLog.info({ reason: end.reason }, 'pull session ended')
      }
      changed(rt.config.name)
      if (signal.aborted) return
      if (session.remote !== undefined && deps.now() - started > 1000) delay = RECONNECT_MIN_MS
      await sleep(delay * (0.75 + Math.random() * 0.5), signal)
      delay = Math.min(RECONNECT_MAX_MS, delay * 2)
    }
  }

  const statusOf = (rt: PeerRuntime, conflictsByPeer: Map<string, number>): PeerStatus => {
    const head = store.info().head
    const lagIn = rt.config.pull ? Math.max(0, rt.remoteHead - rt.appliedSeq) : 0
    const lagOut = rt.servedSince !== undefined ? Math.max(0, head - rt.servedSince) : 0
    return {
      name: rt.config.name,
      peerId: rt.config.peerId,
      pull: rt.config.pull,
      connected: mesh.isConnected(rt.config.peerId),
      address: mesh.remoteAddress(rt.config.peerId) ?? rt.address,
      lastContact: rt.lastContact,
      lastError: rt.lastError,
      pulled: rt.pulledBase + rt.pulledSession,
      served: rt.served,
      remoteHead: rt.remoteHead,
      appliedSeq: rt.appliedSeq,
      lagIn,
      lagOut,
      lag: rt.config.pull ? lagIn : lagOut,
      conflicts: conflictsByPeer.get(rt.config.name) ?? 0,
      progress: rt.progress.snapshot(),
      sessionOpen: rt.session !== undefined
    }
  }

  return {
    inboundRules: [...runtimes.values()].map((r) => r.rules),

    async start () {
      if (controller !== undefined) return
      controller = new AbortController()
      for (const { checkpoint, peerId } of await store.listCheckpoints()) {
        const rt = [...runtimes.values()].find((r) => r.config.peerId === peerId)
        if (rt !== undefined) {
          rt.appliedSeq = checkpoint.seq
          rt.remoteHead = checkpoint.seq
          rt.pulledBase = checkpoint.pulled
        }
      }
      for (const rt of runtimes.values()) {
        if (rt.config.pull) loops.push(pullLoop(rt, controller.signal))
      }
    },

    async stop () {
      controller?.abort()
      controller = undefined
      await Promise.allSettled([...loops, ...inbound])
      loops.length = 0
    },

    handleInbound (stream, _connection, peer) {
      const rt = runtime(peer.name)
      const rules = serveRules.get(peer.name)!
      const signal = controller?.signal
      if (signal === undefined) {
        stream.abort(new Error('agent is not running'))
        return
      }
      const peerLog = log.child({ peer: peer.name, peerId: shortPeerId(peer.peerId), side: 'serve' })
      peerLog.info('serve session started')
      const done = serveSession(stream, {
        store,
        domain: config.domain,
        peerName: peer.name,
        peerId: peer.peerId,
        batchSize: config.sync.batchSize,
        mayServe: (object) => serveExclusion(rules, object) === undefined,
        servesHash: serveRulesHash(rules),
        log: peerLog,
        onActivity: () => { rt.lastContact = deps.now() },
        onServed: (n) => { rt.served += n; deps.events?.onServed?.(peer.name, n) },
        onPosition: (seq) => { rt.servedSince = seq; changed(peer.name) }
      }, signal).then((end) => {
        if (end.reason === 'error') rt.lastError = describeError(end.error)
        peerLog.info({ reason: end.reason }, 'serve session ended')
        changed(peer.name)
      })
      inbound.add(done)
      void done.finally(() => inbound.delete(done))
    },

    connectionChanged (peerName, connected, address) {
      const rt = runtimes.get(peerName)
      if (rt === undefined) return
      rt.connected = connected
      if (address !== undefined) rt.address = address
      if (connected) rt.lastContact = deps.now()
      changed(peerName)
    },

    status () {
      const byPeer = store.conflictsByPeer()
      return [...runtimes.values()].map((rt) => statusOf(rt, byPeer))
    },

    peerStatus (name) {
      return statusOf(runtime(name), store.conflictsByPeer())
    },

    async syncNow (name) {
      const rt = runtime(name)
      if (!rt.config.pull) throw new NotFoundError(`peer "${name}" is not a remote of this agent (pull: false): set pull: true to import from it`)
      const session = rt.session
      if (session === undefined || session.remote === undefined) throw new NotFoundError(`peer "${name}" is not connected${rt.lastError !== undefined ? ` (${rt.lastError})` : ''}: try again once it is up`)
      return await session.syncNow()
    },

    async fetchFrom (peerName, uids) {
      const rt = runtime(peerName)
      if (rt.session === undefined) throw new NotFoundError(`peer "${peerName}" is not connected`)
      return await rt.session.get(uids)
    },

    async plan (peerName) {
      const rt = runtime(peerName)
      const stream = await mesh.openStream(rt.config.peerId)
      const planner = createPlanner(store, rt.rules)
      const session = new PullSession(stream, {
        store,
        domain: config.domain,
        peerName: rt.config.name,
        peerId: rt.config.peerId,
        window: config.sync.window,
        live: false,
        intervalMs: 0,
        rulesHash: rt.rulesHash,
        progress: new PullProgress(deps.now),
        log: log.child({ peer: rt.config.name, dryRun: true }),
        now: deps.now,
        once: true,
        apply: async (s, changes) => {
          await planner.batch(changes, async (uids) => await s.get(uids))
          return { ...emptyStats(), received: changes.length }
        }
      })
      const end = await session.run(controller?.signal ?? new AbortController().signal)
      if (end.reason === 'error') throw end.error
      return planner.result(session.resumedFrom)
    },

    async applyFrom (peerName, changes) {
      const rt = runtime(peerName)
      return await applyRemoteBatch(applyContext(rt, rt.session), changes, undefined)
    }
  }
}
