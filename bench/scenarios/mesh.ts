/**
 * Scenario (6) the lab mesh: one master and labs − 1 collaborators
 * (mesh-plan.ts has the topology and rules), every agent with its own store,
 * identity and config, on 127.0.0.1. The master runs alone in its own
 * process; collaborators share processes, `perProcess` to one (mesh-worker.ts
 * says why).
 *
 * 1. set-up (untimed): every agent writes its own objects; wait until each
 *    holds what the rules give it.
 * 2. paced (latency): `latencyEdits` edits by collaborators of objects every
 *    lab shares, round-robin over the collaborators, `latencyRate` a second:
 *    the latency of an edit to every other collaborator through the master,
 *    with the mesh not saturated by the bench itself (all labs share this
 *    machine's two cores; what 49 labs do for one edit is 49 machines' work).
 * 3. burst (convergence): `edits` edits round-robin over all agents (master
 *    included, shared objects and samples), each agent writing its share back
 *    to back, all at once; until every agent that must hold an edit
 *    committed it.
 * Every edit is its own transaction through the document API.
 *
 * Latency of an edit at an agent: the edit's `at` (taken in the editor's
 * transaction) → the commit that applied it there; both wall-clock readings
 * of this machine. Master CPU and wire bytes are differences of the
 * processes' counters across a phase, less the CPU the runner's own
 * look-ups of arrivals cost.
 */
import { prepareNode, type TestNode } from '../../test/helpers/nodes.js'
import { writeNodeConfig } from '../../test/helpers/processes.js'
import type { Arrival, ArrivalQuery, MeshEditResult } from '../agents/mesh-worker.js'
import { spawnWorker, type WorkerHandle } from '../lib/process.js'
import type { BenchLog } from '../lib/report.js'
import { toMiB, type RssReport } from '../lib/rss.js'
import type { WireBytes } from '../lib/wire-bytes.js'
import { collaboratorLink, collaborators, collaboratorSeed, expectedObjects, MASTER, masterLink, masterSeed, planEdits, planLatencyEdits, prefixOf, type PlannedEdit } from './mesh-plan.js'
import { summarisePhase, type MeshPhase, type MeshResult } from './mesh-summary.js'

export type { MeshResult } from './mesh-summary.js'

const WORKER = new URL('../agents/mesh-worker.js', import.meta.url)

export interface MeshOptions {
  readonly root: string
  readonly labs: number
  /** edits of the burst phase: all at once, round-robin over all labs */
  readonly edits: number
  /** edits of the paced phase: collaborators' edits of shared objects, one every 1/latencyRate s */
  readonly latencyEdits: number
  readonly latencyRate: number
  /** collaborator agents per process */
  readonly perProcess: number
  readonly execArgv: readonly string[]
  /** environment of agent processes (default: this process's) */
  readonly env?: NodeJS.ProcessEnv
  readonly log: BenchLog
}

interface Usage { readonly cpuMs: number, readonly wire: WireBytes }
interface Group { readonly worker: WorkerHandle, readonly domains: readonly string[] }

async function writeConfigs (nodes: Map<string, TestNode>, collabs: readonly string[]): Promise<Map<string, string>> {
  const files = new Map<string, string>()
  const master = nodes.get(MASTER)!
  files.set(MASTER, await writeNodeConfig(master, collabs.map((c) => ({ node: nodes.get(c)!, extra: masterLink(prefixOf(c)) })), { log: { level: 'warn' } }))
  for (const c of collabs) {
    files.set(c, await writeNodeConfig(nodes.get(c)!, [{ node: master, extra: collaboratorLink() }], { log: { level: 'warn' }, localPrefix: prefixOf(c) }))
  }
  return files
}

