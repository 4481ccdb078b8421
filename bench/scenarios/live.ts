/**
 * Scenario (3) live latency through a hub: A → M → B, three agent processes,
 * every link live (notify-driven pulls). A is seeded with `objects` generated
 * objects; M and B sync them first (untimed). Then A makes `edits` single-
 * object edits, one at a time, each through `writeDocuments` in A's process
 * (one transaction, the document API's path).
 *
 * Latency of one edit: just before A's write → the commit in B's process
 * whose feed head is one past what B held before. Both are wall-clock
 * readings taken inside the processes concerned, so no polling interval is
 * part of the figure. M's commit gives the first hop (A → M) as well.
 * Edits are `pauseMs` apart so each one travels on its own.
 */
import type { Cluster } from '../agents/cluster.js'
import type { BenchLog } from '../lib/report.js'
import { seconds } from '../lib/report.js'
import { percentile, round } from '../lib/stats.js'

export interface LiveOptions {
  readonly objects: number
  readonly seed: number
  readonly edits: number
  readonly pauseMs: number
  readonly log: BenchLog
}

export interface LatencySummary { readonly p50: number, readonly p90: number, readonly p99: number, readonly max: number, readonly mean: number }

export interface LiveResult {
  readonly objects: number
  readonly edits: number
  /** A's write → applied on B (ms) */
  readonly latencyMs: LatencySummary
  /** A's write → applied on M (ms) */
  readonly firstHopMs: LatencySummary
  readonly setupSeconds: number
  readonly peakRssMiB: { readonly a: number, readonly m: number, readonly b: number }
}

export async function runLive (cluster: Cluster, opts: LiveOptions): Promise<LiveResult> {
  const a = await cluster.add('lab-a')
  const m = await cluster.add('hub')
  const b = await cluster.add('lab-b')
  await a.configure([{ agent: m, pull: false }])
  await m.configure([{ agent: a, pull: true }, { agent: b, pull: false }])
  await b.configure([{ agent: m, pull: true }])
  const seeded = await a.seed({ seed: opts.seed, objects: opts.objects, editCount: opts.edits })
  if (seeded.editTargets.length !== opts.edits) throw new Error(`found ${seeded.editTargets.length} of ${opts.edits} live edit targets`)
  const setupStarted = performance.now()
  for (const agent of [a, m, b]) await agent.launch()
  for (const agent of [a, m, b]) await agent.start()
  await b.waitFor({ objects: opts.objects }, 300_000)
  const setupSeconds = seconds(performance.now() - setupStarted)
  opts.log('live chain synced', { objects: opts.objects, setupSeconds })
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await Promise.all([a.rssReset(), m.rssReset(), b.rssReset()])

  const total: number[] = []
  const firstHop: number[] = []
  for (let i = 0; i < opts.edits; i++) {
    const [hm, hb] = await Promise.all([m.info(), b.info()])
    const edit = await a.editOne(seeded.editTargets[i]!, i)
    const [atM, atB] = await Promise.all([m.waitFor({ head: hm.head + 1 }, 30_000), b.waitFor({ head: hb.head + 1 }, 30_000)])
    total.push(atB.at - edit.firstWriteAt)
    firstHop.push(atM.at - edit.firstWriteAt)
    await new Promise((resolve) => setTimeout(resolve, opts.pauseMs))
  }
  const result: LiveResult = {
    objects: opts.objects,
    edits: opts.edits,
    latencyMs: summarise(total),
    firstHopMs: summarise(firstHop),
    setupSeconds,
    peakRssMiB: { a: await a.rssPeakMiB(), m: await m.rssPeakMiB(), b: await b.rssPeakMiB() }
  }
  opts.log('live latency', { ...result.latencyMs, firstHop: result.firstHopMs.p50 })
  return result
}

function summarise (ms: readonly number[]): LatencySummary {
  return {
    p50: round(percentile(ms, 50)),
    p90: round(percentile(ms, 90)),
    p99: round(percentile(ms, 99)),
    max: round(Math.max(...ms)),
    mean: round(ms.reduce((s, v) => s + v, 0) / ms.length)
  }
}
