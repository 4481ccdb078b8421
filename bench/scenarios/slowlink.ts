/**
 * Slow links (`--link 50mbit,20ms`): the initial sync of N objects and the
 * incremental 1,000 edits, A → B, with B dialling A through a shaping proxy
 * (lib/throttle-proxy.ts), frame compression off and on, in the same run;
 * and the same pairs over a pass-through proxy on plain loopback, where the
 * link is not the bottleneck and compression only costs CPU.
 *
 * One A (seeded once, `sync.compression: auto`, so it takes whatever B
 * offers) serves every case; A never dials B, so the only connection is B's
 * through the proxy. Each case starts a fresh B on an empty store with its
 * `sync.compression` (off or a codec) and its link, times `start()` → B holds
 * N objects, then times A's edits → B's commit of them. Cases are
 * interleaved run by run (link × compression), so load drifts hit all alike.
 * Per case: seconds, bytes the proxy carried both ways (the wire: Noise and
 * yamux included), CPU of A and of B over the timed part.
 */
import type { BenchAgent, Cluster } from '../agents/cluster.js'
import type { BenchLog } from '../lib/report.js'
import { seconds } from '../lib/report.js'
import { spread, type Spread } from '../lib/stats.js'
import { createThrottleProxy, parseLink, type ThrottleProxy } from '../lib/throttle-proxy.js'
import { renderTable } from '../lib/table.js'

export interface SlowLinkOptions {
  readonly objects: number
  readonly seed: number
  readonly edits: number
  readonly editChunk: number
  readonly runs: number
  /** link specs: `loopback` or `<Mbit/s>mbit,<rtt>ms` */
  readonly links: readonly string[]
  /** B's sync.compression per case: off, brotli, zstd, auto */
  readonly compressions: readonly string[]
  readonly log: BenchLog
}

export interface PhaseRun {
  readonly seconds: number
  /** bytes through the proxy, both ways, MiB */
  readonly wireMiB: number
  readonly cpuSeconds: { readonly a: number, readonly b: number }
}

export interface SlowLinkCase {
  readonly link: string
  readonly compression: string
  /** the codec B's pull session logged (what the hellos chose) */
  readonly codec: string
  readonly initial: readonly PhaseRun[]
  readonly incremental: readonly PhaseRun[]
}

export interface SlowLinkSummaryRow {
  readonly link: string
  readonly compression: string
  readonly codec: string
  readonly initialSeconds: Spread
  readonly initialWireMiB: number
  readonly initialCpuA: number
  readonly initialCpuB: number
  readonly incrementalSeconds: Spread
  readonly incrementalWireMiB: number
  readonly incrementalCpuA: number
  readonly incrementalCpuB: number
}

export interface SlowLinkResult {
  readonly objects: number
  readonly edits: number
  readonly cases: readonly SlowLinkCase[]
  readonly summary: readonly SlowLinkSummaryRow[]
}

const mib = (bytes: number): number => Math.round(bytes / 10485.76) / 100