async function waitUntil (check: () => Promise<boolean>, timeoutMs: number, what: string | (() => string), intervalMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`mesh: ${typeof what === 'string' ? what : what()} not reached within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Issue the edits: on schedule at `rate`, each editor's edits one after the other. */
async function issueEdits (plan: readonly PlannedEdit[], workerOf: (d: string) => WorkerHandle, rate: number): Promise<MeshEditResult[]> {
  const chains = new Map<string, Promise<unknown>>()
  const started = performance.now()
  const results: Array<Promise<MeshEditResult>> = []
  for (const e of plan) {
    if (rate > 0) {
      const due = started + e.n * 1000 / rate
      const wait = due - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    }
    const previous = chains.get(e.editor) ?? Promise.resolve()
    const next = previous.then(async () => await workerOf(e.editor).call<MeshEditResult>('edit', { n: e.n, domain: e.editor, uid: e.uid, id: e.id }))
    chains.set(e.editor, next.catch(() => {}))
    results.push(next)
  }
  return await Promise.all(results)
}

/**
 * One phase: issue `plan` at `rate`, then look up every (edit, holder) pair
 * until all arrived. The look-ups' CPU is measured in each process and
 * subtracted from its CPU across the phase.
 */
async function usageOf (groups: readonly Group[]): Promise<Usage[]> {
  return await Promise.all(groups.map(async (g) => await g.worker.call<Usage>('usage')))
}

/** CPU ms per second each process spends with no edits going on (timers, keep-alives, the bench's own samplers). */
async function idleCpuRates (groups: readonly Group[], ms: number): Promise<number[]> {
  const before = await usageOf(groups)
  const started = performance.now()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const after = await usageOf(groups)
  const seconds = (performance.now() - started) / 1000
  return after.map((u, i) => (u.cpuMs - before[i]!.cpuMs) / seconds)
}

async function runPhase (groups: readonly Group[], workerOf: (d: string) => WorkerHandle, plan: readonly PlannedEdit[], rate: number, idle: readonly number[]): Promise<MeshPhase> {
  const usage = async (): Promise<Usage[]> => await usageOf(groups)
  const before = await usage()
  const started = performance.now()
  const made = await issueEdits(plan, workerOf, rate)
  const lookupCpu = new Map<WorkerHandle, number>()
  const arrivals: Arrival[] = []
  const pending = new Map<string, ArrivalQuery[]>()
  for (const e of plan) {
    const m = made[e.n]!
    for (const h of e.holders) pending.set(h, [...(pending.get(h) ?? []), { n: e.n, uid: e.uid, editor: e.editor, counter: m.counter }])
  }
  await waitUntil(async () => {
    await Promise.all([...pending].map(async ([domain, queries]) => {
      const w = workerOf(domain)
      const c0 = (await w.call<Usage>('usage')).cpuMs
      const got = await w.call<Arrival[]>('arrivals', { domain, edits: queries }, { timeoutMs: 120_000 })
      lookupCpu.set(w, (lookupCpu.get(w) ?? 0) + (await w.call<Usage>('usage')).cpuMs - c0)
      const missing = new Set(got.filter((a) => a.at === null).map((a) => a.n))
      arrivals.push(...got.filter((a) => a.at !== null))
      if (missing.size === 0) pending.delete(domain)
      else pending.set(domain, queries.filter((q) => missing.has(q.n)))
    }))
    return pending.size === 0
  }, 300_000, () => `every edit at every agent that must hold it (missing: ${[...pending].slice(0, 5).map(([d, q]) => `${d}: ${q.slice(0, 3).map((e) => `#${e.n} ${e.uid}`).join(', ')}${q.length > 3 ? ` and ${q.length - 3} more` : ''}`).join('; ')})`, 500)
  const after = await usage()
  const seconds = (performance.now() - started) / 1000
  // what the edits cost: less the runner's look-ups, less what the process spends idle over as long
  const cpu = (i: number): number => after[i]!.cpuMs - before[i]!.cpuMs - (lookupCpu.get(groups[i]!.worker) ?? 0) - idle[i]! * seconds
  return summarisePhase({
    labs: groups.reduce((n, g) => n + g.domains.length, 0),
    rate,
    plan,
    made,
    arrivals,
    masterCpuMs: cpu(0),
    masterWire: { written: after[0]!.wire.written - before[0]!.wire.written, read: after[0]!.wire.read - before[0]!.wire.read },
    totalWritten: after.reduce((s, u, i) => s + u.wire.written - before[i]!.wire.written, 0),
    totalCpuMs: groups.reduce((s, _g, i) => s + cpu(i), 0),
    masterIdleCpuMsPerSecond: idle[0]!
  })
}

export async function runMesh (opts: MeshOptions): Promise<MeshResult> {
  const collabs = collaborators(opts.labs)
  const log = opts.log
  const nodes = new Map<string, TestNode>()
  for (const d of [MASTER, ...collabs]) nodes.set(d, await prepareNode(d, opts.root))
  const files = await writeConfigs(nodes, collabs)
  const groups: Group[] = [{ worker: await spawnWorker({ name: 'mesh-master', module: WORKER, execArgv: opts.execArgv, ...(opts.env !== undefined ? { env: opts.env } : {}) }), domains: [MASTER] }]
  try {
    for (let i = 0; i < collabs.length; i += opts.perProcess) {
      const domains = collabs.slice(i, i + opts.perProcess)
      // --cpu-prof profiles the master and the first collaborators' process only: one of each kind is enough
      const execArgv = i === 0 ? opts.execArgv : opts.execArgv.filter((a) => !a.startsWith('--cpu-prof'))
      groups.push({ worker: await spawnWorker({ name: `mesh-${domains[0]!}`, module: WORKER, execArgv, ...(opts.env !== undefined ? { env: opts.env } : {}) }), domains })
    }
    const byDomain = new Map(groups.flatMap((g) => g.domains.map((d) => [d, g.worker] as const)))
    const workerOf = (d: string): WorkerHandle => byDomain.get(d)!
    const setupStarted = performance.now()
    // the master first, so the collaborators' first dials find it
    await groups[0]!.worker.call('start', { configFiles: [files.get(MASTER)!] }, { timeoutMs: 120_000 })
    await Promise.all(groups.slice(1).map(async (g) => await g.worker.call('start', { configFiles: g.domains.map((d) => files.get(d)!) }, { timeoutMs: 300_000 })))
    log('mesh started', { labs: opts.labs, processes: groups.length, startSeconds: Math.round(performance.now() - setupStarted) / 1000 })
    await workerOf(MASTER).call('seed', { domain: MASTER, inputs: masterSeed() })
    await Promise.all(collabs.map(async (c) => await workerOf(c).call('seed', { domain: c, inputs: collaboratorSeed(c) })))
    const expected = expectedObjects(opts.labs)
    await waitUntil(async () => {
      const counts = Object.assign({}, ...await Promise.all(groups.map(async (g) => await g.worker.call<Record<string, number>>('counts'))) as Array<Record<string, number>>)
      return [...expected].every(([d, n]) => (counts[d] ?? 0) >= n)
    }, 600_000, 'initial sync of every agent')
    const setupSeconds = Math.round(performance.now() - setupStarted) / 1000
    log('mesh set up', { labs: opts.labs, setupSeconds })
    await new Promise((resolve) => setTimeout(resolve, 1000))

    await Promise.all(groups.map(async (g) => await g.worker.call('rss.reset')))
    const idle = await idleCpuRates(groups, 5000)
    log('mesh idle', { masterCpuMsPerSecond: Math.round(idle[0]! * 10) / 10, allCpuMsPerSecond: Math.round(idle.reduce((a, b) => a + b, 0)) })
    const phase = async (name: string, plan: readonly PlannedEdit[], rate: number): Promise<MeshPhase> => {
      const p = await runPhase(groups, workerOf, plan, rate, idle)
      log(`mesh ${name} phase`, { edits: plan.length, rate, convergeSeconds: p.convergeSeconds, collabToCollabMs: p.collabToCollabMs, masterCpuMsPerEdit: p.masterCpuMsPerEdit })
      return p
    }
    const paced = await phase('paced', planLatencyEdits(opts.labs, opts.latencyEdits), opts.latencyRate)
    const burst = await phase('burst', planEdits(opts.labs, opts.edits), 0)
    const rss = await Promise.all(groups.map(async (g) => await g.worker.call<RssReport>('rss.report')))
    return {
      labs: opts.labs,
      processes: groups.length,
      perProcess: opts.perProcess,
      setupSeconds,
      paced,
      burst,
      masterPeakRssMiB: toMiB(rss[0]!.peakBytes),
      collaboratorProcessPeakRssMiB: Math.max(...rss.slice(1).map((r) => toMiB(r.peakBytes)))
    }
  } finally {
    await Promise.allSettled(groups.map(async (g) => await g.worker.stop(60_000)))
  }
}
