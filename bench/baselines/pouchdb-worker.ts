/**
 * Child process of the PouchDB baseline (pouchdb.ts). One module, two roles
 * chosen by the methods the parent calls:
 * - server (S): `serve` loads the generated objects into a LevelDB-backed
 *   PouchDB (`_id` = uid) and serves it with express-pouchdb on 127.0.0.1;
 *   `edit` writes one round of edits to a fixed set of samples/analyses;
 * - replica (R): `replicate` runs a one-shot pull from S into a local
 *   LevelDB PouchDB; `liveStart` / `liveWait` / `liveStop` run a continuous
 *   pull and report when a given number of documents has arrived.
 *
 * Invariants: timestamps that cross processes come from `wallClockMs()`;
 * databases live in a temp dir owned by this process and removed on
 * shutdown; state lives in the worker factory, not the module.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import expressPouchDB from 'express-pouchdb'
import PouchDB from 'pouchdb'
import { createRng, editObject, generateLimsObjects, isEditable, planLimsSetup } from '../../agent/demo/lims-data.js'
import type { ObjectVersion } from '../../protocol/object.js'
import { isMainModule } from '../lib/args.js'
import { serveWorker, type WorkerMethods } from '../lib/process.js'
import { createBenchLog, wallClockMs } from '../lib/report.js'
import { createRssSampler, rssHandlers } from '../lib/rss.js'
import { createTempDir, type TempDir } from '../lib/tmp.js'

const SERVED_DB = 'lims'

export interface ServeParams {
  readonly domain: string
  readonly seed: number
  readonly objects: number
  /** documents per bulkDocs call while loading (untimed) */
  readonly loadChunk: number
  /** how many samples/analyses each `edit` round rewrites */
  readonly editCount: number
}

export interface ServeResult { readonly url: string, readonly loadMs: number, readonly docCount: number, readonly editTargets: number, readonly payloadBytes: number }

export interface EditResult { readonly firstWriteAt: number, readonly lastWriteAt: number, readonly written: number }

export interface ReplicateParams { readonly url: string, readonly db: string, readonly batchSize?: number }

export interface ReplicateResult {
  readonly startedAt: number
  readonly completedAt: number
  readonly docsRead: number
  readonly docsWritten: number
  readonly failures: number
  readonly docCount: number
}

