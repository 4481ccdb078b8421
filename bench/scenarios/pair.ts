/**
 * Scenarios (1) initial sync and (2) incremental edits, on one pair of agent
 * processes: A (domain lab-a, seeded with the generated objects) → B.
 *
 * (1) Each run starts a fresh B process on an empty store (same identity, so
 *     A's config stays valid) and times `agent.start()` called in B's process
 *     → the commit at which B's store holds all N objects. B's start-up (store
 *     open, libp2p, dial, hello) is inside the time; node start-up and module
 *     loading are not (the worker is spawned first). The last run's B stays
 *     up, and its store is compared with A's (a digest of every object).
 * (2) A edits the PouchDB baseline's 1,000 edit targets (same rule, same
 *     edit rounds) in its own process through `writeDocuments` — the path
 *     `POST /api/objects` takes — in transactions of `editChunk` (100, as
 *     the baseline writes bulkDocs of 100), one after the other, while B is live.
 *     Time: just before A's write → the commit at which B's feed head has
 *     grown by the number of edits (every edit is a new version on B).
 */
import type { BenchAgent, Cluster } from '../agents/cluster.js'
import type { PullRecord } from '../agents/agent-worker.js'
import type { BenchLog } from '../lib/report.js'
import { perSecond, seconds } from '../lib/report.js'
import { spread, type Spread } from '../lib/stats.js'

export interface PairOptions {
  readonly objects: number
  readonly seed: number
  readonly edits: number
  /** edits per transaction on A */
  readonly editChunk: number
  readonly runs: number
  readonly initial: boolean
  readonly incremental: boolean
  readonly verify: boolean
  readonly log: BenchLog
}

export interface InitialRun {
  readonly seconds: number
  readonly objectsPerSecond: number
  /** B's agent.start() until it resolved (store, libp2p, HTTP) */
  readonly startupMs: number
  /** from B's pull-session log: time applying vs waiting for A */
  readonly applyMs: number
  readonly waitMs: number
  /** CPU time (user + system) of each process during the run */
  readonly cpuSeconds: { readonly a: number, readonly b: number }
  readonly rssMiB: { readonly a: number, readonly b: number }
  /** peak V8 heap and off-heap memory (MiB) of each process */
  readonly memoryMiB: { readonly a: Readonly<Record<string, number>>, readonly b: Readonly<Record<string, number>> }
}

export interface InitialResult {
  readonly objects: number
  readonly seconds: Spread
  readonly objectsPerSecond: Spread
  /** B's CPU time per 1,000 objects (ms): robust to other load on the machine */
  readonly bCpuMsPer1000: Spread
  readonly runs: readonly InitialRun[]
  readonly peakRssMiB: { readonly a: number, readonly b: number }
  readonly verified: boolean | undefined
}

export interface IncrementalRun {
  readonly seconds: number
  /** A's transactions of all edits */
  readonly writeSeconds: number
  /** B's pull sessions (pull-finished log): applying vs waiting for A */
  readonly bApplyMs: number
  readonly bWaitMs: number
  readonly rssMiB: { readonly a: number, readonly b: number }
}

export interface IncrementalResult {
  readonly edits: number
  readonly editChunk: number
  readonly seconds: Spread
  readonly runs: readonly IncrementalRun[]
  readonly peakRssMiB: { readonly a: number, readonly b: number }
}

export interface PairResult {
  readonly seedSeconds: number
  readonly initial?: InitialResult
  readonly incremental?: IncrementalResult
}

