/**
 * The running config and its reloads (`labmesh reload`, SIGHUP, `POST
 * /api/config/reload`, and every join, which is a reload of the file it
 * wrote). A reload reads the file the agent was started with, validates it
 * exactly as a start would (every problem by field), refuses it whole when
 * it changes a key read only at start (config/live-changes.ts), and
 * otherwise applies the difference: the replicator first (removed and
 * changed peers' sessions end, new runtimes start pulling), then the mesh
 * (removed peers hung up on and refused by the gater, new ones dialled).
 *
 * Config changes run one at a time (`serially`): a reload, an invitation
 * being used and a join never interleave their reads and writes of the file.
 * A refused reload leaves the running config, its load time and every part
 * exactly as they were.
 */
import { loadConfigFile, type LoadedConfig } from '../../config/load.js'
import { ConfigRestartError } from '../../config/errors.js'
import { liveChanges, type ReloadReport } from '../../config/live-changes.js'
import { AgentError, describeError } from '../../protocol/errors.js'
import { BadRequestError } from '../errors.js'
import type { EventBus } from '../observe/events.js'
import type { Logger } from '../runtime/logger.js'
import type { AgentParts, AgentSelf, NeedPart } from './parts.js'
import { assertNotListedAsPeer } from './start-checks.js'

export interface LiveConfig {
  /** the config the agent runs with now */
  config: LoadedConfig
  /** when it was loaded (start or the last reload), ms since the epoch */
  loadedAt: number
  /** run one config change at a time */
  serially: <T>(run: () => Promise<T>) => Promise<T>
}

export function createLiveConfig (config: LoadedConfig, now: () => number): LiveConfig {
  let chain: Promise<unknown> = Promise.resolve()
  return {
    config,
    loadedAt: now(),
    serially: async <T>(run: () => Promise<T>): Promise<T> => {
      const next = chain.then(run)
      chain = next.catch(() => {})
      return await next
    }
  }
}

/** What a reload works with. */
export interface ReloadContext {
  readonly live: LiveConfig
  readonly self: AgentSelf
  readonly parts: AgentParts
  readonly need: NeedPart
  readonly bus: EventBus
  readonly log: Logger
  readonly now: () => number
  /** environment the file is read with (LABMESH_* overrides), as at start */
  readonly env: NodeJS.ProcessEnv
}

/** The file the running config came from, or BAD_REQUEST saying why there is none. */
export function configFileOf (config: LoadedConfig, what: string): string {
  if (config.configFile === undefined) throw new BadRequestError(`this agent was started from a config built in code, not from a file: there is no file to ${what}`)
  return config.configFile
}

/** Read the config file again and apply it (serially with other config changes). */
export async function reloadConfig (ctx: ReloadContext): Promise<ReloadReport> {
  return await ctx.live.serially(async () => {
    try {
      const file = configFileOf(ctx.live.config, 'reload')
      return await applyConfig(ctx, await loadConfigFile(file, ctx.env))
    } catch (err) {
      ctx.log.warn({ err: describeError(err), code: (err as AgentError).code }, `config reload refused, nothing changed: ${err instanceof Error ? err.message : String(err)}`)
      throw err
    }
  })
}

/** Apply a validated config to the running agent; call inside `live.serially`. */
export async function applyConfig (ctx: ReloadContext, next: LoadedConfig): Promise<ReloadReport> {
  if (ctx.self.state !== 'started') throw new AgentError('NOT_STARTED', `the config can be reloaded only while the agent runs (it is ${ctx.self.state})`)
  assertNotListedAsPeer(next, ctx.self.peerId)
  const changes = liveChanges(ctx.live.config, next)
  if (changes.restart.length > 0) throw new ConfigRestartError(changes.restart, next.configFile)
  await ctx.need('replicator', 'replicator').setPeers(next, changes)
  await ctx.need('mesh', 'mesh').setPeers(next.peers)
  ctx.live.config = next
  ctx.live.loadedAt = ctx.now()
  const report: ReloadReport = {
    file: next.configFile ?? '',
    loadedAt: ctx.live.loadedAt,
    added: changes.added,
    removed: changes.removed,
    changed: changes.changed,
    agentRules: changes.agentRules
  }
  ctx.log.info({ file: report.file, added: report.added, removed: report.removed, changed: report.changed, agentRules: report.agentRules }, 'config reloaded')
  ctx.bus.emit({ type: 'config', file: report.file, loadedAt: report.loadedAt, added: report.added, removed: report.removed, changed: report.changed })
  return report
}
