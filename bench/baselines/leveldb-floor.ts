/**
 * Baseline: the LevelDB floor. How fast can one process put the generated
 * LIMS objects into LevelDB (`level` 10) at all? Anything labmesh's apply does
 * on top (vectors, feed entries, checkpoints) can only be slower.
 *
 * Two passes, each on a fresh database, JSON values keyed by uid, batches of
 * `--batch-size` (1,000):
 * - `write`: `batch()` of puts only;
 * - `apply-empty`: `getMany(keys)` (all missing: what an apply must look up
 *   on an empty store) then `batch()`.
 *
 * Generation and JSON.stringify are kept out of the timed section: objects are
 * generated `--chunk` at a time (50,000 ≈ 55 MB of strings) and each chunk is
 * written back to back, so LevelDB's background compaction is not hidden in
 * generator time. End-to-end time (generation included) is reported beside.
 *
 * Run: node dist/bench/baselines/leveldb-floor.js [--objects 50000] [--seed 1]
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { generateLimsObjects } from '../../agent/demo/lims-data.js'
import { isMainModule, parseBenchArgs } from '../lib/args.js'
import { createBenchLog, emitResult, machineInfo, perSecond, seconds, type BenchLog, type MachineInfo } from '../lib/report.js'
import { createRssSampler, toMiB } from '../lib/rss.js'
import { createTempDir } from '../lib/tmp.js'

/** The command-line flags (every one has a default). */
export interface LeveldbFloorFlags {
  readonly objects: number
  readonly seed: number
  readonly domain: string
  readonly batchSize: number
  /** objects generated ahead of each timed stretch */
  readonly chunk: number
  readonly keep: boolean
}

export interface LeveldbFloorOptions extends LeveldbFloorFlags {
  readonly log?: BenchLog
}

export interface LeveldbPassResult {
  /** wall time of the database calls only */
  readonly seconds: number
  readonly objectsPerSecond: number
  /** generation + stringify + database */
  readonly endToEndSeconds: number
  readonly endToEndObjectsPerSecond: number
  readonly diskMiB: number
}

export interface LeveldbFloorResult {
  readonly baseline: 'leveldb-floor'
  readonly objects: number
  readonly payloadMiB: number
  readonly batchSize: number
  readonly write: LeveldbPassResult
  readonly applyEmpty: LeveldbPassResult
  readonly peakRssMiB: number
  readonly machine: MachineInfo
}

export const LEVELDB_FLOOR_DEFAULTS: LeveldbFloorFlags = Object.freeze({
  objects: 50_000, seed: 1, domain: 'lab-a', batchSize: 1_000, chunk: 50_000, keep: false
})

export async function runLeveldbFloor (options: Partial<LeveldbFloorOptions> = {}): Promise<LeveldbFloorResult> {
  const opts: LeveldbFloorOptions = { ...LEVELDB_FLOOR_DEFAULTS, ...options }
  const log = opts.log ?? createBenchLog('leveldb-floor')
  const rss = createRssSampler()
  rss.start()
  const tmp = await createTempDir('leveldb-floor')
  try {
    log('write pass', { objects: opts.objects, dir: tmp.path })
    const write = await runPass(join(tmp.path, 'write'), opts, false)
    log('write done', { ...write.result })
    log('apply-empty pass (getMany + batch)')
    const applyEmpty = await runPass(join(tmp.path, 'apply'), opts, true)
    log('apply-empty done', { ...applyEmpty.result })
    return {
      baseline: 'leveldb-floor',
      objects: opts.objects,
      payloadMiB: toMiB(write.bytes),
      batchSize: opts.batchSize,
      write: write.result,
      applyEmpty: applyEmpty.result,
      peakRssMiB: toMiB(rss.report().peakBytes),
      machine: machineInfo()
    }
  } finally {
    rss.stop()
    if (opts.keep) log('kept databases', { dir: tmp.path })
    else await tmp.remove()
  }
}

interface PassOutcome { readonly result: LeveldbPassResult, readonly bytes: number }

async function runPass (location: string, opts: LeveldbFloorOptions, lookUpFirst: boolean): Promise<PassOutcome> {
  const db = new Level<string, string>(location, { valueEncoding: 'utf8' })
  await db.open()
  let dbMs = 0
  let bytes = 0
  const started = performance.now()
  try {
    const source = generateLimsObjects({ domain: opts.domain, seed: opts.seed, count: opts.objects })
    let exhausted = false
    while (!exhausted) {
      // Generate one chunk of batches ahead, then time writing it back to back.
      const batches: { keys: string[], values: string[] }[] = []
      let current = { keys: [] as string[], values: [] as string[] }
      for (let inChunk = 0; inChunk < opts.chunk; inChunk++) {
        const r = source.next()
        if (r.done === true) { exhausted = true; break }
        const json = JSON.stringify(r.value)
        bytes += Buffer.byteLength(json)
        current.keys.push(r.value.uid)
        current.values.push(json)
        if (current.keys.length === opts.batchSize) { batches.push(current); current = { keys: [], values: [] } }
      }
      if (current.keys.length > 0) batches.push(current)
      const t0 = performance.now()
      for (const batch of batches) {
        if (lookUpFirst) {
          const found = await db.getMany(batch.keys)
          if (found.some((v) => v !== undefined)) throw new Error('apply-empty: a key already exists in a fresh database')
        }
        await db.batch(batch.keys.map((key, i) => ({ type: 'put' as const, key, value: batch.values[i] as string })))
      }
      dbMs += performance.now() - t0
    }
  } finally {
    await db.close()
  }
  const totalMs = performance.now() - started
  return {
    bytes,
    result: {
      seconds: seconds(dbMs),
      objectsPerSecond: perSecond(opts.objects, dbMs),
      endToEndSeconds: seconds(totalMs),
      endToEndObjectsPerSecond: perSecond(opts.objects, totalMs),
      diskMiB: toMiB(await directorySize(location))
    }
  }
}

async function directorySize (dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}

if (isMainModule(import.meta.url)) {
  const args = parseBenchArgs(process.argv.slice(2), { ...LEVELDB_FLOOR_DEFAULTS })
  emitResult(await runLeveldbFloor(args))
}
