/**
 * What start() does, step by step, in the order the parts come up: secrets,
 * the store and the blob files beside it, the invitations, the sessions
 * (connector, mesh, blobs, replicator), the connector's polling, then
 * serving (libp2p listening with the invite protocol's guest door, metrics,
 * admin app, pull loops, blob transfers, failed-queue retries, the HTTP
 * socket). Each step records its part in `parts` as soon as it exists, so a
 * failure at any step leaves exactly what the unwind has to stop.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { LoadedConfig } from '../../config/load.js'
import { createBlobStore } from '../../store/blobs/blob-store.js'
import { createLevelStore } from '../../store/level-store.js'
import { formatUpgradeProgress, throttledUpgradeReporter } from '../../store/upgrades/format.js'
import { createAdminApp } from '../admin/app.js'
import type { AgentOperations } from '../admin/deps.js'
import { startHttpServer } from '../admin/server.js'
import { createFailedRetrier } from '../apply/failed-retry.js'
import { createBlobService } from '../blobs/blob-service.js'
import { formatTransfer } from '../blobs/blob-status.js'
import { createProvenanceChecker, type ProvenanceChecker } from '../apply/provenance.js'
import { createVersionSigner, type VersionSigner } from '../../protocol/provenance.js'
import type { InstanceConnector } from '../connectors/connector.js'
import { createConnectorFor } from '../connectors/index.js'
import { loadAdminToken, loadIdentityKey, loadSwarmKey, peerIdOf } from '../net/identity.js'
import { createMesh } from '../net/mesh.js'
import type { GuestPolicy } from '../net/guests.js'
import { guestAdmission } from '../invite/admission.js'
import { inviteHandler } from '../invite/host.js'
import { createInviteBook } from '../invite/invite-book.js'
import { reachableAddrs } from '../invite/addresses.js'
import { INVITE_ADMISSIONS_PER_MINUTE, INVITE_GUEST_TTL_MS, INVITE_PROTOCOL_ID, MAX_INVITE_GUESTS } from '../../protocol/invite-constants.js'
import type { EventBus } from '../observe/events.js'
import { createMetrics } from '../observe/metrics.js'
import type { AgentStatusReport } from '../observe/status.js'
import type { Logger } from '../runtime/logger.js'
import { createReplicator } from '../sync/replicator.js'
import { createVerifier } from '../verify/verifier.js'
import type { AgentParts, AgentSelf, NeedPart } from './parts.js'
import { adminDepsFor } from './operations.js'
import type { LiveConfig, ReloadContext } from './live-config.js'
import { admitJoiner } from './membership.js'
import { assertNotListedAsPeer, listenError } from './start-checks.js'
import { connectorContext, echoGuardFor, echoGuardOptions, forwardCommits, replicatorEvents, watchInstanceWrites, type AgentEventHooks } from './wiring.js'
import { syncVersionsFrom } from '../../protocol/versions.js'

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
  /**
   * Sync protocol versions to speak (default: all, 2 preferred). Not a config
   * key: tests restrict an agent to version 1 to stand for an older agent.
   */
  readonly protocolVersions?: readonly number[]
  /**
   * Push in protocol 2 (default on). Not a config key: tests turn it off to
   * stand for a version-2 agent that does not speak it.
   */
  readonly syncPush?: boolean
  /** more classic-level options for the store (benchmarks measuring cache and file settings); not a config key */
  readonly leveldb?: Readonly<Record<string, unknown>>
}

