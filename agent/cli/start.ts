/**
 * `labmesh start`: run one agent in this process until SIGTERM or Ctrl-C,
 * announce it on stdout once it is up, and exit as soon as it has stopped.
 * SIGHUP reloads the config file (as `labmesh reload`); the outcome is
 * logged, and a refused reload leaves the agent as it was.
 */
import { loadConfigFile } from '../../config/load.js'
import { createAgent } from '../agent.js'
import { loadAdminToken } from '../net/identity.js'
import { tuneHeapForAgent } from '../runtime/heap-tuning.js'
import { isNothing, missingStartSettings, NODE_FLAGS_VAR } from '../runtime/node-flags.js'
import { createLogger, type Logger } from '../runtime/logger.js'

/** a repeated SIGTERM / SIGINT this soon after the first is the same request delivered twice */
const REPEAT_SIGNAL_GRACE_MS = 1000

export async function runAgent (configFile: string): Promise<void> {
  const config = await loadConfigFile(configFile, process.env)
  tuneHeapForAgent(process.execArgv, process.env.NODE_OPTIONS)
  const logger = createLogger({ level: config.log.level, domain: config.domain })
  // what node runs it with (start-time memory settings: agent/runtime/node-flags.ts, relaunch.ts)
  logger.info({ node: process.version, execArgv: process.execArgv, mallocArenaMax: process.env.MALLOC_ARENA_MAX }, 'starting')
  const missing = missingStartSettings(process.execArgv, process.env)
  if (!isNothing(missing)) {
    logger.info({ flags: missing.flags, env: missing.env }, `node runs without the agent's memory settings (this node cannot replace its process): start it with ${[...Object.entries(missing.env).map(([k, v]) => `${k}=${v}`), ...(missing.flags.length > 0 ? [`NODE_OPTIONS="${missing.flags.join(' ')}"`] : [])].join(' ')}, or set ${NODE_FLAGS_VAR}="${missing.flags.join(' ')}" to have labmesh start a node with them (a second process); ~20 MiB less at a large pull (bench/README.md)`)
  }
  const agent = createAgent(config, { logger, env: process.env, processMetrics: true })
  // registered before the start: a SIGHUP's default action would end the process
  const onHangUp = (): void => {
    // the agent logs what it applied, or why it refused the file (and that it is not started yet)
    agent.reloadConfig().catch(() => {})
  }
  process.on('SIGHUP', onHangUp)
  const starting = agent.start()
  // SIGTERM / SIGINT handlers are in place before the start, and so before the
  // ready line: whoever sees the line may stop the agent at once, and without
  // a handler node's default action would end the process by the signal (exit
  // 143), skipping the stop. A signal during the start stops the agent once
  // the start has settled.
  const stopped = stopOnSignal(logger, async () => {
    await starting.catch(() => {})
    await agent.stop()
  })
  await starting
  if (!stopped.requested) {
    // the agent has just read this file: any problem with it failed the start
    const token = await loadAdminToken(config.paths.tokenFile)
    process.stdout.write(`labmesh ready: domain=${config.domain} peerId=${agent.peerId} listen=${agent.listenAddrs().join(',')} http=${agent.httpUrl ?? ''} status=${agent.httpUrl ?? ''}/#token=${token}\n`)
  }
  await stopped.done
  logger.flush()
  // Everything of ours is closed (store, HTTP, libp2p). libp2p 3's address
  // manager arms a 1 s debounce timer on its own transport:close during
  // stop and never clears it, which kept the process alive 1–2.5 s more;
  // a service manager waiting for the exit should not have to.
  process.exit(process.exitCode ?? 0)
}

/**
 * SIGTERM and SIGINT run `stop` (once); `done` resolves when it has. A
 * repeat of the signal within REPEAT_SIGNAL_GRACE_MS is the same request
 * delivered twice; a later one exits at once.
 */
function stopOnSignal (logger: Logger, stop: () => Promise<void>): { readonly requested: boolean, readonly done: Promise<void> } {
  let stoppingSince: number | undefined
  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => { resolveDone = resolve })
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stoppingSince !== undefined) {
      // The same signal often arrives twice at once: from the terminal or the
      // service manager and from a relaunching parent (relaunch.ts) — ignore
      // that; a repeat later means "now": end without waiting for the stop.
      if (performance.now() - stoppingSince < REPEAT_SIGNAL_GRACE_MS) return
      logger.warn({ signal }, 'second signal: exiting before the agent has stopped')
      logger.flush()
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15))
    }
    stoppingSince = performance.now()
    logger.info({ signal }, 'shutting down')
    stop().then(resolveDone, (err: unknown) => {
      logger.error({ err: (err as Error).message }, 'error during shutdown')
      resolveDone()
    })
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
  return { get requested () { return stoppingSince !== undefined }, done }
}
