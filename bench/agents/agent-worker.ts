/**
 * Child process of the labmesh scenarios: ONE labmesh agent per OS process,
 * built with `createAgent` from a YAML config file exactly as `labmesh start`
 * builds it, driven by the bench runner over IPC (bench/lib/process.ts).
 *
 * Why a worker rather than `labmesh start` + HTTP polling: the runner needs
 * the moment a commit lands in this process, not the moment a poll notices
 * it. The worker keeps a log of every store commit (feed head, object count,
 * wall-clock time) and answers "when did the store first reach X?", so
 * cross-process times are differences of two wall clocks with no polling
 * delay in them (bench/lib/report.ts `wallClockMs`).
 *
 * Roles by method: `seed` fills a store before any agent runs on it (its own
 * short-lived process, so seeding never inflates an agent's RSS); `start`,
 * `edit`, `editOne`, `waitFor`, `digest`, `pulls` drive a running agent;
 * `blobPut`, `blobAttach` and `blobWait` move a file (the blob scenario).
 * State lives in the factory, not the module.
 */
import '../../agent/runtime/polyfills.js'
import { createHash } from 'node:crypto'
import { createReadStream, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createAgent, type Agent } from '../../agent/agent.js'
import type { AgentEvent } from '../../agent/observe/events.js'
import { tuneHeapForAgent } from '../../agent/runtime/heap-tuning.js'
import { createRng, editObject, generateLimsObjects, isEditable, planLimsSetup } from '../../agent/demo/lims-data.js'
import { writeDocuments, type DocumentInput } from '../../agent/apply/local-writes.js'
import { createLogger } from '../../agent/runtime/logger.js'
import { loadConfigFile } from '../../config/load.js'
import type { ObjectVersion } from '../../protocol/object.js'
import { createLevelStore } from '../../store/level-store.js'
import { loadIdentityKey, peerIdOf } from '../../agent/net/identity.js'
import { createVersionSigner } from '../../protocol/provenance.js'
import { isMainModule } from '../lib/args.js'
import { serveWorker, type WorkerMethods } from '../lib/process.js'
import { wallClockMs } from '../lib/report.js'
import { createRssSampler, rssHandlers } from '../lib/rss.js'

export interface SeedParams {
  /** the agent directory (store in <dir>/data/store) */
  readonly dir: string
  readonly domain: string
  readonly seed: number
  readonly objects: number
  /** how many edit targets to pick (same rule as the PouchDB baseline) */
  readonly editCount: number
  /** objects per seeding transaction */
  readonly chunk?: number
  /** write unsigned versions (as agents before signed provenance did) instead of signing with the agent's key */
  readonly unsigned?: boolean
}

export interface SeedResult { readonly ms: number, readonly objects: number, readonly head: number, readonly editTargets: string[] }

export interface StartResult {
  readonly peerId: string
  /** wall clock when start() was called / resolved */
  readonly calledAt: number
  readonly startedAt: number
  /** this process's CPU time (user + system, ms) when start() was called */
  readonly cpuMs: number
}

/**
 * One store commit: feed head and object count after it, wall clock, and the
 * process's CPU time (user + system) — CPU time per object is the figure that
 * stays comparable when other work shares this machine's two cores.
 */
export interface CommitMark { readonly head: number, readonly objects: number, readonly at: number, readonly cpuMs: number }

export interface EditResult { readonly firstWriteAt: number, readonly committedAt: number, readonly written: number, readonly head: number }

/** What one finished pull logged: time applying vs waiting for the remote. */
/** `codec`: the frame codec of the session the pull ran in ('none' when uncompressed) */
export interface PullRecord { readonly peer: string, readonly pulled: number, readonly rate: number, readonly applyMs: number, readonly waitMs: number, readonly codec?: string }

export interface StoreDigest { readonly objects: number, readonly sha256: string }

/** A file put into this agent's blob store: its hash and size, and how long the upload took. */
export interface BlobPutResult { readonly hash: string, readonly size: number, readonly ms: number }

/** When a blob became visible in this process (fetched and verified), and its transfer's own figures. */
export interface BlobArrival { readonly hash: string, readonly at: number, readonly cpuMs: number, readonly seconds: number | undefined }

/** The file's bytes, then `suffix` (so each run can move a blob of its own). */
async function * fileThen (file: string, suffix: string): AsyncIterable<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer
  if (suffix !== '') yield Buffer.from(suffix)
}