export async function runPair (cluster: Cluster, opts: PairOptions): Promise<PairResult> {
  const a = await cluster.add('lab-a')
  const b = await cluster.add('lab-b')
  await a.configure([{ agent: b, pull: false }])
  await b.configure([{ agent: a, pull: true }])
  opts.log('seeding A', { objects: opts.objects })
  const seeded = await a.seed({ seed: opts.seed, objects: opts.objects, editCount: opts.edits })
  if (seeded.objects !== opts.objects) throw new Error(`A holds ${seeded.objects} of ${opts.objects} objects after seeding`)
  opts.log('A seeded', { seconds: seconds(seeded.ms), editTargets: seeded.editTargets.length })
  await a.launch()
  await a.start()
  // as long as the other scenarios' (300 s): at load ~16 a 50,000-object run took 83 s, and one that also lost
  // its connection mid-pull (and resumed) was 2,000 objects short at the 120 s this used to allow
  const timeoutMs = Math.max(300_000, opts.objects * 6)

  const runs: InitialRun[] = []
  const initialRuns = opts.initial ? opts.runs : 1
  for (let run = 1; run <= initialRuns; run++) {
    if (b.worker !== undefined) { await b.halt(); await b.wipeStore() }
    await b.launch()
    await Promise.all([a.rssReset(), b.rssReset(), a.memory(), b.memory()])
    const aCpu = await a.cpuMs()
    const started = await b.start()
    const done = await b.waitFor({ objects: opts.objects }, timeoutMs)
    const aCpuEnd = await a.cpuMs()
    const ms = done.at - started.calledAt
    const pulls: PullRecord[] = await b.pulls()
    const r: InitialRun = {
      seconds: seconds(ms),
      objectsPerSecond: perSecond(opts.objects, ms),
      startupMs: Math.round(started.startedAt - started.calledAt),
      applyMs: pulls.reduce((s, p) => s + p.applyMs, 0),
      waitMs: pulls.reduce((s, p) => s + p.waitMs, 0),
      cpuSeconds: { a: seconds(aCpuEnd - aCpu), b: seconds(done.cpuMs - started.cpuMs) },
      rssMiB: { a: await a.rssPeakMiB(), b: await b.rssPeakMiB() },
      memoryMiB: { a: await a.memory(), b: await b.memory() }
    }
    runs.push(r)
    opts.log(opts.initial ? `initial run ${run}` : 'initial sync (setup, untimed)', { ...r })
  }

  let verified: boolean | undefined
  if (opts.verify) {
    const [da, db] = await Promise.all([a.digest(), b.digest()])
    verified = da.objects === db.objects && da.sha256 === db.sha256
    opts.log('verify A = B', { verified, objects: db.objects })
    if (!verified) throw new Error(`B differs from A after the initial sync: ${JSON.stringify({ a: da, b: db })}`)
  }

  const result: { seedSeconds: number, initial?: InitialResult, incremental?: IncrementalResult } = { seedSeconds: seconds(seeded.ms) }
  if (opts.initial) {
    result.initial = {
      objects: opts.objects,
      seconds: spread(runs.map((r) => r.seconds)),
      objectsPerSecond: spread(runs.map((r) => r.objectsPerSecond)),
      bCpuMsPer1000: spread(runs.map((r) => Math.round(r.cpuSeconds.b * 1e7 / opts.objects) / 10)),
      runs,
      peakRssMiB: { a: Math.max(...runs.map((r) => r.rssMiB.a)), b: Math.max(...runs.map((r) => r.rssMiB.b)) },
      verified
    }
  }
  if (opts.incremental) result.incremental = await incremental(a, b, seeded.editTargets, opts)
  return result
}

async function incremental (a: BenchAgent, b: BenchAgent, targets: readonly string[], opts: PairOptions): Promise<IncrementalResult> {
  if (targets.length !== opts.edits) throw new Error(`found ${targets.length} of ${opts.edits} edit targets`)
  const runs: IncrementalRun[] = []
  for (let round = 1; round <= opts.runs; round++) {
    // let B's last commit, notifications and compaction settle
    await new Promise((resolve) => setTimeout(resolve, 500))
    const before = await b.info()
    await b.pulls()
    await Promise.all([a.rssReset(), b.rssReset()])
    const edit = await a.edit(targets, round, opts.editChunk)
    const done = await b.waitFor({ head: before.head + opts.edits }, 60_000)
    const pulls = await b.pulls()
    const r: IncrementalRun = {
      seconds: seconds(done.at - edit.firstWriteAt),
      writeSeconds: seconds(edit.committedAt - edit.firstWriteAt),
      bApplyMs: pulls.reduce((s, p) => s + p.applyMs, 0),
      bWaitMs: pulls.reduce((s, p) => s + p.waitMs, 0),
      rssMiB: { a: await a.rssPeakMiB(), b: await b.rssPeakMiB() }
    }
    runs.push(r)
    opts.log(`incremental round ${round}`, { ...r })
  }
  return {
    edits: opts.edits,
    editChunk: opts.editChunk,
    seconds: spread(runs.map((r) => r.seconds)),
    runs,
    peakRssMiB: { a: Math.max(...runs.map((r) => r.rssMiB.a)), b: Math.max(...runs.map((r) => r.rssMiB.b)) }
  }
}
