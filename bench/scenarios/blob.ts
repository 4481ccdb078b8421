/**
 * Scenario (6) blob throughput A → B: one file of `mib` MiB (1 GiB by
 * default), two agent processes, and in the same run the floor it is
 * measured against: a raw libp2p stream (TCP + Noise + yamux, two processes)
 * carrying the same file's bytes, 256 KiB per `send()`, read from disk, the
 * receiver only counting them.
 *
 * labmesh, per run: A streams the file (plus a few bytes naming the run, so
 * each run moves a blob of its own) into its blob store, untimed; then A
 * writes an object referencing it. Time: just before that write → the
 * moment the blob is visible on B — B pulled the object, parked it
 * (MISSING_BLOB), fetched the blob in request-driven windows, wrote it to
 * disk, fsynced, verified its SHA-256 and moved it into place. Both are
 * wall clocks read inside the processes concerned.
 */
import { join } from 'node:path'
import type { Cluster } from '../agents/cluster.js'
import { FLOOR_BYTES_PROTOCOL, type SendFileResult } from '../baselines/libp2p-floor-worker.js'
import { spawnWorker, type WorkerHandle } from '../lib/process.js'
import type { BenchLog } from '../lib/report.js'
import { seconds } from '../lib/report.js'
import { toMiB, type RssReport } from '../lib/rss.js'
import { round, spread, type Spread } from '../lib/stats.js'
import { writeSeededFile } from '../../test/helpers/blobs.js'

const FLOOR_WORKER = new URL('../baselines/libp2p-floor-worker.js', import.meta.url)
const MiB = 1024 * 1024
const CHUNK = 256 * 1024

export interface BlobOptions {
  readonly mib: number
  readonly runs: number
  readonly floorRuns: number
  /** where the file is written */
  readonly dir: string
  readonly log: BenchLog
}

export interface BlobRun {
  readonly seconds: number
  readonly mibPerSecond: number
  /** A's untimed upload into its own blob store */
  readonly putSeconds: number
  /** CPU time of B's process during the transfer (user + system) */
  readonly bCpuSeconds: number
  readonly rssMiB: { readonly a: number, readonly b: number }
}

export interface BlobResult {
  readonly mib: number
  readonly seconds: Spread
  readonly mibPerSecond: Spread
  readonly runs: readonly BlobRun[]
  readonly floor: { readonly protocol: string, readonly mibPerSecond: Spread, readonly runs: ReadonlyArray<{ readonly seconds: number, readonly mibPerSecond: number, readonly drains: number }>, readonly rssMiB: { readonly sender: number, readonly receiver: number } }
  /** floor MiB/s ÷ labmesh MiB/s (medians): how many times faster the bare stream is */
  readonly floorOverLabmesh: number
  readonly peakRssMiB: { readonly a: number, readonly b: number }
}

export async function runBlob (cluster: Cluster, opts: BlobOptions): Promise<BlobResult> {
  const file = join(opts.dir, 'blob.bin')
  const bytes = opts.mib * MiB
  opts.log('writing the file', { mib: opts.mib })
  await writeSeededFile(file, bytes, 'bench-blob')

  const floor = await floorRuns(file, opts)
  opts.log('floor', { mibPerSecond: floor.mibPerSecond })

  const a = await cluster.add('lab-a')
  const b = await cluster.add('lab-b')
  await a.configure([{ agent: b, pull: false }])
  await b.configure([{ agent: a, pull: true }])
  await a.launch()
  await b.launch()
  await a.start()
  await b.start()
  const runs: BlobRun[] = []
  for (let run = 1; run <= opts.runs; run++) {
    const put = await a.blobPut(file, `run ${run}`)
    await Promise.all([a.rssReset(), b.rssReset()])
    const cpuBefore = await b.cpuMs()
    const attach = await a.blobAttach(`att-${run}`, put.hash, put.size)
    const arrival = await b.blobWait(put.hash, Math.max(120_000, opts.mib * 1000))
    const ms = arrival.at - attach.at
    const r: BlobRun = {
      seconds: seconds(ms),
      mibPerSecond: round(put.size / MiB / (ms / 1000), 1),
      putSeconds: seconds(put.ms),
      bCpuSeconds: seconds(arrival.cpuMs - cpuBefore),
      rssMiB: { a: await a.rssPeakMiB(), b: await b.rssPeakMiB() }
    }
    runs.push(r)
    opts.log(`blob run ${run}`, { ...r })
  }
  const mibPerSecond = spread(runs.map((r) => r.mibPerSecond))
  return {
    mib: opts.mib,
    seconds: spread(runs.map((r) => r.seconds)),
    mibPerSecond,
    runs,
    floor,
    floorOverLabmesh: round(floor.mibPerSecond.median / mibPerSecond.median, 2),
    peakRssMiB: { a: Math.max(...runs.map((r) => r.rssMiB.a)), b: Math.max(...runs.map((r) => r.rssMiB.b)) }
  }
}

/** The raw libp2p stream carrying the same file, `floorRuns` times, in two processes of its own. */
async function floorRuns (file: string, opts: BlobOptions): Promise<BlobResult['floor']> {
  const workers: WorkerHandle[] = []
  try {
    const receiver = await spawnWorker({ name: 'floor-receiver', module: FLOOR_WORKER })
    workers.push(receiver)
    const sender = await spawnWorker({ name: 'floor-sender', module: FLOOR_WORKER })
    workers.push(sender)
    const { addrs } = await receiver.call<{ addrs: string[] }>('listen')
    await sender.call('dial', { addr: addrs[0] })
    await Promise.all(workers.map(async (w) => await w.call('rss.reset')))
    const runs = []
    for (let i = 0; i < opts.floorRuns; i++) {
      const r = await sender.call<SendFileResult>('sendFile', { file, chunk: CHUNK }, { timeoutMs: 600_000 })
      if (r.ack.bytes !== r.bytes) throw new Error(`floor receiver got ${r.ack.bytes} of ${r.bytes} bytes`)
      runs.push({ seconds: seconds(r.ms), mibPerSecond: round(r.bytes / MiB / (r.ms / 1000), 1), drains: r.drains })
      opts.log(`floor run ${i + 1}`, runs[runs.length - 1]!)
    }
    const [s, rc] = await Promise.all([sender, receiver].map(async (w) => await w.call<RssReport>('rss.report')))
    return { protocol: FLOOR_BYTES_PROTOCOL, mibPerSecond: spread(runs.map((r) => r.mibPerSecond)), runs, rssMiB: { sender: toMiB(s!.peakBytes), receiver: toMiB(rc!.peakBytes) } }
  } finally {
    await Promise.all(workers.map(async (w) => await w.stop()))
  }
}
