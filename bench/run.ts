/**
 * `npm run bench`: labmesh's scenarios with every agent as its own process on
 * 127.0.0.1, and the baselines (PouchDB over HTTP, the raw LevelDB floor, the
 * libp2p stream floor) in the same run on the same generated objects. Prints
 * a table on stdout (logs on stderr) and writes the full results as JSON to
 * bench/results/<--out> (default latest.json). bench/README.md explains the
 * scenarios, the flags and how to read the figures.
 *
 *   node dist/bench/run.js [--objects 50000] [--only initial,incremental,live,fanin,blob]
 *                          [--baselines pouchdb,leveldb,libp2p | --skip-baselines]
 *                          [--runs 3] [--cpu-prof] [--out latest.json]
 */
import '../agent/runtime/polyfills.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCluster } from './agents/cluster.js'
import { runLeveldbFloor, type LeveldbFloorResult } from './baselines/leveldb-floor.js'
import { runLibp2pFloor, type Libp2pFloorResult } from './baselines/libp2p-floor.js'
import { runPouchdbBaseline, type PouchdbResult } from './baselines/pouchdb.js'
import { isMainModule, parseBenchArgs } from './lib/args.js'
import { createBenchLog, machineInfo, type BenchLog } from './lib/report.js'
import { createTempDir } from './lib/tmp.js'
import { runBlob, type BlobResult } from './scenarios/blob.js'
import { runFanin, type FaninResult } from './scenarios/fanin.js'
import { runLive, type LiveResult } from './scenarios/live.js'
import { runPair, type PairResult } from './scenarios/pair.js'
import { renderSlowLink, runSlowLink, type SlowLinkResult } from './scenarios/slowlink.js'
import { renderReport, summarise, type BenchResults } from './summary.js'
import { renderMeshReport, runMeshBench } from './mesh-run.js'
import { canReplaceProcess, startSettingsToApply } from '../agent/runtime/node-flags.js'
import type { AgentProcess } from './lib/process.js'

export const RUN_DEFAULTS = Object.freeze({
  objects: 50_000,
  seed: 1,
  /** comma-separated scenarios: initial, incremental, live, fanin, blob ('' = all) */
  only: '',
  /** comma-separated baselines: pouchdb, leveldb, libp2p */
  baselines: 'pouchdb,leveldb,libp2p',
  skipBaselines: false,
  /** repetitions of the initial, incremental and fan-in scenarios */
  runs: 3,
  edits: 1_000,
  /** edits per transaction on A (one bulk transaction; the PouchDB baseline writes bulkDocs of 100) */
  editChunk: 1_000,
  liveEdits: 200,
  /** objects in the live chain's store (synced before the edits, untimed) */
  liveObjects: 10_000,
  livePauseMs: 20,
  faninObjects: 10_000,
  /** size of the blob scenario's file (MiB), its runs, and the runs of its raw-stream floor */
  blobMib: 1024,
  blobRuns: 2,
  blobFloorRuns: 3,
  /** runs of each libp2p floor mode */
  floorRuns: 3,
  /** sync.batchSize / sync.window for every agent (0 = labmesh's default) */
  batchSize: 0,
  window: 0,
  /** write V8 CPU profiles of every agent process to bench/results/profiles */
  cpuProf: false,
  /** extra node flags for every agent process, space-separated (experiments) */
  nodeArgs: '',
  /** compare A's and B's stores after the initial sync */
  verify: true,
  /** seed stores without signing (as an agent before signed provenance did): pulls then verify no signature */
  unsignedSeed: false,
  /** objects per seeding transaction (one signed group per SIGN_GROUP_MAX of them; 1: every version signed alone) */
  seedChunk: 1_000,
  /** history.versions of every agent (-1: labmesh's default; 0: no history) */
  history: -1,
  /** sync protocol versions every agent speaks, comma-separated ('' = labmesh's default: 2, then 1) */
  protocol: '',
  out: 'latest.json',
  keep: false,
  /** comma-separated lab-mesh sizes, master included (e.g. 10,25,50): runs the mesh scenario only (bench/mesh-run.ts) */
  mesh: '',
  /** edits of a mesh's burst phase, spread over all labs, all at once (convergence) */
  meshEdits: 1_000,
  /** edits of a mesh's paced phase (latency): collaborators' edits of shared objects */
  meshLatencyEdits: 60,
  /** paced edits per second over the whole mesh */
  meshLatencyRate: 2,
  /** collaborator agents per process in a mesh (the master always has its own) */
  meshPerProcess: 10,
  /**
   * a slow link, e.g. 50mbit,20ms (bandwidth each way, round trip): runs the slow-link scenario only
   * (scenarios/slowlink.ts) — initial and incremental through a shaping proxy and through a pass-through
   * one on loopback, for each of --compressions; results in slowlink.json unless --out
   */
  link: '',
  /** B's sync.compression in the slow-link scenario, one case each */
  compressions: 'off,brotli'
})

export type RunFlags = typeof RUN_DEFAULTS

