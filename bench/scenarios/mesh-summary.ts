/**
 * The mesh scenario's figures from its raw measurements (pure), and the
 * growth table over several mesh sizes. Latencies are per (edit, receiving
 * agent) pair; "collaborator → collaborator" takes the edits a collaborator
 * made of objects every collaborator shares, at every other collaborator.
 */
import { percentile, round } from '../lib/stats.js'
import { formatInt, renderTable } from '../lib/table.js'
import type { WireBytes } from '../lib/wire-bytes.js'
import type { Arrival, MeshEditResult } from '../agents/mesh-worker.js'
import { MASTER, type PlannedEdit } from './mesh-plan.js'

export interface MeshLatency { readonly samples: number, readonly p50: number, readonly p99: number, readonly max: number }

/** The figures of one phase (paced or burst). */
export interface MeshPhase {
  readonly edits: number
  /** edits per second over the mesh (0: all at once) */
  readonly rate: number
  /** first edit's `at` → the last commit of any edit at any agent that must hold it */
  readonly convergeSeconds: number
  /** last edit's `at` → that same last commit */
  readonly tailSeconds: number
  readonly collabToCollabMs: MeshLatency
  readonly collabToMasterMs: MeshLatency
  readonly masterToCollabMs: MeshLatency
  readonly masterCpuSeconds: number
  readonly masterCpuMsPerEdit: number
  /** master CPU per edit per lab it serves (flat = linear growth) */
  readonly masterCpuUsPerEditPerLab: number
  /** CPU of every process of the mesh per edit: what this one machine carries for all labs */
  readonly meshCpuMsPerEdit: number
  /** CPU of the collaborators' processes per edit delivered to a collaborator: about one lab's cost of receiving an edit */
  readonly collaboratorCpuMsPerDelivery: number
  /** TCP bytes written by every process of the mesh, per edit */
  readonly wireBytesPerEdit: number
  readonly masterWire: WireBytes
  /** the master's CPU ms per second with no edits going on (timers, keep-alives, the bench's samplers); not in the per-edit figures */
  readonly masterIdleCpuMsPerSecond: number
}

export interface MeshResult {
  readonly labs: number
  readonly processes: number
  readonly perProcess: number
  readonly setupSeconds: number
  readonly paced: MeshPhase
  readonly burst: MeshPhase
  readonly masterPeakRssMiB: number
  readonly collaboratorProcessPeakRssMiB: number
}

export interface MeshPhaseRaw {
  readonly labs: number
  readonly rate: number
  readonly plan: readonly PlannedEdit[]
  readonly made: readonly MeshEditResult[]
  readonly arrivals: readonly Arrival[]
  readonly masterCpuMs: number
  readonly masterWire: WireBytes
  readonly totalWritten: number
  /** CPU of every process of the mesh across the phase */
  readonly totalCpuMs: number
  /** the master's CPU with no edits going on (subtracted from masterCpuMs already) */
  readonly masterIdleCpuMsPerSecond: number
}

function latency (ms: readonly number[]): MeshLatency {
  if (ms.length === 0) return { samples: 0, p50: 0, p99: 0, max: 0 }
  return { samples: ms.length, p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)), max: round(Math.max(...ms)) }
}

export function summarisePhase (raw: MeshPhaseRaw): MeshPhase {
  const edits = raw.made.length
  const latencies = { cc: [] as number[], cm: [] as number[], mc: [] as number[] }
  let last = 0
  for (const a of raw.arrivals) {
    if (a.at === null) continue
    last = Math.max(last, a.at)
    const e = raw.plan[a.n]!
    const ms = a.at - raw.made[a.n]!.at
    if (e.kind === 'collaborator-shared') (a.domain === MASTER ? latencies.cm : latencies.cc).push(ms)
    else if (e.kind === 'collaborator-sample') latencies.cm.push(ms)
    else latencies.mc.push(ms)
  }
  const first = Math.min(...raw.made.map((m) => m.at))
  const lastEdit = Math.max(...raw.made.map((m) => m.at))
  const perEditMs = raw.masterCpuMs / edits
  const deliveries = latencies.cc.length + latencies.mc.length
  return {
    edits,
    rate: raw.rate,
    convergeSeconds: round((last - first) / 1000, 2),
    tailSeconds: round((last - lastEdit) / 1000, 2),
    collabToCollabMs: latency(latencies.cc),
    collabToMasterMs: latency(latencies.cm),
    masterToCollabMs: latency(latencies.mc),
    masterCpuSeconds: round(raw.masterCpuMs / 1000, 2),
    masterCpuMsPerEdit: round(perEditMs, 2),
    masterCpuUsPerEditPerLab: round(perEditMs * 1000 / (raw.labs - 1)),
    meshCpuMsPerEdit: round(raw.totalCpuMs / edits, 2),
    collaboratorCpuMsPerDelivery: deliveries > 0 ? round((raw.totalCpuMs - raw.masterCpuMs) / deliveries, 2) : 0,
    wireBytesPerEdit: Math.round(raw.totalWritten / edits),
    masterWire: raw.masterWire,
    masterIdleCpuMsPerSecond: round(raw.masterIdleCpuMsPerSecond)
  }
}

/** One row per mesh size: how the figures grow with the number of labs (p = paced phase, b = burst). */
export function renderMeshTable (results: readonly MeshResult[]): string {
  const rows = [[
    'labs', 'procs', 'b: converge s', 'p: c→c p50 ms', 'p: c→c p99 ms', 'p: c→m p99 ms', 'p: m→c p99 ms', 'b: c→c p99 ms',
    'p: master CPU ms/edit', 'p: µs/edit/lab', 'b: master CPU ms/edit', 'b: µs/edit/lab', 'master RSS MiB', 'master idle CPU ms/s', 'p: wire B/edit', 'p: mesh CPU ms/edit'
  ], ...results.map((r) => [
    r.labs, r.processes, r.burst.convergeSeconds, r.paced.collabToCollabMs.p50, r.paced.collabToCollabMs.p99, r.paced.collabToMasterMs.p99, r.paced.masterToCollabMs.p99, r.burst.collabToCollabMs.p99,
    r.paced.masterCpuMsPerEdit, r.paced.masterCpuUsPerEditPerLab, r.burst.masterCpuMsPerEdit, r.burst.masterCpuUsPerEditPerLab, r.masterPeakRssMiB, r.paced.masterIdleCpuMsPerSecond, formatInt(r.paced.wireBytesPerEdit), r.paced.meshCpuMsPerEdit
  ])]
  const first = results[0]
  const head = first === undefined ? '' : `mesh: paced ${first.paced.edits} collaborator edits at ${first.paced.rate}/s, then a burst of ${first.burst.edits} edits over all labs at once; c = collaborator, m = master\n`
  return head + renderTable(rows)
}