export async function runSlowLink (cluster: Cluster, opts: SlowLinkOptions): Promise<SlowLinkResult> {
  const a = await cluster.add('lab-a')
  const b = await cluster.add('lab-b')
  await a.configure([{ agent: b, pull: false, addr: null }], { compression: 'auto' })
  opts.log('seeding A', { objects: opts.objects })
  const seeded = await a.seed({ seed: opts.seed, objects: opts.objects, editCount: opts.edits })
  await a.launch()
  await a.start()
  const proxies = new Map<string, ThrottleProxy>()
  for (const link of opts.links) proxies.set(link, await createThrottleProxy(portOf(a), parseLink(link)))
  const cases = new Map<string, { link: string, compression: string, codec: string, initial: PhaseRun[], incremental: PhaseRun[] }>()
  let round = 0
  try {
    for (let run = 1; run <= opts.runs; run++) {
      for (const link of opts.links) {
        for (const compression of opts.compressions) {
          const key = `${link} ${compression}`
          const c = cases.get(key) ?? { link, compression, codec: '?', initial: [], incremental: [] }
          cases.set(key, c)
          const proxy = proxies.get(link)!
          if (b.worker !== undefined) { await b.halt(); await b.wipeStore() }
          await b.configure([{ agent: a, pull: true, addr: proxy.addr }], { compression })
          await b.launch()
          c.initial.push(await timed(a, proxy, async () => {
            const started = await b.start()
            const done = await b.waitFor({ objects: opts.objects }, Math.max(300_000, opts.objects * 10))
            return { from: started.calledAt, to: done.at, bCpuFrom: started.cpuMs, bCpuTo: done.cpuMs }
          }))
          c.codec = (await b.pulls()).at(-1)?.codec ?? c.codec
          await new Promise((resolve) => setTimeout(resolve, 500))
          const before = await b.info()
          c.incremental.push(await timed(a, proxy, async () => {
            const bCpu = await b.cpuMs()
            const edit = await a.edit(seeded.editTargets, ++round, opts.editChunk)
            const done = await b.waitFor({ head: before.head + opts.edits }, 300_000)
            return { from: edit.firstWriteAt, to: done.at, bCpuFrom: bCpu, bCpuTo: done.cpuMs }
          }))
          opts.log(`run ${run}: ${key}`, { codec: c.codec, initial: c.initial.at(-1), incremental: c.incremental.at(-1) })
        }
      }
    }
  } finally {
    for (const p of proxies.values()) await p.close()
  }
  const all = [...cases.values()]
  return { objects: opts.objects, edits: opts.edits, cases: all, summary: all.map(summaryRow) }
}

/** One timed phase: the proxy's bytes and A's CPU around it; B's CPU and the times from the phase itself. */
async function timed (a: BenchAgent, proxy: ThrottleProxy, phase: () => Promise<{ from: number, to: number, bCpuFrom: number, bCpuTo: number }>): Promise<PhaseRun> {
  const bytes = proxy.bytes()
  const aCpu = await a.cpuMs()
  const t = await phase()
  const aCpuEnd = await a.cpuMs()
  const after = proxy.bytes()
  return {
    seconds: seconds(t.to - t.from),
    wireMiB: mib(after.up + after.down - bytes.up - bytes.down),
    cpuSeconds: { a: seconds(aCpuEnd - aCpu), b: seconds(t.bCpuTo - t.bCpuFrom) }
  }
}

function portOf (agent: BenchAgent): number {
  const m = /\/tcp\/(\d+)/.exec(agent.node.addr)
  if (m === null) throw new Error(`no TCP port in ${agent.node.addr}`)
  return Number(m[1])
}

const median = (xs: readonly number[]): number => spread([...xs]).median

function summaryRow (c: SlowLinkCase): SlowLinkSummaryRow {
  return {
    link: c.link,
    compression: c.compression,
    codec: c.codec,
    initialSeconds: spread(c.initial.map((r) => r.seconds)),
    initialWireMiB: median(c.initial.map((r) => r.wireMiB)),
    initialCpuA: median(c.initial.map((r) => r.cpuSeconds.a)),
    initialCpuB: median(c.initial.map((r) => r.cpuSeconds.b)),
    incrementalSeconds: spread(c.incremental.map((r) => r.seconds)),
    incrementalWireMiB: median(c.incremental.map((r) => r.wireMiB)),
    incrementalCpuA: median(c.incremental.map((r) => r.cpuSeconds.a)),
    incrementalCpuB: median(c.incremental.map((r) => r.cpuSeconds.b))
  }
}

export function renderSlowLink (r: SlowLinkResult): string {
  const rows = r.summary.map((s) => [
    s.link, s.compression, s.codec,
    `${s.initialSeconds.median} (${s.initialSeconds.min}–${s.initialSeconds.max})`, String(s.initialWireMiB), String(s.initialCpuA), String(s.initialCpuB),
    `${s.incrementalSeconds.median} (${s.incrementalSeconds.min}–${s.incrementalSeconds.max})`, String(s.incrementalWireMiB), String(s.incrementalCpuA), String(s.incrementalCpuB)
  ])
  return renderTable([[
    'link', 'compression', 'codec', `initial ${r.objects} s`, 'wire MiB', 'A CPU s', 'B CPU s',
    `incremental ${r.edits} s`, 'wire MiB', 'A CPU s', 'B CPU s'
  ], ...rows])
}
