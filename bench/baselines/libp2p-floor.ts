/**
 * Baseline: the libp2p floor. How fast does one libp2p stream (TCP + Noise +
 * Yamux, two nodes in two processes on 127.0.0.1) carry the generated LIMS
 * objects as length-prefixed JSON messages, `--coalesce` (64) per `send()`,
 * with back-pressure (`send()` false → `await stream.onDrain()`)? labmesh's
 * pull stream can only be slower.
 *
 * Two modes, each on a fresh stream over the same connection, `--runs` times:
 * - `raw`: the receiver only decodes the frames (the transport floor);
 * - `parse`: the receiver also JSON.parses every object (the floor of any
 *   receiver that looks at what it gets).
 * Time is the sender's, from the first `send()` to the receiver's ack after
 * it has read everything. The objects are generated and framed before timing
 * when they fit in `--pregenerate-max-mb`, otherwise while sending (reported).
 *
 * Run: node dist/bench/baselines/libp2p-floor.js [--objects 50000] [--runs 5]
 */
import { isMainModule, parseBenchArgs } from '../lib/args.js'
import { spawnWorker, type WorkerHandle } from '../lib/process.js'
import {
  createBenchLog, emitResult, machineInfo, megabytesPerSecond, perSecond, seconds, type BenchLog, type MachineInfo
} from '../lib/report.js'
import { toMiB, type RssReport } from '../lib/rss.js'
import type { FloorMode, PrepareResult, SendResult } from './libp2p-floor-worker.js'

export interface Libp2pFloorFlags {
  readonly objects: number
  readonly seed: number
  readonly domain: string
  readonly coalesce: number
  readonly runs: number
  readonly pregenerateMaxMb: number
}

export interface Libp2pFloorOptions extends Libp2pFloorFlags {
  readonly log?: BenchLog
}

export interface FloorRun {
  readonly seconds: number
  readonly objectsPerSecond: number
  readonly megabytesPerSecond: number
  readonly drains: number
}

export interface FloorModeResult {
  /** the median run by time */
  readonly median: FloorRun
  readonly runs: readonly FloorRun[]
}

export interface ProcessRss { readonly peakRssMiB: number, readonly lifetimeMaxRssMiB: number, readonly maxSampleGapMs: number }

export interface Libp2pFloorResult {
  readonly baseline: 'libp2p-floor'
  readonly objects: number
  readonly payloadMiB: number
  readonly coalesce: number
  readonly pregenerated: boolean
  readonly dialMs: number
  readonly raw: FloorModeResult
  readonly parse: FloorModeResult
  readonly rss: { readonly sender: ProcessRss, readonly receiver: ProcessRss }
  readonly machine: MachineInfo
}

export const LIBP2P_FLOOR_DEFAULTS: Libp2pFloorFlags = Object.freeze({
  objects: 50_000, seed: 1, domain: 'lab-a', coalesce: 64, runs: 5, pregenerateMaxMb: 1024
})

const WORKER = new URL('./libp2p-floor-worker.js', import.meta.url)

export async function runLibp2pFloor (options: Partial<Libp2pFloorOptions> = {}): Promise<Libp2pFloorResult> {
  const opts: Libp2pFloorOptions = { ...LIBP2P_FLOOR_DEFAULTS, ...options }
  const log = opts.log ?? createBenchLog('libp2p-floor')
  const workers: WorkerHandle[] = []
  try {
    const receiver = await spawnWorker({ name: 'receiver', module: WORKER })
    workers.push(receiver)
    const sender = await spawnWorker({ name: 'sender', module: WORKER })
    workers.push(sender)
    const { addrs } = await receiver.call<{ addrs: string[] }>('listen')
    const addr = addrs[0]
    if (addr === undefined) throw new Error('receiver has no listen address')
    log('receiver listening', { addr, objects: opts.objects })
    const prep = await sender.call<PrepareResult>('prepare', {
      domain: opts.domain, seed: opts.seed, objects: opts.objects, coalesce: opts.coalesce,
      pregenerateMaxBytes: opts.pregenerateMaxMb * 1048576
    })
    log('sender prepared', { ...prep })
    const { ms: dialMs } = await sender.call<{ ms: number }>('dial', { addr })
    await Promise.all(workers.map(async (w) => await w.call('rss.reset')))

    const results: Record<FloorMode, FloorRun[]> = { raw: [], parse: [] }
    let payloadBytes = prep.payloadBytes
    for (let run = 0; run < opts.runs; run++) {
      for (const mode of ['raw', 'parse'] as const) {
        const r = await sender.call<SendResult>('send', { mode })
        if (r.ack.error !== undefined) throw new Error(`receiver failed: ${r.ack.error}`)
        if (r.ack.count !== opts.objects) throw new Error(`receiver got ${r.ack.count} of ${opts.objects} objects`)
        payloadBytes = r.ack.bytes
        const floorRun: FloorRun = {
          seconds: seconds(r.ms),
          objectsPerSecond: perSecond(r.objects, r.ms),
          megabytesPerSecond: megabytesPerSecond(r.payloadBytes, r.ms),
          drains: r.drains
        }
        results[mode].push(floorRun)
        log(`run ${run + 1} ${mode}`, { ...floorRun, receiverMs: Math.round(r.ack.receiveMs) })
      }
    }
    const [senderRss, receiverRss] = await Promise.all([sender, receiver].map(async (w) => await w.call<RssReport>('rss.report')))
    return {
      baseline: 'libp2p-floor',
      objects: opts.objects,
      payloadMiB: toMiB(payloadBytes),
      coalesce: opts.coalesce,
      pregenerated: prep.pregenerated,
      dialMs: Math.round(dialMs * 10) / 10,
      raw: summarise(results.raw),
      parse: summarise(results.parse),
      rss: { sender: processRss(senderRss as RssReport), receiver: processRss(receiverRss as RssReport) },
      machine: machineInfo()
    }
  } finally {
    await Promise.all(workers.map(async (w) => await w.stop()))
  }
}

function summarise (runs: readonly FloorRun[]): FloorModeResult {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds)
  const median = sorted[Math.floor((sorted.length - 1) / 2)]
  if (median === undefined) throw new Error('no runs')
  return { median, runs }
}

export function processRss (r: RssReport): ProcessRss {
  return { peakRssMiB: toMiB(r.peakBytes), lifetimeMaxRssMiB: toMiB(r.lifetimeMaxBytes), maxSampleGapMs: r.maxGapMs }
}

if (isMainModule(import.meta.url)) {
  const args = parseBenchArgs(process.argv.slice(2), { ...LIBP2P_FLOOR_DEFAULTS })
  emitResult(await runLibp2pFloor(args))
}
