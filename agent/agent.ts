/**
 * The composition root: `createAgent(config, deps?)` wires the store, the
 * instance connector, the libp2p mesh, the replicator and the HTTP server
 * into one Agent with an explicit lifecycle.
 *
 * Lifecycle: stopped → starting → started → stopping → stopped. start() and
 * stop() are idempotent; a failed start unwinds whatever had started, then
 * rethrows. Stop order: HTTP server and protocol handler → sessions → store →
 * libp2p; each step's failure is logged and the next step still runs.
 */
import './runtime/polyfills.js'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { Hono } from 'hono'
import type { LoadedConfig } from '../config/load.js'
import { createLevelStore } from '../store/level-store.js'
import type { Store } from '../store/types.js'
import { createAdminApp } from './admin/app.js'
import type { AdminDeps } from './admin/deps.js'
import type { AgentStatusReport } from './observe/status.js'
import type { ApplyStats } from './apply/apply-remote.js'
import type { InstanceConnector } from './connectors/connector.js'
import { createConnectorFor } from './connectors/index.js'
import { AgentError, describeError } from '../protocol/errors.js'
import { ConfigError } from '../config/errors.js'
import { loadAdminToken, loadIdentityKey, loadSwarmKey, peerIdOf } from './net/identity.js'
import { createLogger, type Logger } from './runtime/logger.js'
import { deleteDocument, recordInstanceChange, resolveConflict, writeDocument, writeDocuments, type LocalWriteDeps } from './apply/local-writes.js'
import { createMesh, type Mesh } from './net/mesh.js'
import { createReplicator, type Replicator } from './sync/replicator.js'
import { createEventBus, type EventBus } from './observe/events.js'
import { createMetrics, type AgentMetrics } from './observe/metrics.js'
import { createFailedRetrier, type FailedRetrier } from './apply/failed-retry.js'

export type AgentState = 'stopped' | 'starting' | 'started' | 'stopping'

export interface AgentDeps {
  readonly logger?: Logger
  readonly now?: () => number
  /** replaces the connector the config names (tests, the SENAITE issue) */
  readonly connector?: InstanceConnector
  /**
   * Open the store and the mesh only: no pull loops, no failed-queue retries,
   * no HTTP server, no listening (`labmesh plan` when no agent is running).
   */
  readonly passive?: boolean
  /** also export the process's own metrics (CPU, memory, event loop): once per process, so only the CLI turns it on */
  readonly processMetrics?: boolean
  /** environment for secrets such as instance.passwordEnv */
  readonly env?: NodeJS.ProcessEnv
  readonly events?: {
    onBatchApplied?: (peer: string, stats: ApplyStats, batch: { remaining: number, more: boolean, durationMs: number }) => void
    onPeerChange?: (peer: string) => void
    onCommit?: (head: number) => void
    onReadOnlyRevert?: (uid: string, peer: string) => void
  }
}

export interface Agent {
  readonly config: LoadedConfig
  readonly state: AgentState
  start (): Promise<void>
  stop (): Promise<void>
  /** available after start */
  readonly peerId: string
  readonly store: Store
  readonly replicator: Replicator
  readonly app: Hono
  readonly token: string
  listenAddrs (): string[]
  readonly httpUrl: string | undefined
  status (): AgentStatusReport
  /** local writes, the same path the document API takes */
  readonly local: LocalWriteDeps
  /** what happens in the agent (SSE, metrics, tests) */
  readonly bus: EventBus
  readonly metrics: AgentMetrics
}

