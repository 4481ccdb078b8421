/**
 * `npm run bench -- --mesh 10,25,50`: the lab-mesh scenario at each size, one
 * after the other, with the growth table and the mesh targets
 * (scenarios/mesh.ts, bench/README.md "The lab mesh"). Results go to
 * bench/results/<--out> like every run; nothing here asserts a figure.
 */
import { loadavg } from 'node:os'
import { createBenchLog, machineInfo, type BenchLog, type MachineInfo } from './lib/report.js'
import type { AgentProcess } from './lib/process.js'
import { createTempDir } from './lib/tmp.js'
import { runMesh, type MeshResult } from './scenarios/mesh.js'
import { renderMeshTable } from './scenarios/mesh-summary.js'

export interface MeshFlags {
  /** comma-separated mesh sizes (agents in all, master included) */
  readonly mesh: string
  readonly meshEdits: number
  readonly meshLatencyEdits: number
  readonly meshLatencyRate: number
  readonly meshPerProcess: number
  readonly keep: boolean
}

export interface MeshTarget { readonly target: string, readonly value: string, readonly met: boolean }

export interface MeshBenchResults {
  readonly date: string
  readonly durationSeconds: number
  readonly machine: MachineInfo & { readonly loadavgBefore: number[], readonly loadavgAfter: number[] }
  readonly flags: MeshFlags
  readonly mesh: readonly MeshResult[]
  readonly targets: readonly MeshTarget[]
}

export function meshSizes (list: string): number[] {
  const sizes = list.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number)
  for (const n of sizes) if (!Number.isInteger(n) || n < 3) throw new Error(`--mesh takes sizes of at least 3 labs (master included), got ${list}`)
  return sizes
}

/** The targets for the mesh, judged on the largest size run and the growth over all of them. */
export function meshTargets (results: readonly MeshResult[]): MeshTarget[] {
  if (results.length === 0) return []
  const largest = results.reduce((a, b) => (b.labs > a.labs ? b : a))
  // judged on the paced phase: one edit at a time, so no batching of several edits into one pull flatters the larger meshes
  const perLab = results.map((r) => r.paced.masterCpuUsPerEditPerLab)
  const smallest = results.reduce((a, b) => (b.labs < a.labs ? b : a))
  // linear growth: CPU per edit per lab served stays flat (within 1.5× of the smallest mesh's, for noise)
  const growth = smallest.paced.masterCpuUsPerEditPerLab > 0 ? largest.paced.masterCpuUsPerEditPerLab / smallest.paced.masterCpuUsPerEditPerLab : 1
  return [
    { target: `${largest.labs}-lab mesh converges (burst of ${largest.burst.edits} edits)`, value: `${largest.burst.convergeSeconds} s`, met: Number.isFinite(largest.burst.convergeSeconds) },
    { target: 'master CPU per edit grows at most linearly with labs', value: `${perLab.join(' → ')} µs/edit/lab (${Math.round(growth * 100) / 100}×)`, met: growth <= 1.5 },
    { target: `collaborator → collaborator p99 ≤ 500 ms at ${largest.labs} labs`, value: `${largest.paced.collabToCollabMs.p99} ms`, met: largest.paced.collabToCollabMs.p99 <= 500 }
  ]
}

/**
 * One mesh size in fresh directories. Ports are chosen free before the
 * agents start (every config names its peers' addresses), so on a shared
 * machine another process can take one meanwhile: that attempt is thrown
 * away and the size runs again on new ports, once.
 */
async function meshOnce (flags: MeshFlags, labs: number, agents: AgentProcess, log: BenchLog): Promise<MeshResult> {
  for (let attempt = 1; ; attempt++) {
    const tmp = await createTempDir(`bench-mesh-${labs}`)
    try {
      const r = await runMesh({ root: tmp.path, labs, edits: flags.meshEdits, latencyEdits: flags.meshLatencyEdits, latencyRate: flags.meshLatencyRate, perProcess: flags.meshPerProcess, execArgv: agents.execArgv, env: agents.env, log: createBenchLog(`mesh-${labs}`) })
      log(`mesh of ${labs} labs`, { ...r })
      return r
    } catch (err) {
      if (attempt >= 2 || !String((err as Error).message).includes('already in use')) throw err
      log(`mesh of ${labs} labs: a port was taken by another process before its agent started; again on new ports`)
    } finally {
      if (flags.keep) log('kept agent directories', { dir: tmp.path })
      else await tmp.remove()
    }
  }
}

export async function runMeshBench (flags: MeshFlags, agents: AgentProcess, log: BenchLog = createBenchLog('mesh')): Promise<MeshBenchResults> {
  const startedAt = new Date()
  const loadBefore = loadavg()
  const results: MeshResult[] = []
  for (const labs of meshSizes(flags.mesh)) {
    log(`scenario: mesh of ${labs} labs`, { edits: flags.meshEdits, latencyEdits: flags.meshLatencyEdits, latencyRate: flags.meshLatencyRate, perProcess: flags.meshPerProcess })
    results.push(await meshOnce(flags, labs, agents, log))
  }
  return {
    date: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: { ...machineInfo(), loadavgBefore: loadBefore.map((l) => Math.round(l * 100) / 100), loadavgAfter: loadavg().map((l) => Math.round(l * 100) / 100) },
    flags,
    mesh: results,
    targets: meshTargets(results)
  }
}

export function renderMeshReport (r: MeshBenchResults): string {
  const targets = r.targets.map((t) => `  ${t.met ? 'met ' : 'MISS'}  ${t.target}: ${t.value}`).join('\n')
  return `${renderMeshTable(r.mesh)}\n\ntargets:\n${targets}\n(load average before ${r.machine.loadavgBefore.join(' ')}, after ${r.machine.loadavgAfter.join(' ')})`
}
