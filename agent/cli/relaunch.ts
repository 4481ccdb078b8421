/**
 * `labmesh start` in a node that has the agent's start-time settings
 * (agent/runtime/node-flags.ts), however it was started: the npm bin link,
 * `node bin/labmesh.js start` in a systemd unit, npx. Runs in bin/labmesh.js
 * before anything else loads, so that a process that hands over holds next
 * to nothing.
 *
 * - Node 22.15+ / 23.11+ (process.execve): this process is replaced by the
 *   new node — same PID, stdio, signals and exit code as if started so.
 * - Older node (20), only when the admin set LABMESH_NODE_FLAGS (node-flags.ts
 *   says why not by default): the new node runs as a child with the same stdio; this
 *   process forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGUSR2 to it and
 *   ends the way it ended (its exit code, or the same signal). It stays
 *   resident meanwhile: ~7 MiB of its own memory (bench/README.md). A signal
 *   sent to both (Ctrl-C reaches the whole process group, a service manager
 *   the whole cgroup) arrives twice; start.ts takes the first. If this
 *   process is killed outright (SIGKILL), the child learns it from a pipe
 *   only this process holds open and ends as abruptly: whoever killed the
 *   `labmesh start` they see meant the agent (the crash tests do this).
 */
import { spawn } from 'node:child_process'
import { Socket } from 'node:net'
import { canReplaceProcess, isNothing, RELAUNCHED_VAR, startSettingsToApply } from '../runtime/node-flags.js'

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2']

type Execve = (file: string, args: readonly string[], env: Record<string, string | undefined>) => never

/** the command is `start` (the first argument that is not an option) */
export function isStartCommand (argv: readonly string[]): boolean {
  return argv.slice(2).find((a) => !a.startsWith('-')) === 'start'
}

/**
 * For `labmesh start` in a node that lacks the agent's settings: start one
 * that has them in its place and return true (this process then only waits
 * for it); otherwise false, and the caller runs the command itself.
 */
export function relaunchForAgent (argv: readonly string[]): boolean {
  if (!isStartCommand(argv)) return false
  const missing = startSettingsToApply(process.execArgv, process.env, canReplaceProcess())
  if (isNothing(missing)) return false
  const args = [...process.execArgv, ...missing.flags, ...argv.slice(1)]
  const env = { ...process.env, ...missing.env }
  const execve = (process as unknown as { execve?: Execve }).execve
  if (typeof execve === 'function' && canReplaceProcess()) {
    try {
      execve.call(process, process.execPath, [process.execPath, ...args], { ...env, [RELAUNCHED_VAR]: 'exec' })
    } catch {
      // could not replace this process (a sandbox refusing execve): run it as a child instead
    }
  }
  handOver(args, { ...env, [RELAUNCHED_VAR]: CHILD })
  return true
}

/** RELAUNCHED_VAR's value in a child that handOver started (its fd 3 is the parent's pipe) */
const CHILD = 'child'

/**
 * In the node a relaunch started (call first): forget the marker, so that
 * nothing the agent starts inherits it, and in a child started by handOver
 * end at once if the parent that started it is killed.
 */
export function adoptRelaunch (): void {
  const how = process.env[RELAUNCHED_VAR]
  if (how === undefined) return
  delete process.env[RELAUNCHED_VAR]
  if (how !== CHILD) return
  const parent = new Socket({ fd: 3, readable: true, writable: false })
  parent.on('error', () => {}) // a closed pipe ends it either way
  parent.on('close', () => process.kill(process.pid, 'SIGKILL'))
  parent.resume()
  parent.unref()
}

function handOver (args: readonly string[], env: NodeJS.ProcessEnv): void {
  // fd 3: a pipe nobody writes to; the child sees it close when this process dies
  const child = spawn(process.execPath, args, { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env })
  const forward = (signal: NodeJS.Signals): void => {
    try { child.kill(signal) } catch { /* it has already ended */ }
  }
  for (const s of FORWARDED) process.on(s, forward)
  child.once('error', (err) => {
    process.stderr.write(`labmesh: could not start ${process.execPath} for the agent: ${err.message}; set LABMESH_NODE_FLAGS=none to run it in this process\n`)
    process.exit(1)
  })
  child.once('exit', (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward)
    if (signal !== null) process.kill(process.pid, signal)
    else process.exit(code ?? 1)
  })
}