export function createAgent (config: LoadedConfig, deps: AgentDeps = {}): Agent {
  const log = deps.logger ?? createLogger({ level: config.log.level, domain: config.domain })
  const now = deps.now ?? Date.now
  let state: AgentState = 'stopped'
  let store: Store | undefined
  let mesh: Mesh | undefined
  let replicator: Replicator | undefined
  let retrier: FailedRetrier | undefined
  let connector: InstanceConnector | undefined
  let app: Hono | undefined
  let server: ServerType | undefined
  let httpUrl: string | undefined
  let token = ''
  let peerId = ''
  let local: LocalWriteDeps | undefined
  let startedAt = 0
  let readOnlyReverts = 0
  let unsubscribeCommit: (() => void) | undefined
  const bus = createEventBus((err) => log.warn({ err: describeError(err) }, 'event listener failed'))
  let metrics: AgentMetrics | undefined

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new AgentError('NOT_STARTED', `${what} is not available: the agent is ${state}`)
    return value
  }

  const status = (): AgentStatusReport => {
    const s = need(store, 'store')
    const info = s.info()
    return {
      domain: config.domain,
      peerId,
      listen: mesh?.listenAddrs() ?? [],
      httpUrl,
      instance: config.instance.kind,
      epoch: info.epoch,
      objects: info.objects,
      feedHead: info.head,
      conflicts: info.conflicts,
      failed: info.failed,
      readOnlyReverts,
      startedAt,
      peers: need(replicator, 'replicator').status()
    }
  }

  const adminDeps = (): AdminDeps => ({
    token,
    publicStatus: config.http.publicStatus,
    publicMetrics: config.http.publicMetrics,
    allowedHosts: [...config.http.allowedHosts, config.http.listen.slice(0, config.http.listen.lastIndexOf(':'))],
    bus,
    metrics: () => need(metrics, 'metrics'),
    maxBodyBytes: config.http.maxBodyBytes,
    log: log.child({ component: 'http' }),
    now,
    documents: {
      get: async (uid) => await need(store, 'store').getObject(uid),
      list: async (options) => await need(store, 'store').listObjects(options),
      put: async (input) => await writeDocument(need(local, 'store'), input),
      putMany: async (inputs) => await writeDocuments(need(local, 'store'), inputs),
      delete: async (uid) => await deleteDocument(need(local, 'store'), uid)
    },
    status,
    peerStatus: (name) => need(replicator, 'replicator').peerStatus(name),
    syncNow: async (name) => await need(replicator, 'replicator').syncNow(name),
    plan: async (name) => await need(replicator, 'replicator').plan(name),
    conflicts: {
      list: async (options) => await need(store, 'store').listConflicts(options),
      resolve: async (uid, resolution) => await resolveConflict(need(local, 'store'), uid, resolution)
    },
    failed: {
      list: async (options) => await need(store, 'store').listFailed(options),
      retry: async (uid) => await need(retrier, 'failed queue').retry(uid)
    }
  })

  async function unwind (): Promise<void> {
    const steps: Array<[string, () => Promise<void>]> = [
      ['http server', async () => { if (server !== undefined) await closeServer(server); server = undefined; httpUrl = undefined }],
      ['failed queue', async () => { await retrier?.stop() }],
      ['replicator', async () => { await replicator?.stop() }],
      ['connector', async () => { await connector?.stop() }],
      ['mesh', async () => { await mesh?.stop() }],
      ['store', async () => { unsubscribeCommit?.(); metrics?.stop(); await store?.close() }]
    ]
    for (const [name, step] of steps) {
      try {
        await step()
      } catch (err) {
        log.warn({ err: describeError(err), step: name }, 'error while stopping')
      }
    }
  }

  const agent: Agent = {
    config,
    get state () { return state },
    get peerId () { return peerId },
    get store () { return need(store, 'store') },
    get replicator () { return need(replicator, 'replicator') },
    get app () { return need(app, 'http app') },
    get token () { return token },
    get httpUrl () { return httpUrl },
    get local () { return need(local, 'store') },
    bus,
    get metrics () { return need(metrics, 'metrics') },
    listenAddrs: () => mesh?.listenAddrs() ?? [],
    status,

    async start () {
      if (state === 'started' || state === 'starting') return
      if (state === 'stopping') throw new AgentError('NOT_STARTED', 'the agent is stopping; start it again once stop() has resolved')
      state = 'starting'
      try {
        const privateKey = await loadIdentityKey(config.paths.keyFile)
        peerId = peerIdOf(privateKey)
        assertNotListedAsPeer(config, peerId)
        token = await loadAdminToken(config.paths.tokenFile)
        const psk = config.paths.pskFile !== undefined ? await loadSwarmKey(config.paths.pskFile) : undefined

        store = createLevelStore({ location: config.paths.storeDir, domain: config.domain })
        await store.open()
        const s = store
        let lastConflicts = s.info().conflicts
        let lastFailed = s.info().failed
        unsubscribeCommit = s.onCommit((e) => {
          const info = s.info()
          if (e.changed > 0) {
            deps.events?.onCommit?.(e.head)
            bus.emit({ type: 'commit', head: e.head, objects: info.objects })
          }
          // a write that only parks objects (or un-parks them) changes no feed entry: still an event
          if (info.conflicts !== lastConflicts) { lastConflicts = info.conflicts; bus.emit({ type: 'conflict', open: info.conflicts }) }
          if (info.failed !== lastFailed) { lastFailed = info.failed; bus.emit({ type: 'failure', parked: info.failed }) }
        })

        connector = deps.connector ?? createConnectorFor(config, deps.env ?? {})
        mesh = createMesh({
          privateKey,
          listen: deps.passive === true ? [] : config.listen,
          peers: config.peers,
          ...(psk !== undefined ? { psk } : {}),
          log: log.child({ component: 'mesh' }),
          onConnectionChange: (name, connected, address) => {
            replicator?.connectionChanged(name, connected, address)
            bus.emit({ type: 'peer', peer: name, connected, ...(address !== undefined ? { address } : {}) })
          }
        })
        const external = deps.events
        replicator = createReplicator({
          config,
          store,
          mesh,
          connector,
          log: log.child({ component: 'replicator' }),
          now,
          events: {
            onBatchApplied: (peer, stats, batch) => {
              external?.onBatchApplied?.(peer, stats, batch)
              bus.emit({ type: 'batch', peer, received: stats.received, applied: stats.applied, conflicts: stats.conflicts, failed: stats.failed, remaining: batch.remaining, more: batch.more, durationMs: batch.durationMs })
            },
            onPeerChange: (peer) => external?.onPeerChange?.(peer),
            onProgress: (peer, progress) => bus.emit({ type: 'progress', peer, progress }),
            onPullFinished: (peer, pulled, durationMs, caughtUp) => bus.emit({ type: 'pull-finished', peer, pulled, durationMs, caughtUp }),
            onServed: (peer, objects) => bus.emit({ type: 'served', peer, objects })
          }
        })
        local = { store, domain: config.domain, now, rules: replicator.inboundRules }
        const writeDeps = local
        if (deps.passive !== true) {
          await connector.start({
            store,
          log: log.child({ component: 'connector', kind: connector.kind }),
            pullsIdle: () => need(replicator, 'replicator').status().every((p) => p.progress.state === 'idle'),
            recordLocalChange: async (change, rows, precondition) => await recordInstanceChange({
              ...writeDeps,
              revert: async (object) => {
                const [result] = await need(connector, 'connector').applyRemote([{ previous: object, next: object }])
                if (result !== undefined && !result.ok) throw new AgentError('CONNECTOR_ERROR', `could not revert ${object.uid} in the instance: ${result.reason}`)
              },
              onReverted: (object, verdict) => {
                readOnlyReverts++
                log.warn({ uid: object.uid, type: object.type, id: object.id, peer: verdict.peer }, `reverted a local edit of read-only ${object.type} ${object.id} (types.readOnly of peer ${verdict.peer}); it was not sent out`)
                deps.events?.onReadOnlyRevert?.(object.uid, verdict.peer)
                bus.emit({ type: 'read-only-revert', uid: object.uid, peer: verdict.peer })
              }
            }, change, rows, precondition)
          })
        }
        const r = replicator
        await mesh.start((stream, connection, peer) => r.handleInbound(stream, connection, peer)).catch((err: unknown) => { throw listenError(err, config) })
        metrics = createMetrics({ bus, status, processMetrics: deps.processMetrics === true })
        app = createAdminApp(adminDeps())
        if (deps.passive !== true) {
          await replicator.start()
          retrier = createFailedRetrier({ store, peers: { sessionOpen: (name) => r.peerStatus(name).sessionOpen, fetchFrom: r.fetchFrom, applyFrom: r.applyFrom }, log: log.child({ component: 'failed-queue' }), now })
          retrier.start()
          const started = await listen(app, config.http.listen)
          server = started.server
          httpUrl = started.url
        }
        startedAt = now()
        state = 'started'
        log.info({ peerId, listen: mesh.listenAddrs(), http: httpUrl }, 'agent started')
      } catch (err) {
        log.error({ err: describeError(err) }, 'agent failed to start')
        await unwind()
        state = 'stopped'
        throw err
      }
    },

    async stop () {
      if (state === 'stopped' || state === 'stopping') return
      state = 'stopping'
      await unwind()
      state = 'stopped'
      log.info('agent stopped')
    }
  }
  return agent
}

