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
import { MAX_OBJECT_BYTES, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from '../../protocol/constants.js'
import type { WireObject } from '../../protocol/object.js'
import type { Store } from '../../store/types.js'
import type { LoadedConfig } from '../../config/load.js'
import type { PeerConfig } from '../../config/schema.js'
import { applyRemoteBatch, emptyStats, type ApplyContext, type ApplyStats } from '../apply/apply-remote.js'
import { createPlanner, type PullPlan } from '../apply/plan.js'
import type { InstanceConnector } from '../connectors/connector.js'
import { describeError } from '../../protocol/errors.js'
import { NotFoundError } from '../errors.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'
import type { Mesh, MeshPeer } from '../net/mesh.js'
import { sleep } from '../runtime/sleep.js'
import { PullProgress, type ProgressSnapshot } from './progress.js'
import { PullSession, type PullSessionDeps } from './pull-session.js'
import { compileInboundRules, inboundRulesHash } from '../rules/inbound.js'
import { compileServeRules, serveExclusion, serveRulesHash } from '../rules/serve.js'
import type { InboundRules } from '../rules/types.js'
import { serveSession, type SessionEnd } from './serve-session.js'

/**
 * What the admin API shows for one peer. Lags count objects: a feed entry is
 * the latest version of one object, so "entries after a position" is "objects
 * changed since it".
 */
export interface PeerStatus {
  readonly name: string
  readonly peerId: string
  /** we import from this peer (it is one of our remotes) */
  readonly pull: boolean
  /** a libp2p connection to the peer is open */
  readonly connected: boolean
  /** its address on the open connection, or the last one seen */
  readonly address: string | undefined
  /** ms since the epoch of the last message or connection from it */
  readonly lastContact: number | undefined
  /** the last session or connection error; cleared when a pull session starts */
  readonly lastError: string | undefined
  /** objects received from this peer into our store (all time, from the checkpoint) */
  readonly pulled: number
  /** objects we sent this peer since this agent started */
  readonly served: number
  /**
   * objects not sent to this peer since this agent started because no frame
   * can carry them (records over MAX_OBJECT_BYTES, stored before that limit);
   * each is logged once as a warning
   */
  readonly skipped: number
  /** the remote's feed head as last heard (hello, notify, batch); the checkpoint's seq before the first hello */
  readonly remoteHead: number
  /** last seq of the remote's feed applied here */
  readonly appliedSeq: number
  /**
   * Objects this remote has that we have not applied (0 for peers we do not
   * pull from): the remote's exact count at the last batch boundary, plus the
   * feed positions it announced since as an upper bound (= progress.remaining).
   */
  readonly lagIn: number
  /**
   * Objects of our feed after this peer's position (it has not pulled them):
   * exact while it has a session open (kept current as we commit); once it
   * disconnects, the last count plus our feed growth since, an upper bound.
   * Counts what its serve rules may exclude. 0 until it has pulled from us.
   */
  readonly lagOut: number
  /** lagIn for a remote we pull from, lagOut for a peer that only pulls from us */
  readonly lag: number
  /** open conflicts (objects) whose concurrent sibling arrived in a batch from this peer */
  readonly conflicts: number
  /** objects in the failed queue whose version came from this peer */
  readonly failed: number
  readonly progress: ProgressSnapshot
  /** a pull session with this remote is open */
  readonly sessionOpen: boolean
  /** serve sessions this peer has open with us (it pulls from us) */
  readonly serving: number
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
  skipped: number
  pulledBase: number
  pulledSession: number
  /** the peer's position in our feed, the objects after it, and our head when that was counted */
  out: { position: number, pending: number, head: number } | undefined
  serving: number
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
      skipped: 0,
      pulledBase: 0,
      pulledSession: 0,
      out: undefined,
      serving: 0,
      session: undefined
    })
  }
  const serveRules = new Map(config.peers.map((p) => [p.name, compileServeRules(p)]))
  /** uids of objects too large to serve that were logged already (once per agent run) */
  const oversizeWarned = new Set<string>()
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

  /** what every pull session with this peer is given, whatever it is for */
  const sessionBasics = (rt: PeerRuntime): Pick<PullSessionDeps, 'store' | 'domain' | 'peerName' | 'peerId' | 'window' | 'rulesHash' | 'now'> => ({
    store,
    domain: config.domain,
    peerName: rt.config.name,
    peerId: rt.config.peerId,
    window: config.sync.window,
    rulesHash: rt.rulesHash,
    now: deps.now
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
        ...sessionBasics(rt),
        live: rt.config.autoSync.live,
        intervalMs: rt.config.autoSync.interval,
        progress: rt.progress,
        log: peerLog,
        apply: async (s, changes, next, onPrepared) => await applyRemoteBatch(applyContext(rt, s), changes, next, onPrepared),
        onActivity: () => { rt.lastContact = deps.now() },
        onBatchApplied: (stats, batch) => {
          rt.pulledSession += stats.received
          deps.events?.onBatchApplied?.(rt.config.name, stats, batch)
          deps.events?.onProgress?.(rt.config.name, rt.progress.snapshot())
          changed(rt.config.name)
        },
        onPullFinished: (pulled, durationMs, caughtUp) => deps.events?.onPullFinished?.(rt.config.name, pulled, durationMs, caughtUp),
        onHeadAnnounced: () => deps.events?.onProgress?.(rt.config.name, rt.progress.snapshot()),
        // progress.connected() (at hello) already restarted the lag from the remote as it is now
        onStarted: () => { rt.lastError = undefined; changed(rt.config.name) }
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
        peerLog.warn({ err: rt.lastError, pulled: rt.pulledSession }, 'pull session ended with an error')
      } else {
        peerLog.info({ reason: end.reason, pulled: rt.pulledSession }, 'pull session ended')
      }
      changed(rt.config.name)
      if (signal.aborted) return
      if (session.remote !== undefined && deps.now() - started > 1000) delay = RECONNECT_MIN_MS
      await sleep(delay * (0.75 + Math.random() * 0.5), signal)
      delay = Math.min(RECONNECT_MAX_MS, delay * 2)
    }
  }

  const statusOf = (rt: PeerRuntime, conflictsByPeer: Map<string, number>, failedByPeer: Map<string, number>): PeerStatus => {
    const head = store.info().head
    const progress = rt.progress.snapshot()
    const lagIn = rt.config.pull ? progress.remaining : 0
    const out = rt.out
    const lagOut = out === undefined ? 0 : rt.serving > 0 ? out.pending : out.pending + Math.max(0, head - out.head)
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
      skipped: rt.skipped,
      remoteHead: progress.remoteHead ?? progress.appliedSeq,
      appliedSeq: progress.appliedSeq,
      lagIn,
      lagOut,
      lag: rt.config.pull ? lagIn : lagOut,
      conflicts: conflictsByPeer.get(rt.config.name) ?? 0,
      failed: failedByPeer.get(rt.config.name) ?? 0,
      progress,
      sessionOpen: rt.session !== undefined,
      serving: rt.serving
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
          rt.progress.restore(checkpoint.seq)
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
      rt.serving++
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
        onSkipped: (skip) => {
          rt.skipped++
          if (oversizeWarned.has(skip.uid)) return
          oversizeWarned.add(skip.uid)
          log.warn({ uid: skip.uid, bytes: skip.bytes, code: skip.reason }, `object ${skip.uid} takes ${skip.bytes} bytes as JSON, over the ${MAX_OBJECT_BYTES}-byte limit for one object (it was stored before that limit was enforced): no frame can carry it, so it is not served to any peer (counted per peer as "skipped"); make it smaller with a local edit`)
        },
        onPosition: (position, pending) => {
          const moved = rt.out?.position !== position
          rt.out = { position, pending, head: store.info().head }
          if (moved) changed(peer.name)
        }
      }, signal).catch((err: unknown): SessionEnd => ({ reason: 'error', error: err as Error })).then((end) => {
        rt.serving--
        if (end.reason === 'error') rt.lastError = describeError(end.error)
        peerLog.info({ reason: end.reason, served: rt.served }, 'serve session ended')
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
      const conflicts = store.conflictsByPeer()
      const failed = store.failedByPeer()
      return [...runtimes.values()].map((rt) => statusOf(rt, conflicts, failed))
    },

    peerStatus (name) {
      return statusOf(runtime(name), store.conflictsByPeer(), store.failedByPeer())
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
        ...sessionBasics(rt),
        live: false,
        intervalMs: 0,
        progress: new PullProgress(deps.now),
        log: log.child({ peer: rt.config.name, dryRun: true }),
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
