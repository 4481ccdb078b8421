/**
 * What start() does, step by step, in the order the parts come up: secrets,
 * the store and the blob files beside it, the sessions (connector, mesh,
 * blobs, replicator), the connector's polling, then serving (libp2p
 * listening, metrics, admin app, pull loops, blob transfers, failed-queue
 * retries, the HTTP socket). Each step records its part in
 * `parts` as soon as it exists, so a failure at any step leaves exactly
 * what the unwind has to stop.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { LoadedConfig } from '../../config/load.js'
import { createBlobStore } from '../../store/blobs/blob-store.js'
import { createLevelStore } from '../../store/level-store.js'
import type { UpgradeProgress } from '../../store/upgrades/index.js'
import { createAdminApp } from '../admin/app.js'
import type { AgentOperations } from '../admin/deps.js'
import { startHttpServer } from '../admin/server.js'
import { createFailedRetrier } from '../apply/failed-retry.js'
import { createBlobService } from '../blobs/blob-service.js'
import { formatTransfer } from '../blobs/blob-status.js'
import type { InstanceConnector } from '../connectors/connector.js'
import { createConnectorFor } from '../connectors/index.js'
import { loadAdminToken, loadIdentityKey, loadSwarmKey, peerIdOf } from '../net/identity.js'
import { createMesh } from '../net/mesh.js'
import type { EventBus } from '../observe/events.js'
import { createMetrics } from '../observe/metrics.js'
import type { AgentStatusReport } from '../observe/status.js'
import type { Logger } from '../runtime/logger.js'
import { createReplicator } from '../sync/replicator.js'
import type { AgentParts, AgentSelf, NeedPart } from './parts.js'
import { adminDepsFor } from './operations.js'
import { assertNotListedAsPeer, listenError } from './start-checks.js'
import { connectorContext, forwardCommits, replicatorEvents, type AgentEventHooks } from './wiring.js'

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
  readonly events?: AgentEventHooks
}

/** Everything the start steps share: the agent's settings, its bus, and the parts being built. */
export interface StartContext {
  readonly config: LoadedConfig
  readonly deps: AgentDeps
  readonly log: Logger
  readonly now: () => number
  readonly bus: EventBus
  readonly self: AgentSelf
  readonly parts: AgentParts
  readonly need: NeedPart
  readonly status: () => AgentStatusReport
  readonly operations: AgentOperations
}

/** Bring every part up; on a throw, `ctx.parts` holds what has to be unwound. */
export async function startParts (ctx: StartContext): Promise<void> {
  const secrets = await loadSecrets(ctx)
  await openStore(ctx)
  buildSessions(ctx, secrets)
  if (ctx.deps.passive !== true) await startConnector(ctx)
  await startServing(ctx)
}

interface Secrets { readonly privateKey: PrivateKey, readonly psk: Uint8Array | undefined }

async function loadSecrets ({ config, self }: StartContext): Promise<Secrets> {
  const privateKey = await loadIdentityKey(config.paths.keyFile)
  self.peerId = peerIdOf(privateKey)
  assertNotListedAsPeer(config, self.peerId)
  self.token = await loadAdminToken(config.paths.tokenFile)
  const psk = config.paths.pskFile !== undefined ? await loadSwarmKey(config.paths.pskFile) : undefined
  return { privateKey, psk }
}

async function openStore ({ config, parts, bus, deps, log, now }: StartContext): Promise<void> {
  const store = createLevelStore({ location: config.paths.storeDir, domain: config.domain, now, onUpgradeProgress: upgradeLogger(log, now) })
  parts.store = store
  await store.open()
  parts.unsubscribeCommit = forwardCommits(store, bus, deps.events?.onCommit)
  const blobStore = createBlobStore(config.paths.blobsDir, { now })
  await blobStore.open()
  parts.blobStore = blobStore
}