const SCENARIOS = ['initial', 'incremental', 'live', 'fanin', 'blob'] as const
const BASELINES = ['pouchdb', 'leveldb', 'libp2p'] as const
/** bench/results of this checkout, from dist/bench/run.js or bench/run.ts */
const RESULTS_DIR = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../bench/results/' : './results/', import.meta.url))

function pick<T extends string> (list: string, known: readonly T[], what: string): Set<T> {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '')
  for (const n of names) if (!known.includes(n as T)) throw new Error(`unknown ${what} "${n}"; known: ${known.join(', ')}`)
  return new Set(names as T[])
}

export async function runBench (flags: RunFlags, log: BenchLog = createBenchLog('bench')): Promise<BenchResults> {
  const only = pick(flags.only, SCENARIOS, 'scenario')
  const scenarios = only.size > 0 ? only : new Set(SCENARIOS)
  const baselines = flags.skipBaselines ? new Set<string>() : pick(flags.baselines, BASELINES, 'baseline')
  const startedAt = new Date()
  const loadBefore = loadavg()
  const sync: Record<string, number> = {}
  if (flags.batchSize > 0) sync.batchSize = flags.batchSize
  if (flags.window > 0) sync.window = flags.window
  const profileDir = join(RESULTS_DIR, 'profiles')
  if (flags.cpuProf) await mkdir(profileDir, { recursive: true })
  // agent processes inherit the environment: the worker restricts its agent to these versions
  if (flags.protocol !== '') process.env.LABMESH_BENCH_SYNC_VERSIONS = flags.protocol
  const { execArgv, env } = agentProcess(flags, profileDir)

  const base: { pouchdb?: PouchdbResult, leveldb?: LeveldbFloorResult, libp2p?: Libp2pFloorResult } = {}
  if (baselines.has('leveldb')) {
    log('baseline: LevelDB floor')
    base.leveldb = await runLeveldbFloor({ objects: flags.objects, seed: flags.seed, log: createBenchLog('leveldb-floor') })
  }
  if (baselines.has('libp2p')) {
    log('baseline: libp2p floor')
    base.libp2p = await runLibp2pFloor({ objects: flags.objects, seed: flags.seed, runs: flags.floorRuns, log: createBenchLog('libp2p-floor') })
  }
  if (baselines.has('pouchdb')) {
    log('baseline: PouchDB')
    base.pouchdb = await runPouchdbBaseline({ objects: flags.objects, seed: flags.seed, edits: flags.edits, log: createBenchLog('pouchdb') })
  }

  const scenario = async <T>(name: string, fn: (cluster: ReturnType<typeof createCluster>) => Promise<T>): Promise<T> => {
    const tmp = await createTempDir(`bench-${name}`)
    const cluster = createCluster({
      root: tmp.path,
      sync,
      execArgv,
      env,
      seed: { unsigned: flags.unsignedSeed, chunk: flags.seedChunk },
      ...(flags.history >= 0 ? { extraConfig: { history: { versions: flags.history } } } : {})
    })
    try {
      return await fn(cluster)
    } finally {
      await cluster.closeAll()
      if (flags.keep) log('kept agent directories', { dir: tmp.path })
      else await tmp.remove()
    }
  }

  let pair: PairResult | undefined
  let live: LiveResult | undefined
  let fanin: FaninResult | undefined
  let blob: BlobResult | undefined
  if (scenarios.has('initial') || scenarios.has('incremental')) {
    log('scenario: initial / incremental', { objects: flags.objects })
    pair = await scenario('pair', async (cluster) => await runPair(cluster, {
      objects: flags.objects,
      seed: flags.seed,
      edits: flags.edits,
      editChunk: flags.editChunk,
      runs: flags.runs,
      initial: scenarios.has('initial'),
      incremental: scenarios.has('incremental'),
      verify: flags.verify,
      log: createBenchLog('pair')
    }))
  }
  if (scenarios.has('live')) {
    log('scenario: live latency A → M → B')
    live = await scenario('live', async (cluster) => await runLive(cluster, {
      objects: flags.liveObjects, seed: flags.seed, edits: flags.liveEdits, pauseMs: flags.livePauseMs, log: createBenchLog('live')
    }))
  }
  if (scenarios.has('fanin')) {
    log('scenario: fan-in 4 → M')
    fanin = await scenario('fanin', async (cluster) => await runFanin(cluster, {
      perCollaborator: flags.faninObjects, seed: flags.seed, runs: flags.runs, log: createBenchLog('fanin')
    }))
  }

  if (scenarios.has('blob')) {
    log('scenario: blob A → B', { mib: flags.blobMib })
    blob = await scenario('blob', async (cluster) => {
      const dir = await createTempDir('bench-blob-file')
      try {
        return await runBlob(cluster, { mib: flags.blobMib, runs: flags.blobRuns, floorRuns: flags.blobFloorRuns, dir: dir.path, log: createBenchLog('blob') })
      } finally {
        await dir.remove()
      }
    })
  }

  const results: BenchResults = {
    date: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: { ...machineInfo(), loadavgBefore: loadBefore.map((l) => Math.round(l * 100) / 100), loadavgAfter: loadavg().map((l) => Math.round(l * 100) / 100) },
    flags,
    labmesh: {
      ...(pair?.initial !== undefined ? { initial: pair.initial } : {}),
      ...(pair?.incremental !== undefined ? { incremental: pair.incremental } : {}),
      ...(live !== undefined ? { live } : {}),
      ...(fanin !== undefined ? { fanin } : {}),
      ...(blob !== undefined ? { blob } : {}),
      ...(pair !== undefined ? { seedSeconds: pair.seedSeconds } : {})
    },
    baselines: base,
    summary: summarise(flags, pair, live, fanin, base, blob)
  }
  return results
}