/** Everything the start steps share: the agent's settings, its bus, and the parts being built. */
export interface StartContext extends ReloadContext {
  /** the running config (live.config) */
  readonly config: LoadedConfig
  readonly live: LiveConfig
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
  if (ctx.deps.passive !== true) await openInvites(ctx)
  const connector = ctx.deps.connector ?? await createConnectorFor(ctx.config, ctx.deps.env ?? {})
  buildSessions(ctx, secrets, provenanceOf(ctx, secrets), connector)
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

/**
 * This agent's signer (its identity key signs every version made here) and
 * the checker of pulled versions, knowing from the start which peer ID each
 * configured peer's domain is (its name) and this agent's own; hellos add
 * to that as peers connect.
 */
function provenanceOf ({ config, self, log }: StartContext, { privateKey }: Secrets): { signer: VersionSigner, checker: ProvenanceChecker } {
  const checker = createProvenanceChecker({ requireSigned: config.provenance.requireSigned })
  checker.bind(config.domain, self.peerId)
  for (const peer of config.peers) {
    const warning = checker.bind(peer.name, peer.peerId)
    if (warning !== undefined) log.warn({ peer: peer.name }, `signer binding from the config: ${warning}`)
  }
  return { signer: createVersionSigner(config.domain, self.peerId, privateKey.raw), checker }
}

async function openStore ({ config, parts, bus, deps, log, now }: StartContext): Promise<void> {
  // an older store is upgraded as it opens: on a large one that takes a while, so it reports
  const onUpgradeProgress = throttledUpgradeReporter((p) => log.info({ schema: p.to, step: p.name, done: p.done, total: p.total, percent: p.percent, etaSeconds: p.etaSeconds }, formatUpgradeProgress(p)), 3000)
  const store = createLevelStore({ location: config.paths.storeDir, domain: config.domain, historyVersions: config.history.versions, now, onUpgradeProgress, ...(deps.leveldb !== undefined ? { leveldb: deps.leveldb } : {}) })
  parts.store = store
  await store.open()
  parts.unsubscribeCommit = forwardCommits(store, bus, deps.events?.onCommit)
  const blobStore = createBlobStore(config.paths.blobsDir, { now })
  await blobStore.open()
  parts.blobStore = blobStore
  const options = echoGuardOptions(config)
  if (options === undefined) return
  const guard = echoGuardFor({ store, log: log.child({ component: 'echo-guard' }), now, bus }, options)
  await guard.load()
  parts.echoGuard = guard
}

async function openInvites ({ config, parts, log, now }: StartContext): Promise<void> {
  const book = createInviteBook({ file: config.paths.invitesFile, now, log: log.child({ component: 'invite' }) })
  await book.load()
  parts.invites = book
}

/** Who may connect for the invite protocol without being a peer: only while an invitation is open, rate-limited. */
function guestPolicy ({ parts, log, now }: StartContext): GuestPolicy | undefined {
  const book = parts.invites
  if (book === undefined) return undefined
  return {
    protocol: INVITE_PROTOCOL_ID,
    admit: guestAdmission({
      invitationOpen: () => book.admitsGuests(),
      now,
      perMinute: INVITE_ADMISSIONS_PER_MINUTE,
      onLimited: (peerId) => log.warn({ peerId }, `more than ${INVITE_ADMISSIONS_PER_MINUTE} peers not in the config tried to connect for an invitation within a minute: refusing them for now`)
    }),
    maxGuests: MAX_INVITE_GUESTS,
    ttlMs: INVITE_GUEST_TTL_MS
  }
}

function buildSessions (ctx: StartContext, { privateKey, psk }: Secrets, provenance: { signer: VersionSigner, checker: ProvenanceChecker }, connector: InstanceConnector): void {
  const { config, deps, log, now, bus, parts, need } = ctx
  const guests = guestPolicy(ctx)
  const store = need('store', 'store')
  parts.connector = connector
  const mesh = createMesh({
    privateKey,
    listen: deps.passive === true ? [] : config.listen,
    peers: config.peers,
    ...(psk !== undefined ? { psk } : {}),
    ...(guests !== undefined ? { guests } : {}),
    log: log.child({ component: 'mesh' }),
    syncVersions: syncVersionsFrom(deps.protocolVersions),
    onConnectionChange: (name, connected, address) => {
      parts.replicator?.connectionChanged(name, connected, address)
      bus.emit({ type: 'peer', peer: name, connected, ...(address !== undefined ? { address } : {}) })
    }
  })
  parts.mesh = mesh
  const blobs = createBlobService({
    config,
    peers: () => ctx.live.config.peers,
    store,
    blobs: need('blobStore', 'blob store'),
    mesh,
    log: log.child({ component: 'blobs' }),
    now,
    onTransfer: (peer, transfer, state) => bus.emit({ type: 'blob', peer, state, transfer, text: formatTransfer(transfer) })
  })
  parts.blobs = blobs
  const replicator = createReplicator({ config, store, mesh, connector: watchInstanceWrites(connector, parts.echoGuard), log: log.child({ component: 'replicator' }), now, provenance: provenance.checker, blobs: blobs.access, events: replicatorEvents(bus, deps.events), ...(deps.syncPush === false ? { push: false } : {}) })
  parts.replicator = replicator
  parts.verifier = createVerifier({
    store,
    config: () => ctx.live.config,
    mesh,
    applyFrom: async (name, changes) => await replicator.applyFrom(name, changes),
    log: log.child({ component: 'verify' }),
    now,
    onChange: (name, running) => {
      deps.events?.onPeerChange?.(name)
      bus.emit({ type: 'verify', peer: name, running })
    }
  })
  // read-only enforcement follows the rules of the peers configured now (a reload changes them)
  parts.local = { store, domain: config.domain, now, get rules () { return replicator.inboundRules }, signer: provenance.signer, blobs: blobs.access }
}

async function startConnector ({ deps, log, bus, self, need, parts }: StartContext): Promise<void> {
  const connector = need('connector', 'connector')
  await connector.start(connectorContext({
    local: need('local', 'store'),
    blobs: need('blobStore', 'blob store'),
    connector: () => need('connector', 'connector'),
    replicator: () => need('replicator', 'replicator'),
    log,
    bus,
    onReadOnlyRevert: deps.events?.onReadOnlyRevert,
    reverted: () => { self.readOnlyReverts++ },
    echoGuard: parts.echoGuard
  }, log.child({ component: 'connector', kind: connector.kind })))
}

async function startServing (ctx: StartContext): Promise<void> {
  const { config, deps, log, now, bus, self, parts, need, status, operations } = ctx
  const replicator = need('replicator', 'replicator')
  const mesh = need('mesh', 'mesh')
  const blobs = need('blobs', 'blobs')
  const book = parts.invites
  await mesh.start({
    sync: (stream, connection, peer) => replicator.handleInbound(stream, connection, peer),
    verify: (stream, _connection, peer) => need('verifier', 'verify').serve(stream, peer),
    blob: (stream, connection, peer) => blobs.handleInbound(stream, connection, peer),
    ...(book !== undefined
      ? {
          guest: inviteHandler({
            book,
            peerId: self.peerId,
            domain: config.domain,
            listenAddrs: () => reachableAddrs(mesh.listenAddrs()),
            now,
            log: log.child({ component: 'invite' }),
            isPeer: (peerId) => ctx.live.config.peers.some((p) => p.peerId === peerId),
            admit: admitJoiner(ctx)
          })
        }
      : {})
  }).catch((err: unknown) => { throw listenError(err, config) })
  parts.metrics = createMetrics({ bus, status, processMetrics: deps.processMetrics === true })
  const app = createAdminApp(adminDepsFor(config, operations, { token: self.token, bus, need, log, now }))
  parts.app = app
  if (deps.passive === true) return
  await replicator.start()
  need('verifier', 'verify').start()
  await blobs.start()
  const retrier = createFailedRetrier({
    store: need('store', 'store'),
    peers: { sessionOpen: (name) => replicator.sessionOpen(name), fetchFrom: replicator.fetchFrom, applyFrom: replicator.applyFrom },
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
