/**
 * What a bench run means: labmesh against PouchDB (rate ÷ rate) and against
 * the floors (floor ÷ labmesh: how many times faster the bare layer is), the
 * issue's targets met or missed, and the table printed by `npm run bench`.
 *
 * Every ratio uses the median of labmesh's runs and the baseline's headline
 * figure from the same run.
 */
import type { LeveldbFloorResult } from './baselines/leveldb-floor.js'
import type { Libp2pFloorResult } from './baselines/libp2p-floor.js'
import type { PouchdbResult } from './baselines/pouchdb.js'
import type { MachineInfo } from './lib/report.js'
import { round } from './lib/stats.js'
import { formatInt, renderTable, type Cell } from './lib/table.js'
import type { BlobResult } from './scenarios/blob.js'
import type { FaninResult } from './scenarios/fanin.js'
import type { LiveResult } from './scenarios/live.js'
import type { IncrementalResult, InitialResult, PairResult } from './scenarios/pair.js'

export interface TargetCheck {
  readonly target: string
  readonly value: string
  readonly met: boolean
}

export interface Summary {
  readonly ratios: Readonly<Record<string, number>>
  readonly targets: readonly TargetCheck[]
  /** the largest peak RSS of any agent process in any scenario */
  readonly maxAgentRssMiB: number
}

export interface BenchResults {
  readonly date: string
  readonly durationSeconds: number
  readonly machine: MachineInfo & { readonly loadavgBefore: number[], readonly loadavgAfter: number[] }
  readonly flags: Readonly<Record<string, unknown>> & { readonly objects: number }
  readonly labmesh: {
    readonly initial?: InitialResult
    readonly incremental?: IncrementalResult
    readonly live?: LiveResult
    readonly fanin?: FaninResult
    readonly blob?: BlobResult
    readonly seedSeconds?: number
  }
  readonly baselines: { readonly pouchdb?: PouchdbResult, readonly leveldb?: LeveldbFloorResult, readonly libp2p?: Libp2pFloorResult }
  readonly summary: Summary
}

type Baselines = BenchResults['baselines']

export function summarise (flags: { objects: number }, pair: PairResult | undefined, live: LiveResult | undefined, fanin: FaninResult | undefined, base: Baselines, blob?: BlobResult): Summary {
  const ratios: Record<string, number> = {}
  const targets: TargetCheck[] = []
  const initial = pair?.initial
  const incremental = pair?.incremental
  if (initial !== undefined) {
    const rate = initial.objectsPerSecond.median
    if (base.pouchdb !== undefined) {
      ratios.initialVsPouchdbDefault = round(rate / base.pouchdb.initial.defaultBatch.objectsPerSecond, 2)
      ratios.initialVsPouchdbBatch1000 = round(rate / base.pouchdb.initial.batch1000.objectsPerSecond, 2)
      targets.push({ target: `initial ${formatInt(initial.objects)}: ≥ 10× PouchDB (default batch)`, value: `${ratios.initialVsPouchdbDefault}×`, met: ratios.initialVsPouchdbDefault >= 10 })
    }
    if (base.leveldb !== undefined) {
      ratios.leveldbFloorOverInitial = round(base.leveldb.write.objectsPerSecond / rate, 2)
      ratios.leveldbApplyEmptyOverInitial = round(base.leveldb.applyEmpty.objectsPerSecond / rate, 2)
      targets.push({ target: 'initial: within 3.5× of the raw LevelDB floor', value: `floor is ${ratios.leveldbFloorOverInitial}× faster`, met: ratios.leveldbFloorOverInitial <= 3.5 })
    }
    if (base.libp2p !== undefined) {
      ratios.libp2pRawOverInitial = round(base.libp2p.raw.median.objectsPerSecond / rate, 2)
      ratios.libp2pParseOverInitial = round(base.libp2p.parse.median.objectsPerSecond / rate, 2)
    }
  }
  if (incremental !== undefined) {
    const s = incremental.seconds.median
    targets.push({ target: `incremental ${formatInt(incremental.edits)} edits: < 0.1 s`, value: `${s} s`, met: s < 0.1 })
    if (base.pouchdb !== undefined && s > 0) {
      ratios.incrementalSpeedupVsPouchdbOneShot = round(base.pouchdb.incremental.oneShot.seconds / s, 2)
      if (base.pouchdb.incremental.live !== undefined) ratios.incrementalSpeedupVsPouchdbLive = round(base.pouchdb.incremental.live.seconds / s, 2)
    }
  }
  if (live !== undefined) {
    targets.push({ target: 'live latency via one hub: p50 ≤ 20 ms', value: `${live.latencyMs.p50} ms`, met: live.latencyMs.p50 <= 20 })
    targets.push({ target: 'live latency via one hub: p99 ≤ 100 ms', value: `${live.latencyMs.p99} ms`, met: live.latencyMs.p99 <= 100 })
  }
  if (blob !== undefined) ratios.libp2pBytesFloorOverBlob = blob.floorOverLabmesh
  const peaks = [
    ...(initial !== undefined ? Object.values(initial.peakRssMiB) : []),
    ...(incremental !== undefined ? Object.values(incremental.peakRssMiB) : []),
    ...(live !== undefined ? Object.values(live.peakRssMiB) : []),
    ...(fanin !== undefined ? Object.values(fanin.peakRssMiB) : [])
  ]
  const maxAgentRssMiB = peaks.length > 0 ? Math.max(...peaks) : 0
  if (peaks.length > 0) {
    const limit = flags.objects > 50_000 ? 300 : 150
    const scale = flags.objects > 50_000 ? `${formatInt(flags.objects)} objects` : 'at 50,000'
    targets.push({ target: `peak RSS of every agent < ${limit} MB (${scale})`, value: `${maxAgentRssMiB} MiB`, met: maxAgentRssMiB * 1.048576 < limit })
  }
  return { ratios, targets, maxAgentRssMiB }
}

