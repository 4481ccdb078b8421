/**
 * The composition root: `createAgent(config, deps?)` wires the store, the
 * instance connector, the libp2p mesh, the replicator and the HTTP server
 * into one Agent with an explicit lifecycle (the steps: compose/start.ts).
 *
 * Lifecycle: stopped → starting → started → stopping → stopped. start() and
 * stop() are idempotent; a failed start unwinds whatever had started, then
 * rethrows. Stop order (compose/parts.ts): HTTP server → failed queue →
 * sessions → connector → libp2p → store; each step's failure is logged and
 * the next step still runs.
 *
 * The Agent hands out operations, never its parts: what a program can do
 * with a running agent is what the admin API can do. Tests that must look
 * inside go through `agentInternals` (test-hooks.ts), which production code
 * may not import.
 */
import './runtime/polyfills.js'
import type { LoadedConfig } from '../config/load.js'
import { AgentError, describeError } from '../protocol/errors.js'
import type { AgentOperations } from './admin/deps.js'
import type { AgentEvent } from './observe/events.js'
import { createEventBus } from './observe/events.js'
import { createLogger } from './runtime/logger.js'
import { createLiveConfig } from './compose/live-config.js'
import { membershipOperations } from './compose/membership.js'
import { createAgentOperations, statusReporter } from './compose/operations.js'
import { backupFileParts, createBackupOperation } from './compose/backup.js'
import { partsAccessor, unwindParts, type AgentParts, type AgentSelf, type AgentState } from './compose/parts.js'
import { startParts, type AgentDeps, type StartContext } from './compose/start.js'
import { AGENT_INTERNALS, type AgentInternals } from './test-hooks.js'

export type { AgentState } from './compose/parts.js'
export type { AgentDeps } from './compose/start.js'
export type { AgentEventHooks } from './compose/wiring.js'

/**
 * A labmesh agent. The operations (documents, conflicts, failed, status,
 * peerStatus, syncNow, plan, invites, join, reloadConfig) are the admin
 * API's (`AgentOperations`); they throw NOT_STARTED until start() has
 * brought the parts up.
 */
export interface Agent extends AgentOperations {
  /** the config it runs with: the one it was created with, or the last one a reload applied */
  readonly config: LoadedConfig
  readonly state: AgentState
  start (): Promise<void>
  stop (): Promise<void>
  /** available after start */
  readonly peerId: string
  listenAddrs (): string[]
  /** where the admin API listens; undefined when stopped or passive */
  readonly httpUrl: string | undefined
  /** what happens in the agent (peers, batches, commits, conflicts …); returns the unsubscribe */
  subscribe (listener: (event: AgentEvent) => void): () => void
  /**
   * One request to the admin API in process, through the same Hono app (and
   * so the same token check, host check and body limits) as a request on
   * the socket. `path` is a path ('/api/status') or a whole URL.
   */
  request (path: string, init?: RequestInit): Promise<Response>
  /** tests only: read with `agentInternals(agent)` from test-hooks.ts */
  readonly [AGENT_INTERNALS]: AgentInternals
}

export function createAgent (config: LoadedConfig, deps: AgentDeps = {}): Agent {
  const log = deps.logger ?? createLogger({ level: config.log.level, domain: config.domain })
  const now = deps.now ?? Date.now
  const bus = createEventBus((err) => log.warn({ err: describeError(err) }, 'event listener failed'))
  const self: AgentSelf = { state: 'stopped', peerId: '', token: '', startedAt: 0, readOnlyReverts: 0 }
  const parts: AgentParts = {}
  const need = partsAccessor(parts, () => self.state)
  const live = createLiveConfig(config, now)
  const backups = createBackupOperation({
    need,
    peerId: () => self.peerId,
    parts: () => backupFileParts(live.config),
    remotes: () => live.config.peers.filter((p) => p.pull).map((p) => p.name),
    log,
    now
  })
  const status = statusReporter(config, self, parts, need, live, backups.progress)
  const reload = { live, self, parts, need, bus, log, now, env: deps.env ?? {} }
  const operations: AgentOperations = { ...createAgentOperations(need, status, config.history.versions), ...membershipOperations(reload), backup: backups.backup }
  const ctx: StartContext = { ...reload, get config () { return live.config }, deps, status, operations }

  const internals: AgentInternals = {
    get store () { return need('store', 'store') },
    get token () { return self.token },
    bus,
    get metrics () { return need('metrics', 'metrics') },
    get app () { return need('app', 'http app') }
  }

  return {
    ...operations,
    get config () { return live.config },
    get state () { return self.state },
    get peerId () { return self.peerId },
    get httpUrl () { return parts.server?.url },
    listenAddrs: () => parts.mesh?.listenAddrs() ?? [],
    subscribe: (listener) => bus.subscribe(listener),
    request: async (path, init) => await need('app', 'http app').request(path, init),
    [AGENT_INTERNALS]: internals,

    async start () {
      if (self.state === 'started' || self.state === 'starting') return
      if (self.state === 'stopping') throw new AgentError('NOT_STARTED', 'the agent is stopping; start it again once stop() has resolved')
      self.state = 'starting'
      try {
        await startParts(ctx)
        self.startedAt = now()
        self.state = 'started'
        log.info({ peerId: self.peerId, listen: parts.mesh?.listenAddrs() ?? [], http: parts.server?.url }, 'agent started')
      } catch (err) {
        log.error({ err: describeError(err) }, 'agent failed to start')
        await unwindParts(parts, log)
        self.state = 'stopped'
        throw err
      }
    },

    async stop () {
      if (self.state === 'stopped' || self.state === 'stopping') return
      self.state = 'stopping'
      await unwindParts(parts, log)
      self.state = 'stopped'
      log.info('agent stopped')
    }
  }
}