function createPouchWorker (): { readonly methods: WorkerMethods, readonly shutdown: () => Promise<void> } {
  const log = createBenchLog('pouchdb-worker')
  const rss = createRssSampler()
  rss.start()
  let tmp: TempDir | undefined
  let server: Server | undefined
  const open = new Map<string, PouchDB.Database>()
  let editTargets: string[] = []
  let live: { readonly replication: PouchDB.Replication, written: number, caughtUp: number, readonly waiters: (() => void)[] } | undefined

  const db = async (name: string): Promise<PouchDB.Database> => {
    tmp ??= await createTempDir('pouchdb')
    let d = open.get(name)
    if (d === undefined) {
      d = new PouchDB(join(tmp.path, name))
      open.set(name, d)
    }
    return d
  }

  const methods: WorkerMethods = {
    ...rssHandlers(rss),

    serve: async (params: ServeParams): Promise<ServeResult> => {
      tmp ??= await createTempDir('pouchdb')
      // express-pouchdb opens databases by name; the prefix puts them in our temp dir.
      const Prefixed = PouchDB.defaults({ prefix: tmp.path + '/' })
      const source = new Prefixed(SERVED_DB)
      open.set(SERVED_DB, source)
      const started = performance.now()
      const setup = planLimsSetup(params.objects).total
      const stride = Math.max(1, Math.floor((params.objects - setup) / params.editCount))
      let chunk: PouchDB.Doc[] = []
      let index = 0
      let payloadBytes = 0
      for (const obj of generateLimsObjects({ domain: params.domain, seed: params.seed, count: params.objects })) {
        if (index >= setup && (index - setup) % stride === 0 && isEditable(obj) && editTargets.length < params.editCount) editTargets.push(obj.uid)
        payloadBytes += Buffer.byteLength(JSON.stringify(obj))
        chunk.push({ _id: obj.uid, ...obj })
        index++
        if (chunk.length === params.loadChunk) { await bulk(source, chunk); chunk = [] }
      }
      if (chunk.length > 0) await bulk(source, chunk)
      const loadMs = performance.now() - started
      const app = expressPouchDB(Prefixed, { mode: 'minimumForPouchDB' })
      server = createServer(app)
      const listening = server
      await new Promise<void>((resolve, reject) => { listening.once('error', reject); listening.listen(0, '127.0.0.1', resolve) })
      const { port } = listening.address() as AddressInfo
      const info = await source.info()
      log('serving', { port, docs: info.doc_count, loadMs: Math.round(loadMs), editTargets: editTargets.length })
      return { url: `http://127.0.0.1:${port}/${SERVED_DB}`, loadMs, docCount: info.doc_count, editTargets: editTargets.length, payloadBytes }
    },

    edit: async ({ round, chunk }: { round: number, chunk: number }): Promise<EditResult> => {
      const source = open.get(SERVED_DB)
      if (source === undefined) throw new Error('edit before serve')
      const rng = createRng(`edit-round-${round}`)
      const current = await source.allDocs({ keys: editTargets, include_docs: true })
      const edited = current.rows.map((row) => {
        if (row.doc === undefined) throw new Error(`edit target ${row.key} is missing`)
        // The stored doc is the ObjectVersion plus _id/_rev; editObject keeps extra fields.
        return editObject(row.doc as unknown as ObjectVersion, rng) as unknown as PouchDB.Doc
      })
      const firstWriteAt = wallClockMs()
      for (let i = 0; i < edited.length; i += chunk) await bulk(source, edited.slice(i, i + chunk))
      return { firstWriteAt, lastWriteAt: wallClockMs(), written: edited.length }
    },

    replicate: async (params: ReplicateParams): Promise<ReplicateResult> => {
      const local = await db(params.db)
      const startedAt = wallClockMs()
      const info = await local.replicate.from(params.url, params.batchSize === undefined ? {} : { batch_size: params.batchSize })
      const completedAt = wallClockMs()
      if (info.ok === false || info.doc_write_failures > 0) throw new Error(`replication failed: ${JSON.stringify(info.errors).slice(0, 500)}`)
      return {
        startedAt,
        completedAt,
        docsRead: info.docs_read,
        docsWritten: info.docs_written,
        failures: info.doc_write_failures,
        docCount: (await local.info()).doc_count
      }
    },

    liveStart: async (params: ReplicateParams): Promise<{ caughtUpAt: number }> => {
      if (live !== undefined) throw new Error('live replication already running')
      const local = await db(params.db)
      const replication = local.replicate.from(params.url, { live: true, retry: true, ...(params.batchSize === undefined ? {} : { batch_size: params.batchSize }) })
      const state = { replication, written: 0, caughtUp: 0, waiters: [] as (() => void)[] }
      live = state
      replication.on('change', (info) => {
        state.written = info.docs_written
        for (const wake of state.waiters.splice(0)) wake()
      })
      replication.on('error', (err) => log('live replication error', { err: String(err) }))
      // 'paused' with no error: caught up with S and waiting for changes.
      await new Promise<void>((resolve) => { replication.on('paused', (err) => { if (err === undefined || err === null) resolve() }) })
      state.caughtUp = state.written
      return { caughtUpAt: wallClockMs() }
    },

    /** Resolves once `docs` documents have arrived since liveStart caught up. */
    liveWait: async ({ docs, timeoutMs }: { docs: number, timeoutMs: number }): Promise<{ completedAt: number, docsWritten: number }> => {
      const state = live
      if (state === undefined) throw new Error('liveWait without liveStart')
      const target = state.caughtUp + docs
      const deadline = performance.now() + timeoutMs
      while (state.written < target) {
        if (performance.now() > deadline) throw new Error(`live replication wrote ${state.written - state.caughtUp} of ${docs} docs in ${timeoutMs} ms`)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1_000)
          state.waiters.push(() => { clearTimeout(t); resolve() })
        })
      }
      return { completedAt: wallClockMs(), docsWritten: state.written - state.caughtUp }
    },

    liveStop: async (): Promise<null> => {
      live?.replication.cancel()
      live = undefined
      return null
    }
  }

  return {
    methods,
    shutdown: async () => {
      rss.stop()
      live?.replication.cancel()
      const srv = server
      if (srv !== undefined) await new Promise<void>((resolve) => srv.close(() => resolve()))
      for (const d of open.values()) await d.close().catch(() => undefined)
      await tmp?.remove()
    }
  }
}

async function bulk (db: PouchDB.Database, docs: PouchDB.Doc[]): Promise<void> {
  const results = await db.bulkDocs(docs)
  const failed = results.filter((r) => r.error !== undefined && r.error !== false)
  if (failed.length > 0) throw new Error(`bulkDocs: ${failed.length} of ${docs.length} failed, first: ${JSON.stringify(failed[0])}`)
}

if (isMainModule(import.meta.url)) {
  const worker = createPouchWorker()
  serveWorker(worker.methods, { onShutdown: worker.shutdown })
}
