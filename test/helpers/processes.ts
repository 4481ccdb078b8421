/**
 * Agents as real processes: `labmesh start` spawned from the built CLI, with
 * its ready line parsed from stdout. Used by the e2e and crash tests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { stringify } from 'yaml'
import { createLevelStore } from '../../store/level-store.js'
import { writeDocuments, type DocumentInput } from '../../agent/apply/local-writes.js'
import type { TestNode } from './nodes.js'

/** bin/labmesh.js of this checkout, found from the source tree or from dist/ */
export const CLI = [resolve(import.meta.dirname, '../../bin/labmesh.js'), resolve(import.meta.dirname, '../../../bin/labmesh.js')]
  .find((file) => existsSync(file)) ?? resolve(import.meta.dirname, '../../bin/labmesh.js')

export interface AgentProcess {
  readonly proc: ChildProcess
  readonly peerId: string
  readonly httpUrl: string
  readonly stderr: string[]
  /** resolves with the exit code (or signal) */
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  api<T> (method: string, path: string, body?: unknown): Promise<T>
}

/** Write a config file for `node` listing `peers` (pull from those with pull: true). */
export async function writeNodeConfig (node: TestNode, peers: Array<{ node: TestNode, pull?: boolean, extra?: Record<string, unknown> }>, extra: Record<string, unknown> = {}): Promise<string> {
  const file = join(node.dir, 'labmesh.yaml')
  await writeFile(file, stringify({
    domain: node.domain,
    dataDir: './data',
    listen: [node.addr],
    http: { listen: `127.0.0.1:${node.httpPort}` },
    log: { level: 'info' },
    ...extra,
    peers: peers.map((p) => ({ name: p.node.domain, peerId: p.node.peerId, addrs: [p.node.addr], pull: p.pull ?? false, autoSync: { interval: '1h', live: true }, ...p.extra }))
  }))
  return file
}

export async function runCli (args: readonly string[], options: { timeout?: number } = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`labmesh ${args.join(' ')} timed out; stderr: ${stderr}`)) }, options.timeout ?? 20_000)
    proc.on('exit', (code) => { clearTimeout(timer); resolvePromise({ code, stdout, stderr }) })
  })
}

/**
 * How long an agent may take to get ready. `labmesh start` uses about
 * START_CPU_MEASURED_S of CPU to get ready (module loading, LevelDB open with
 * its log replayed after a SIGKILL, libp2p; measured 1.6 s for a store of
 * 20,000 objects, 1.8 s restarting it after a SIGKILL mid-pull, 3.5–4.3 s of
 * wall time at load 2) — but on the 2-core machine
 * shared by several engineers' suites (load 25) a process gets a twelfth of
 * a core, and the same start took over 20 s of wall time: the fixed 20 s
 * this helper had failed the crash harness there. So the start is judged by
 * its own CPU time (Linux /proc): more than START_CPU_BUDGET_S without the
 * ready line is a start that is broken, not starved. The wall-clock cap only
 * catches a start that hangs without using CPU.
 */
const START_CPU_MEASURED_S = 1.8
const START_CPU_BUDGET_S = 10 * START_CPU_MEASURED_S
const START_WALL_CAP_MS = 120_000

/** CPU seconds (user + system) process `pid` has used, from /proc; undefined where there is none. */
async function cpuSeconds (pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // fields after the command name in parentheses: state is field 3, utime 14, stime 15 (clock ticks, 100 a second)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

export async function spawnAgent (configFile: string, options: { token: string, timeout?: number, nodeArgs?: readonly string[], user?: { uid: number, gid: number }, env?: NodeJS.ProcessEnv }): Promise<AgentProcess> {
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'start', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.user ?? {}), ...(options.env !== undefined ? { env: options.env } : {}) })
  const stderr: string[] = []
  proc.stderr!.on('data', (d: Buffer) => { stderr.push(d.toString()) })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((res) => proc.on('exit', (code, signal) => res({ code, signal })))
  const ready = await new Promise<string>((res, reject) => {
    let out = ''
    const started = Date.now()
    const fail = (why: string): void => { clearTimeout(timer); clearInterval(watch); reject(new Error(`agent ${configFile} not ready: ${why}; stderr: ${stderr.join('')}`)) }
    const timer = setTimeout(() => fail(`not ready after ${Math.round((Date.now() - started) / 1000)} s`), options.timeout ?? START_WALL_CAP_MS)
    // a start is judged by the CPU it used, not by the wall clock of a shared machine (START_CPU_BUDGET_S)
    const watch = setInterval(() => {
      void cpuSeconds(proc.pid).then((cpu) => { if (cpu !== undefined && cpu > START_CPU_BUDGET_S) fail(`it used ${cpu.toFixed(1)} s of CPU in ${Math.round((Date.now() - started) / 1000)} s without getting ready`) })
    }, 500)
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find((l) => l.startsWith('labmesh ready:'))
      if (line !== undefined) { clearTimeout(timer); clearInterval(watch); res(line) }
    })
    void exited.then(({ code }) => { clearTimeout(timer); clearInterval(watch); reject(new Error(`agent exited with ${code} before ready: ${stderr.join('')}`)) })
  })
  const field = (name: string): string => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(ready)?.[1] ?? ''
  const httpUrl = field('http')
  return {
    proc,
    peerId: field('peerId'),
    httpUrl,
    stderr,
    exited,
    async api<T> (method: string, path: string, body?: unknown): Promise<T> {
      const response = await fetch(httpUrl + path, {
        method,
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {})
      })
      const json = await response.json() as T
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`)
      return json
    }
  }
}

/** Fill a node's store with objects before its process starts (fast, in-process, one tx per chunk). */
export async function seedStore (node: TestNode, inputs: Iterable<DocumentInput>, chunk = 1000): Promise<void> {
  const store = createLevelStore({ location: join(node.dir, 'data', 'store'), domain: node.domain })
  await store.open()
  const deps = { store, domain: node.domain, now: Date.now, rules: [] }
  let batch: DocumentInput[] = []
  for (const input of inputs) {
    batch.push(input)
    if (batch.length >= chunk) { await writeDocuments(deps, batch); batch = [] }
  }
  if (batch.length > 0) await writeDocuments(deps, batch)
  await store.close()
}

/** Every object of an agent, through its document API, keyed by uid. */
export async function allObjects (agent: AgentProcess): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>()
  let after: string | null = null
  do {
    const page: { items: Array<Record<string, unknown>>, next: string | null } = await agent.api('GET', `/api/objects?limit=1000${after !== null ? `&after=${encodeURIComponent(after)}` : ''}`)
    for (const item of page.items) out.set(item.uid as string, item)
    after = page.next
  } while (after !== null)
  return out
}

/** The agent's JSON log lines on stderr so far. */
export function logLines (agent: AgentProcess): Array<Record<string, unknown>> {
  return agent.stderr.join('').split('\n').flatMap((line) => {
    try { return [JSON.parse(line) as Record<string, unknown>] } catch { return [] }
  })
}
