/**
 * Baseline: PouchDB replication, the incumbent way to sync document stores.
 * Two processes on 127.0.0.1: S serves a LevelDB-backed PouchDB with
 * express-pouchdb, R pulls from S's URL into its own LevelDB PouchDB. Both
 * hold the same generated LIMS objects labmesh is measured with (`_id` = uid).
 *
 * Scenarios (S is loaded with bulkDocs before any timing):
 * (a) initial replication of all objects into an empty R database, once with
 *     PouchDB's default batch size (100) and once with `batch_size: 1000`;
 * (b) incremental: `--edits` (1,000) samples/analyses edited on S after the
 *     initial sync; one-shot: time from the first edit written on S to R's
 *     replication complete (R starts when S has written them all); live: R
 *     runs a continuous replication, caught up, and the time is from the first
 *     edit written to the last edited doc written on R;
 * (c) peak RSS of both processes, sampled every 50 ms in each, per phase.
 *     Each initial replication runs in a fresh R process (the batch-1000 one
 *     in `R1000`), so its peak is not inherited from an earlier phase; the
 *     incremental phases reuse the default-batch R, as a running replica would.
 *
 * Run: node dist/bench/baselines/pouchdb.js [--objects 50000] [--edits 1000]
 */
import { isMainModule, parseBenchArgs } from '../lib/args.js'
import { spawnWorker, type WorkerHandle } from '../lib/process.js'
import { createBenchLog, emitResult, machineInfo, perSecond, seconds, type BenchLog, type MachineInfo } from '../lib/report.js'
import { toMiB, type RssReport } from '../lib/rss.js'
import type { EditResult, ReplicateResult, ServeResult } from './pouchdb-worker.js'

export interface PouchdbFlags {
  readonly objects: number
  readonly seed: number
  readonly domain: string
  readonly edits: number
  /** documents per bulkDocs call when loading S (untimed) */
  readonly loadChunk: number
  /** documents per bulkDocs call when writing edits on S */
  readonly editChunk: number
  /** also run the live (continuous replication) incremental scenario */
  readonly live: boolean
}

export interface PouchdbOptions extends PouchdbFlags {
  readonly log?: BenchLog
}

export interface PhaseRss { readonly serverMiB: number, readonly replicaMiB: number }

export interface InitialResult {
  readonly batchSize: number
  readonly seconds: number
  readonly objectsPerSecond: number
  readonly rss: PhaseRss
}

export interface IncrementalResult {
  readonly batchSize: number
  /** S writing the edits (bulkDocs of --edit-chunk) */
  readonly writeSeconds: number
  /** first edit written on S → last edit on R */
  readonly seconds: number
  readonly objectsPerSecond: number
  readonly rss: PhaseRss
}

export interface PouchdbResult {
  readonly baseline: 'pouchdb'
  readonly objects: number
  readonly payloadMiB: number
  readonly load: { readonly seconds: number, readonly objectsPerSecond: number, readonly serverRssMiB: number }
  readonly initial: { readonly defaultBatch: InitialResult, readonly batch1000: InitialResult }
  readonly incremental: {
    readonly edits: number
    readonly oneShot: IncrementalResult & { readonly replicateSeconds: number }
    readonly live?: IncrementalResult
  }
  readonly peakRssMiB: { readonly server: number, readonly replica: number }
  readonly lifetimeMaxRssMiB: { readonly server: number, readonly replica: number }
  readonly maxSampleGapMs: { readonly server: number, readonly replica: number }
  readonly machine: MachineInfo
}

export const POUCHDB_DEFAULTS: PouchdbFlags = Object.freeze({
  objects: 50_000, seed: 1, domain: 'lab-a', edits: 1_000, loadChunk: 1_000, editChunk: 100, live: true
})

/** PouchDB's replication batch size when none is given. */
const POUCHDB_DEFAULT_BATCH_SIZE = 100
const WORKER = new URL('./pouchdb-worker.js', import.meta.url)