/** A peer entry carrying this agent's own peer ID would make it dial itself. */
function assertNotListedAsPeer (config: LoadedConfig, selfId: string): void {
  const i = config.peers.findIndex((p) => p.peerId === selfId)
  if (i >= 0) {
    throw new ConfigError([{
      path: `peers[${i}].peerId`,
      message: 'is this agent\'s own peer ID',
      fix: 'list only other agents: paste the ID printed by `labmesh id --config <that peer\'s labmesh.yaml>`'
    }], config.configFile)
  }
}

/**
 * libp2p reports a listen address it cannot bind in its own words (and names
 * its own options); say which `listen` entry it was and what to do instead.
 */
function listenError (err: unknown, config: LoadedConfig): unknown {
  if ((err as { name?: string }).name !== 'UnsupportedListenAddressesError') return err
  const text = (err as Error).message
  const issues = config.listen.flatMap((addr, i) => {
    if (!text.includes(addr)) return []
    const inUse = /EADDRINUSE/.test(text)
    return [{
      path: `listen[${i}]`,
      message: inUse ? `${addr} is already in use` : `${addr} cannot be listened on`,
      fix: inUse ? 'stop whatever listens there or choose another port' : 'use an address of this machine, e.g. /ip4/0.0.0.0/tcp/4101'
    }]
  })
  return issues.length > 0 ? new ConfigError(issues, config.configFile) : err
}

async function listen (app: Hono, hostPort: string): Promise<{ server: ServerType, url: string }> {
  const sep = hostPort.lastIndexOf(':')
  const hostname = hostPort.slice(0, sep).replace(/^\[|\]$/g, '')
  const port = Number(hostPort.slice(sep + 1))
  return await new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
      resolve({ server, url: `http://${host}:${info.port}` })
    })
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new AgentError('CONFIG_INVALID', err.code === 'EADDRINUSE'
        ? `http.listen ${hostPort} is already in use: stop whatever listens there or choose another port`
        : `cannot listen on http.listen ${hostPort}: ${err.message}`))
    })
  })
}

async function closeServer (server: ServerType): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    // SSE and keep-alive connections would hold close() open forever
    if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') server.closeAllConnections()
  })
}