/** The slow-link scenario on its own (--link): its table is not the pair/baseline report. */
async function runSlowLinkBench (flags: RunFlags, { execArgv, env }: AgentProcess): Promise<{ date: string, machine: Record<string, unknown>, flags: RunFlags, slowlink: SlowLinkResult }> {
  const startedAt = new Date()
  const loadBefore = loadavg()
  if (flags.protocol !== '') process.env.LABMESH_BENCH_SYNC_VERSIONS = flags.protocol
  const tmp = await createTempDir('bench-slowlink')
  const sync: Record<string, number> = {}
  if (flags.batchSize > 0) sync.batchSize = flags.batchSize
  if (flags.window > 0) sync.window = flags.window
  const cluster = createCluster({ root: tmp.path, sync, execArgv, env, seed: { unsigned: flags.unsignedSeed, chunk: flags.seedChunk } })
  try {
    const slowlink = await runSlowLink(cluster, {
      objects: flags.objects,
      seed: flags.seed,
      edits: flags.edits,
      editChunk: flags.editChunk,
      runs: flags.runs,
      links: [flags.link, 'loopback'],
      compressions: flags.compressions.split(',').map((c) => c.trim()).filter((c) => c !== ''),
      log: createBenchLog('slowlink')
    })
    const machine = { ...machineInfo(), loadavgBefore: loadBefore.map((l) => Math.round(l * 100) / 100), loadavgAfter: loadavg().map((l) => Math.round(l * 100) / 100) }
    return { date: startedAt.toISOString(), machine, flags, slowlink }
  } finally {
    await cluster.closeAll()
    if (flags.keep) createBenchLog('bench')('kept agent directories', { dir: tmp.path })
    else await tmp.remove()
  }
}

/**
 * Node flags and environment of every agent process: what `labmesh start`
 * adds (agent/runtime/node-flags.ts; --node-args, NODE_OPTIONS and
 * LABMESH_NODE_FLAGS override it as they do there), --cpu-prof, --node-args.
 */
function agentProcess (flags: RunFlags, profileDir: string): AgentProcess {
  const nodeArgs = flags.nodeArgs.split(' ').filter((a) => a !== '')
  const start = startSettingsToApply(nodeArgs, process.env, canReplaceProcess())
  createBenchLog('bench')('agent processes start as labmesh start does', { flags: start.flags, env: start.env })
  return {
    execArgv: [...(flags.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...start.flags, ...nodeArgs],
    env: { ...process.env, ...start.env }
  }
}

if (isMainModule(import.meta.url)) {
  const flags = parseBenchArgs(process.argv.slice(2), { ...RUN_DEFAULTS })
  await mkdir(RESULTS_DIR, { recursive: true })
  if (flags.link !== '') {
    const results = await runSlowLinkBench(flags, agentProcess(flags, join(RESULTS_DIR, 'profiles')))
    const file = join(RESULTS_DIR, flags.out === RUN_DEFAULTS.out ? 'slowlink.json' : flags.out)
    await writeFile(file, JSON.stringify(results, null, 2) + '\n')
    process.stdout.write(renderSlowLink(results.slowlink) + '\n')
    process.stderr.write(`results written to ${file}\n`)
  } else if (flags.mesh !== '') {
    // the lab mesh runs on its own: its table is not the pair/baseline report
    const profileDir = join(RESULTS_DIR, 'profiles')
    if (flags.cpuProf) await mkdir(profileDir, { recursive: true })
    const results = await runMeshBench(flags, agentProcess(flags, profileDir))
    const file = join(RESULTS_DIR, flags.out === RUN_DEFAULTS.out ? 'mesh.json' : flags.out)
    await writeFile(file, JSON.stringify(results, null, 2) + '\n')
    process.stdout.write(renderMeshReport(results) + '\n')
    process.stderr.write(`results written to ${file}\n`)
  } else {
    const results = await runBench(flags)
    const file = join(RESULTS_DIR, flags.out)
    await writeFile(file, JSON.stringify(results, null, 2) + '\n')
    process.stdout.write(renderReport(results) + '\n')
    process.stderr.write(`results written to ${file}\n`)
  }
}