/**
 * Pick the edit targets the PouchDB baseline edits: every `stride`-th object
 * after the lab set-up that is a sample or an analysis (pouchdb-worker.ts).
 */
export function editTargetPicker (objects: number, editCount: number): (obj: ObjectVersion, index: number) => boolean {
  const setup = planLimsSetup(objects).total
  const stride = Math.max(1, Math.floor((objects - setup) / Math.max(1, editCount)))
  let picked = 0
  return (obj, index) => {
    if (picked >= editCount || index < setup || (index - setup) % stride !== 0 || !isEditable(obj)) return false
    picked++
    return true
  }
}

/** RssAnon and RssFile of this process in bytes (0 where /proc is missing). */
function procRss (): { anon: number, file: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8')
    const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024
    return { anon: kb('RssAnon'), file: kb('RssFile') }
  } catch {
    return { anon: 0, file: 0 }
  }
}

function cpuMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

function toInput (o: ObjectVersion): DocumentInput {
  return { uid: o.uid, type: o.type, id: o.id, parent: o.parent, refs: o.refs, data: o.data }
}

function createAgentWorker (): { readonly methods: WorkerMethods, readonly shutdown: () => Promise<void> } {
  const rss = createRssSampler()
  rss.start()
  // Where the RSS goes (peaks since the last `memory` call): V8 heap, buffers
  // outside it, and — Linux — anonymous memory vs file-backed pages (node's
  // code, and the LevelDB table files LevelDB memory-maps to read them).
  const memoryPeaks = { heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0, rssAnon: 0, rssFile: 0 }
  const memoryTimer = setInterval(() => {
    const m = process.memoryUsage()
    memoryPeaks.heapTotal = Math.max(memoryPeaks.heapTotal, m.heapTotal)
    memoryPeaks.heapUsed = Math.max(memoryPeaks.heapUsed, m.heapUsed)
    memoryPeaks.external = Math.max(memoryPeaks.external, m.external)
    memoryPeaks.arrayBuffers = Math.max(memoryPeaks.arrayBuffers, m.arrayBuffers)
    const proc = procRss()
    memoryPeaks.rssAnon = Math.max(memoryPeaks.rssAnon, proc.anon)
    memoryPeaks.rssFile = Math.max(memoryPeaks.rssFile, proc.file)
  }, 50)
  memoryTimer.unref()
  let agent: Agent | undefined
  const commits: CommitMark[] = []
  const waiters: Array<{ readonly test: (m: CommitMark) => boolean, readonly resolve: (m: CommitMark) => void }> = []
  const pulls: PullRecord[] = []
  const arrivals = new Map<string, BlobArrival>()
  const arrivalWaiters = new Map<string, (a: BlobArrival) => void>()

  const running = (): Agent => {
    if (agent === undefined) throw new Error('no agent started in this worker')
    return agent
  }

  const onEvent = (event: AgentEvent): void => {
    if (event.type === 'blob' && event.state === 'done') {
      const arrival = { hash: event.transfer.hash, at: wallClockMs(), cpuMs: cpuMs(), seconds: undefined }
      arrivals.set(arrival.hash, arrival)
      arrivalWaiters.get(arrival.hash)?.(arrival)
      return
    }
    if (event.type !== 'commit') return
    const mark = { head: event.head, objects: event.objects, at: wallClockMs(), cpuMs: cpuMs() }
    commits.push(mark)
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!
      if (w.test(mark)) { waiters.splice(i, 1); w.resolve(mark) }
    }
  }

  // Log lines go through pino as in production; "pull finished" lines are
  // kept (applyMs / waitMs), warnings and errors go on to stderr.
  let sessionCodec: string | undefined
  const destination = {
    write: (line: string): void => {
      const rec = JSON.parse(line) as { level: number, msg?: string, peer?: string, pulled?: number, rate?: number, applyMs?: number, waitMs?: number, codec?: string }
      if (rec.msg === 'pull session started' && rec.codec !== undefined) sessionCodec = rec.codec
      if (rec.msg?.startsWith('pull finished') === true) {
        pulls.push({ peer: rec.peer ?? '', pulled: rec.pulled ?? 0, rate: rec.rate ?? 0, applyMs: rec.applyMs ?? 0, waitMs: rec.waitMs ?? 0, ...(sessionCodec !== undefined ? { codec: sessionCodec } : {}) })
      }
      if (rec.level >= 40) process.stderr.write(line)
    }
  }

  /**
   * Edit these objects (editObject, seeded rng) and write them through
   * `writeDocuments` — the path `POST /api/objects` takes — `chunk` objects
   * per atomic transaction, one transaction after the other.
   */
  const editAndWrite = async (uids: readonly string[], rngSeed: string, chunk: number): Promise<EditResult> => {
    const a = running()
    const rng = createRng(rngSeed)
    const current = await Promise.all(uids.map(async (uid) => await a.documents.get(uid)))
    const inputs = current.map((o, i) => {
      if (o === undefined) throw new Error(`edit target ${uids[i]} is missing`)
      return toInput(editObject(o, rng))
    })
    const firstWriteAt = wallClockMs()
    let written = 0
    for (let i = 0; i < inputs.length; i += chunk) written += (await a.documents.putMany(inputs.slice(i, i + chunk))).length
    return { firstWriteAt, committedAt: wallClockMs(), written, head: a.status().feedHead }
  }

  const methods: WorkerMethods = {
    ...rssHandlers(rss),

    seed: async (p: SeedParams): Promise<SeedResult> => {
      const started = performance.now()
      const store = createLevelStore({ location: join(p.dir, 'data', 'store'), domain: p.domain })
      await store.open()
      // signed with the agent's own key, as its local writes are
      const key = p.unsigned === true ? undefined : await loadIdentityKey(join(p.dir, 'data', 'identity.key'))
      const signer = key !== undefined ? createVersionSigner(p.domain, peerIdOf(key), key.raw) : undefined
      const deps = { store, domain: p.domain, now: Date.now, rules: [], ...(signer !== undefined ? { signer } : {}) }
      const pick = editTargetPicker(p.objects, p.editCount)
      const editTargets: string[] = []
      let batch: DocumentInput[] = []
      let index = 0
      try {
        for (const obj of generateLimsObjects({ domain: p.domain, seed: p.seed, count: p.objects })) {
          if (pick(obj, index++)) editTargets.push(obj.uid)
          batch.push(toInput(obj))
          if (batch.length >= (p.chunk ?? 1000)) { await writeDocuments(deps, batch); batch = [] }
        }
        if (batch.length > 0) await writeDocuments(deps, batch)
        const info = store.info()
        return { ms: performance.now() - started, objects: info.objects, head: info.head, editTargets }
      } finally {
        await store.close()
      }
    },

    start: async ({ configFile }: { configFile: string }): Promise<StartResult> => {
      if (agent !== undefined) throw new Error('agent already started')
      const config = await loadConfigFile(configFile, process.env)
      // as `labmesh start` does (agent/cli.ts)
      tuneHeapForAgent(process.execArgv, process.env.NODE_OPTIONS)
      const logger = createLogger({ level: 'info', domain: config.domain, destination })
      const calledAt = wallClockMs()
      const cpuAtCall = cpuMs()
      // --protocol: the versions this bench run compares (an AgentDeps option, not a config key)
      const versions = process.env.LABMESH_BENCH_SYNC_VERSIONS?.split(',').map(Number)
      // LABMESH_BENCH_LEVELDB: classic-level options as JSON (memory experiments: cacheSize, maxOpenFiles …)
      const leveldb = process.env.LABMESH_BENCH_LEVELDB !== undefined ? JSON.parse(process.env.LABMESH_BENCH_LEVELDB) as Record<string, unknown> : undefined
      agent = createAgent(config, { logger, env: process.env, ...(versions !== undefined ? { protocolVersions: versions } : {}), ...(leveldb !== undefined ? { leveldb } : {}) })
      agent.subscribe(onEvent)
      await agent.start()
      return { peerId: agent.peerId, calledAt, startedAt: wallClockMs(), cpuMs: cpuAtCall }
    },

    info: () => {
      const status = running().status()
      return { head: status.feedHead, objects: status.objects }
    },

    /** peak V8 heap and off-heap memory (MiB) since the last call */
    memory: () => {
      const out = Object.fromEntries(Object.entries(memoryPeaks).map(([k, v]) => [k, Math.round(v / 104857.6) / 10]))
      for (const k of Object.keys(memoryPeaks) as Array<keyof typeof memoryPeaks>) memoryPeaks[k] = 0
      return out
    },

    /** CPU time of this process so far (ms, user + system) */
    cpu: () => cpuMs(),

    /** Resolves with the first commit at which the store held ≥ objects (or head ≥ head). */
    waitFor: async ({ objects, head, timeoutMs }: { objects?: number, head?: number, timeoutMs: number }): Promise<CommitMark> => {
      const test = (m: CommitMark): boolean => (objects === undefined || m.objects >= objects) && (head === undefined || m.head >= head)
      const seen = commits.find(test)
      if (seen !== undefined) return seen
      return await new Promise<CommitMark>((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter)
          if (i !== -1) waiters.splice(i, 1)
          const status = running().status()
          // slow or stopped: how long ago the store last grew tells the two apart
          const last = commits.at(-1)
          const lastCommit = last !== undefined ? `its last commit ${Math.round(wallClockMs() - last.at)} ms ago` : 'no commit yet'
          reject(new Error(`store did not reach ${JSON.stringify({ objects, head })} within ${timeoutMs} ms (holds ${status.objects} objects, head ${status.feedHead}; ${lastCommit})`))
        }, timeoutMs)
        const waiter = { test, resolve: (m: CommitMark) => { clearTimeout(timer); resolve(m) } }
        waiters.push(waiter)
      })
    },

    /** Forget the commit log (a new measurement starts). */
    resetCommits: () => { commits.length = 0; return null },

    /** Edit these objects (round r: the PouchDB baseline's rng), `chunk` per transaction. */
    edit: async ({ uids, round, chunk }: { uids: string[], round: number, chunk: number }): Promise<EditResult> => await editAndWrite(uids, `edit-round-${round}`, chunk),

    /** One single-object edit (live latency). */
    editOne: async ({ uid, n }: { uid: string, n: number }): Promise<EditResult> => await editAndWrite([uid], `live-edit-${n}`, 1),

    /** Pulls finished since the last call (their applyMs / waitMs). */
    pulls: () => pulls.splice(0),

    /** Hash of every object's uid, vector, deleted flag and data, in uid order. */
    digest: async (): Promise<StoreDigest> => {
      const documents = running().documents
      const hash = createHash('sha256')
      let after: string | undefined
      let objects = 0
      while (true) {
        const page = await documents.list({ limit: 1000, ...(after !== undefined ? { after } : {}) })
        for (const o of page.items) {
          hash.update(`${o.uid}\0${JSON.stringify(o.vector)}\0${String(o.deleted)}\0${JSON.stringify(o.data)}\n`)
          objects++
        }
        if (page.next === null) break
        after = page.next
      }
      return { objects, sha256: hash.digest('hex') }
    },

    /** Stream a file (and a suffix) into this agent's blob store. */
    blobPut: async ({ file, suffix }: { file: string, suffix: string }): Promise<BlobPutResult> => {
      const started = performance.now()
      const result = await running().blobs.put(fileThen(file, suffix))
      return { hash: result.hash, size: result.size, ms: performance.now() - started }
    },

    /** Write an object referencing the blob (the document API's path); resolves with the wall clock just before the write. */
    blobAttach: async ({ uid, hash, size }: { uid: string, hash: string, size: number }): Promise<{ at: number }> => {
      const at = wallClockMs()
      await running().documents.put({ uid, type: 'Attachment', id: uid, data: { file: { blob: hash, size, name: `${uid}.bin`, mediaType: 'application/octet-stream' } } })
      return { at }
    },

    /** Resolves when the blob is visible here (fetched from a peer and verified). */
    blobWait: async ({ hash, timeoutMs }: { hash: string, timeoutMs: number }): Promise<BlobArrival> => {
      const seen = arrivals.get(hash)
      if (seen !== undefined) return seen
      return await new Promise<BlobArrival>((resolve, reject) => {
        const timer = setTimeout(() => { arrivalWaiters.delete(hash); reject(new Error(`blob ${hash} not here within ${timeoutMs} ms`)) }, timeoutMs)
        arrivalWaiters.set(hash, (a) => { clearTimeout(timer); arrivalWaiters.delete(hash); resolve(a) })
      })
    },

    stopAgent: async () => { await agent?.stop(); agent = undefined; return null }
  }

  return {
    methods,
    shutdown: async () => {
      rss.stop()
      clearInterval(memoryTimer)
      await agent?.stop()
    }
  }
}

if (isMainModule(import.meta.url)) {
  const worker = createAgentWorker()
  serveWorker(worker.methods, { onShutdown: worker.shutdown })
}