const rateCell = (seconds: number, perSecond: number): string => `${seconds} s · ${formatInt(perSecond)}/s`
const rss = (peaks: Readonly<Record<string, number>>): string => Object.entries(peaks).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')

export function renderReport (r: BenchResults): string {
  const { initial, incremental, live, fanin, blob } = r.labmesh
  const { pouchdb, leveldb, libp2p } = r.baselines
  const ratio = r.summary.ratios
  const rows: Cell[][] = [['scenario', 'labmesh (median)', 'range (runs)', 'compared with', 'its figure', 'ratio', 'peak RSS MiB']]
  if (initial !== undefined) {
    const lm = rateCell(initial.seconds.median, initial.objectsPerSecond.median)
    const range = `${initial.seconds.min}–${initial.seconds.max} s (${initial.seconds.runs})`
    const name = `initial ${formatInt(initial.objects)} A→B`
    const agents = rss(initial.peakRssMiB)
    if (pouchdb !== undefined) {
      rows.push([name, lm, range, 'PouchDB, default batch', rateCell(pouchdb.initial.defaultBatch.seconds, pouchdb.initial.defaultBatch.objectsPerSecond), `${ratio.initialVsPouchdbDefault}× faster`, agents])
      rows.push(['', '', '', 'PouchDB, batch_size 1000', rateCell(pouchdb.initial.batch1000.seconds, pouchdb.initial.batch1000.objectsPerSecond), `${ratio.initialVsPouchdbBatch1000}× faster`, `S ${Math.round(pouchdb.peakRssMiB.server)}, R ${Math.round(pouchdb.peakRssMiB.replica)}`])
    }
    if (leveldb !== undefined) {
      rows.push([pouchdb === undefined ? name : '', pouchdb === undefined ? lm : '', pouchdb === undefined ? range : '', 'raw LevelDB batch write (floor)', `${formatInt(leveldb.write.objectsPerSecond)}/s`, `floor ${ratio.leveldbFloorOverInitial}× faster`, pouchdb === undefined ? agents : ''])
      rows.push(['', '', '', 'LevelDB getMany + batch (floor)', `${formatInt(leveldb.applyEmpty.objectsPerSecond)}/s`, `floor ${ratio.leveldbApplyEmptyOverInitial}× faster`, ''])
    }
    if (libp2p !== undefined) {
      rows.push(['', '', '', 'libp2p stream, frames + JSON.parse', `${formatInt(libp2p.parse.median.objectsPerSecond)}/s`, `floor ${ratio.libp2pParseOverInitial}× faster`, ''])
    }
    if (pouchdb === undefined && leveldb === undefined && libp2p === undefined) rows.push([name, lm, range, '', '', '', agents])
    const cpu = initial.bCpuMsPer1000
    rows.push(['  B CPU per 1,000 objects', `${cpu.median} ms`, `${cpu.min}–${cpu.max} ms`, '', '', '', ''])
    const mem = (side: 'a' | 'b'): string => {
      const peaks = initial.runs.map((run) => run.memoryMiB[side])
      const max = (k: string): number => Math.round(Math.max(...peaks.map((p) => p[k] ?? 0)))
      return `${side} ${max('heapTotal')} / ${max('rssAnon')} / ${max('rssFile')}`
    }
    rows.push(['  peak heap / anon / file-backed MiB', '', '', '', '', '', `${mem('a')}; ${mem('b')}`])
  }
  if (incremental !== undefined) {
    const name = `incremental ${formatInt(incremental.edits)} edits`
    const lm = `${incremental.seconds.median} s`
    const range = `${incremental.seconds.min}–${incremental.seconds.max} s (${incremental.seconds.runs})`
    if (pouchdb !== undefined) {
      rows.push([name, lm, range, 'PouchDB one-shot', `${pouchdb.incremental.oneShot.seconds} s`, `${ratio.incrementalSpeedupVsPouchdbOneShot}× faster`, rss(incremental.peakRssMiB)])
      if (pouchdb.incremental.live !== undefined) rows.push(['', '', '', 'PouchDB live', `${pouchdb.incremental.live.seconds} s`, `${ratio.incrementalSpeedupVsPouchdbLive}× faster`, ''])
    } else {
      rows.push([name, lm, range, '', '', '', rss(incremental.peakRssMiB)])
    }
  }
  if (live !== undefined) {
    rows.push([`live ${live.edits} edits A→M→B`, `p50 ${live.latencyMs.p50} ms, p99 ${live.latencyMs.p99} ms`, `max ${live.latencyMs.max} ms`, 'first hop A→M', `p50 ${live.firstHopMs.p50} ms, p99 ${live.firstHopMs.p99} ms`, '', rss(live.peakRssMiB)])
  }
  if (fanin !== undefined) {
    rows.push([`fan-in ${fanin.collaborators}×${formatInt(fanin.perCollaborator)} → M`, rateCell(fanin.seconds.median, fanin.objectsPerSecond.median), `${fanin.seconds.min}–${fanin.seconds.max} s (${fanin.seconds.runs})`, '', '', '', rss(fanin.peakRssMiB)])
  }
  if (blob !== undefined) {
    rows.push([`blob ${formatInt(blob.mib)} MiB A→B`, `${blob.seconds.median} s · ${blob.mibPerSecond.median} MiB/s`, `${blob.mibPerSecond.min}–${blob.mibPerSecond.max} MiB/s (${blob.mibPerSecond.runs})`, 'libp2p stream, same bytes (floor)', `${blob.floor.mibPerSecond.median} MiB/s`, `floor ${blob.floorOverLabmesh}× faster`, rss(blob.peakRssMiB)])
  }
  const m = r.machine
  const head = `labmesh bench, ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${formatInt(r.flags.objects)} objects; ${m.cpus} × ${m.cpuModel}, ${formatInt(m.memoryMiB)} MiB, node ${m.node}; load ${m.loadavgBefore.join(' ')} → ${m.loadavgAfter.join(' ')}`
  const targetRows: Cell[][] = [['target (issue 7)', 'measured', 'met'], ...r.summary.targets.map((t) => [t.target, t.value, t.met ? 'yes' : 'NO'])]
  return [head, '', renderTable(rows), '', renderTable(targetRows)].join('\n')
}