/** Upgrade progress at open in the log: its start, every few seconds (percent, ETA), its end. */
function upgradeLogger (log: Logger, now: () => number): (p: UpgradeProgress) => void {
  let last = 0
  return (p) => {
    const t = now()
    if (p.done > 0 && !p.finished && t - last < 3000) return
    last = t
    const eta = p.etaSeconds !== undefined ? `, ETA ${Math.ceil(p.etaSeconds)} s` : ''
    log.info({ upgrade: p.name, to: p.to, done: p.done, total: p.total, resumed: p.resumed }, p.finished ? `store upgraded to schema ${p.to} (${p.name})` : `upgrading the store to schema ${p.to} (${p.name}): ${p.done} / ${p.total} (${p.percent}%)${eta}`)
  }
}

function buildSessions ({ config, deps, log, now, bus, parts, need }: StartContext, { privateKey, psk }: Secrets): void {
  const store = need('store', 'store')
  const connector = deps.connector ?? createConnectorFor(config, deps.env ?? {})
  parts.connector = connector
  const mesh = createMesh({
    privateKey,
    listen: deps.passive === true ? [] : config.listen,
    peers: config.peers,
    ...(psk !== undefined ? { psk } : {}),
    log: log.child({ component: 'mesh' }),
    onConnectionChange: (name, connected, address) => {
      parts.replicator?.connectionChanged(name, connected, address)
      bus.emit({ type: 'peer', peer: name, connected, ...(address !== undefined ? { address } : {}) })
    }
  })
  parts.mesh = mesh
  const blobs = createBlobService({
    config,
    store,
    blobs: need('blobStore', 'blob store'),
    mesh,
    log: log.child({ component: 'blobs' }),
    now,
    onTransfer: (peer, transfer, state) => bus.emit({ type: 'blob', peer, state, transfer, text: formatTransfer(transfer) })
  })
  parts.blobs = blobs
  const replicator = createReplicator({ config, store, mesh, connector, log: log.child({ component: 'replicator' }), now, blobs: blobs.access, events: replicatorEvents(bus, deps.events) })
  parts.replicator = replicator
  parts.local = { store, domain: config.domain, now, rules: replicator.inboundRules, blobs: blobs.access }
}

async function startConnector ({ deps, log, bus, self, need }: StartContext): Promise<void> {
  const connector = need('connector', 'connector')
  await connector.start(connectorContext({
    local: need('local', 'store'),
    blobs: need('blobStore', 'blob store'),
    connector: () => need('connector', 'connector'),
    replicator: () => need('replicator', 'replicator'),
    log,
    bus,
    onReadOnlyRevert: deps.events?.onReadOnlyRevert,
    reverted: () => { self.readOnlyReverts++ }
  }, log.child({ component: 'connector', kind: connector.kind })))
}

async function startServing ({ config, deps, log, now, bus, self, parts, need, status, operations }: StartContext): Promise<void> {
  const replicator = need('replicator', 'replicator')
  const blobs = need('blobs', 'blobs')
  await need('mesh', 'mesh').start(
    (stream, connection, peer) => replicator.handleInbound(stream, connection, peer),
    (stream, connection, peer) => blobs.handleInbound(stream, connection, peer)
  ).catch((err: unknown) => { throw listenError(err, config) })
  parts.metrics = createMetrics({ bus, status, processMetrics: deps.processMetrics === true })
  const app = createAdminApp(adminDepsFor(config, operations, { token: self.token, bus, need, log, now }))
  parts.app = app
  if (deps.passive === true) return
  await replicator.start()
  await blobs.start()
  const retrier = createFailedRetrier({
    store: need('store', 'store'),
    peers: { sessionOpen: (name) => replicator.peerStatus(name).sessionOpen, fetchFrom: replicator.fetchFrom, applyFrom: replicator.applyFrom },
    log: log.child({ component: 'failed-queue' }),
    now,
    blobs: blobs.access
  })
  parts.retrier = retrier
  retrier.start()
  // a blob that arrives may be what a parked object waits for
  const unsubscribe = need('blobStore', 'blob store').onAdded(() => retrier.nudge())
  parts.unsubscribeBlobs = unsubscribe
  parts.server = await startHttpServer(app, config.http.listen)
}