export async function runPouchdbBaseline (options: Partial<PouchdbOptions> = {}): Promise<PouchdbResult> {
  const opts: PouchdbOptions = { ...POUCHDB_DEFAULTS, ...options }
  const log = opts.log ?? createBenchLog('pouchdb')
  const workers: WorkerHandle[] = []
  try {
    const spawn = async (name: string): Promise<WorkerHandle> => {
      const w = await spawnWorker({ name, module: WORKER })
      workers.push(w)
      return w
    }
    const server = await spawn('S')
    // Each initial replication gets a fresh R process, so its peak RSS is its own.
    const replica = await spawn('R')
    const peaks = { server: 0, replica: 0, serverGap: 0, replicaGap: 0, serverLife: 0, replicaLife: 0 }
    const phase = createPhaseMeter(server, replica, peaks)

    log('loading S', { objects: opts.objects })
    await phase.reset()
    const served = await server.call<ServeResult>('serve', {
      domain: opts.domain, seed: opts.seed, objects: opts.objects, loadChunk: opts.loadChunk, editCount: opts.edits
    })
    if (served.docCount !== opts.objects) throw new Error(`S holds ${served.docCount} of ${opts.objects} docs`)
    if (served.editTargets !== opts.edits) throw new Error(`S found ${served.editTargets} of ${opts.edits} edit targets`)
    const loadRss = await phase.read()
    log('S loaded', { seconds: seconds(served.loadMs), url: served.url })

    const initial = async (r: WorkerHandle, db: string, batchSize: number | undefined): Promise<InitialResult> => {
      const meter = createPhaseMeter(server, r, peaks)
      await meter.reset()
      const res = await r.call<ReplicateResult>('replicate', { url: served.url, db, ...(batchSize === undefined ? {} : { batchSize }) })
      if (res.docCount !== opts.objects) throw new Error(`R holds ${res.docCount} of ${opts.objects} docs after replication`)
      const ms = res.completedAt - res.startedAt
      const result = { batchSize: batchSize ?? POUCHDB_DEFAULT_BATCH_SIZE, seconds: seconds(ms), objectsPerSecond: perSecond(opts.objects, ms), rss: await meter.read() }
      log(`initial replication into ${db}`, { ...result })
      return result
    }
    const defaultBatch = await initial(replica, 'r-default', undefined)
    const replica1000 = await spawn('R1000')
    const batch1000 = await initial(replica1000, 'r-b1000', 1_000)
    await replica1000.stop(30_000)

    // (b) one-shot incremental into the database synced with the default batch size.
    await phase.reset()
    const edit1 = await server.call<EditResult>('edit', { round: 1, chunk: opts.editChunk })
    const inc = await replica.call<ReplicateResult>('replicate', { url: served.url, db: 'r-default' })
    if (inc.docsWritten !== opts.edits) throw new Error(`incremental replication wrote ${inc.docsWritten} of ${opts.edits} edits`)
    const oneShotMs = inc.completedAt - edit1.firstWriteAt
    const oneShot = {
      batchSize: POUCHDB_DEFAULT_BATCH_SIZE,
      writeSeconds: seconds(edit1.lastWriteAt - edit1.firstWriteAt),
      replicateSeconds: seconds(inc.completedAt - inc.startedAt),
      seconds: seconds(oneShotMs),
      objectsPerSecond: perSecond(opts.edits, oneShotMs),
      rss: await phase.read()
    }
    log('incremental one-shot', { ...oneShot })

    let live: IncrementalResult | undefined
    if (opts.live) {
      await replica.call('liveStart', { url: served.url, db: 'r-default' })
      await phase.reset()
      const waiting = replica.call<{ completedAt: number, docsWritten: number }>('liveWait', { docs: opts.edits, timeoutMs: 300_000 })
      const edit2 = await server.call<EditResult>('edit', { round: 2, chunk: opts.editChunk })
      const done = await waiting
      await replica.call('liveStop')
      const liveMs = done.completedAt - edit2.firstWriteAt
      live = {
        batchSize: POUCHDB_DEFAULT_BATCH_SIZE,
        writeSeconds: seconds(edit2.lastWriteAt - edit2.firstWriteAt),
        seconds: seconds(liveMs),
        objectsPerSecond: perSecond(opts.edits, liveMs),
        rss: await phase.read()
      }
      log('incremental live', { ...live })
    }

    return {
      baseline: 'pouchdb',
      objects: opts.objects,
      payloadMiB: toMiB(served.payloadBytes),
      load: { seconds: seconds(served.loadMs), objectsPerSecond: perSecond(opts.objects, served.loadMs), serverRssMiB: loadRss.serverMiB },
      initial: { defaultBatch, batch1000 },
      incremental: { edits: opts.edits, oneShot, ...(live === undefined ? {} : { live }) },
      peakRssMiB: { server: toMiB(peaks.server), replica: toMiB(peaks.replica) },
      lifetimeMaxRssMiB: { server: toMiB(peaks.serverLife), replica: toMiB(peaks.replicaLife) },
      maxSampleGapMs: { server: peaks.serverGap, replica: peaks.replicaGap },
      machine: machineInfo()
    }
  } finally {
    await Promise.all(workers.map(async (w) => await w.stop(30_000)))
  }
}

interface Peaks { server: number, replica: number, serverGap: number, replicaGap: number, serverLife: number, replicaLife: number }

/** Per-phase RSS peaks of S and R; folds every phase into the overall peaks. */
function createPhaseMeter (server: WorkerHandle, replica: WorkerHandle, peaks: Peaks): { reset: () => Promise<void>, read: () => Promise<PhaseRss> } {
  return {
    reset: async () => { await Promise.all([server.call('rss.reset'), replica.call('rss.reset')]) },
    read: async () => {
      const [s, r] = await Promise.all([server.call<RssReport>('rss.report'), replica.call<RssReport>('rss.report')])
      peaks.server = Math.max(peaks.server, s.peakBytes)
      peaks.replica = Math.max(peaks.replica, r.peakBytes)
      peaks.serverGap = Math.max(peaks.serverGap, s.maxGapMs)
      peaks.replicaGap = Math.max(peaks.replicaGap, r.maxGapMs)
      peaks.serverLife = Math.max(peaks.serverLife, s.lifetimeMaxBytes)
      peaks.replicaLife = Math.max(peaks.replicaLife, r.lifetimeMaxBytes)
      return { serverMiB: toMiB(s.peakBytes), replicaMiB: toMiB(r.peakBytes) }
    }
  }
}

if (isMainModule(import.meta.url)) {
  const args = parseBenchArgs(process.argv.slice(2), { ...POUCHDB_DEFAULTS })
  emitResult(await runPouchdbBaseline(args))
}
