/**
 * Child process of the mesh scenario: SEVERAL labmesh agents in one OS
 * process (the master runs alone in its own, so that its CPU time, RSS and
 * wire bytes are the process's), each built with `createAgent` from its own
 * YAML config, store and identity, talking to the others over libp2p on
 * 127.0.0.1 exactly as separate processes would.
 *
 * Why grouped: 50 node processes cost ~50 × 100 MiB of RSS and a second of
 * CPU each to start, on a machine two cores and six other engineers share;
 * collaborators in groups keep a 50-lab run to a few minutes and ~1.5 GiB.
 *
 * Timing: every agent's store commits are logged (Date.now()), so an edit's
 * arrival at an agent is the commit that applied it — found after the run
 * from the object's history (`appliedAt`, then the first commit at or after
 * it), with no polling interval in the figure.
 */
import '../../agent/runtime/polyfills.js'
import { createAgent, type Agent } from '../../agent/agent.js'
import type { AgentEvent } from '../../agent/observe/events.js'
import { tuneHeapForAgent } from '../../agent/runtime/heap-tuning.js'
import { createLogger } from '../../agent/runtime/logger.js'
import type { DocumentInput } from '../../agent/apply/local-writes.js'
import { loadConfigFile } from '../../config/load.js'
import { isMainModule } from '../lib/args.js'
import { serveWorker, type WorkerMethods } from '../lib/process.js'
import { createRssSampler, rssHandlers } from '../lib/rss.js'
import { createWireCounter } from '../lib/wire-bytes.js'

export interface MeshEditResult { readonly n: number, readonly editor: string, readonly uid: string, readonly counter: number, readonly at: number }
export interface ArrivalQuery { readonly n: number, readonly uid: string, readonly editor: string, readonly counter: number }
/** when `domain` applied edit n (wall-clock ms of the commit), or null if it does not hold it */
export interface Arrival { readonly n: number, readonly domain: string, readonly at: number | null }

interface Hosted { readonly agent: Agent, readonly commits: number[] }

function cpuMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** index of the first commit time ≥ t (commits are in order) */
function firstAtOrAfter (commits: readonly number[], t: number): number | null {
  let lo = 0
  let hi = commits.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (commits[mid]! < t) lo = mid + 1
    else hi = mid
  }
  return lo < commits.length ? commits[lo]! : null
}

function createMeshWorker (): { readonly methods: WorkerMethods, readonly shutdown: () => Promise<void> } {
  const rss = createRssSampler()
  rss.start()
  const wire = createWireCounter()
  const hosted = new Map<string, Hosted>()
  const need = (domain: string): Agent => {
    const h = hosted.get(domain)
    if (h === undefined) throw new Error(`agent ${domain} is not hosted in this worker`)
    return h.agent
  }
  const destination = { write: (line: string): void => { process.stderr.write(line) } }

  const methods: WorkerMethods = {
    ...rssHandlers(rss),

    /** Start these agents one after the other (each from its config file, store empty or not). */
    start: async ({ configFiles }: { configFiles: string[] }): Promise<null> => {
      tuneHeapForAgent(process.execArgv, process.env.NODE_OPTIONS)
      for (const file of configFiles) {
        const config = await loadConfigFile(file, process.env)
        const logger = createLogger({ level: 'warn', domain: config.domain, destination })
        const agent = createAgent(config, { logger, env: process.env })
        const commits: number[] = []
        // Date.now(), the agent's own clock: an edit's `at` and `appliedAt` are read from it (performance.now()-based time drifts from it)
        agent.subscribe((e: AgentEvent) => { if (e.type === 'commit') commits.push(Date.now()) })
        hosted.set(config.domain, { agent, commits })
        await agent.start()
      }
      return null
    },

    /** Write an agent's own objects through its document API (one transaction). */
    seed: async ({ domain, inputs }: { domain: string, inputs: DocumentInput[] }): Promise<number> => (await need(domain).documents.putMany(inputs)).length,

    /** objects held by each hosted agent */
    counts: (): Record<string, number> => Object.fromEntries([...hosted].map(([d, h]) => [d, h.agent.status().objects])),

    /** One edit (its own transaction): touch `Remarks`, keep the id the object has here. */
    edit: async ({ n, domain, uid, id }: { n: number, domain: string, uid: string, id: string }): Promise<MeshEditResult> => {
      const agent = need(domain)
      const current = await agent.documents.get(uid)
      if (current === undefined) throw new Error(`${domain} does not hold edit target ${uid}`)
      const stored = await agent.documents.put({ uid, type: current.type, id, parent: current.parent, refs: current.refs, data: { ...current.data, Remarks: `mesh edit ${n}` } })
      return { n, editor: domain, uid, counter: stored.vector[domain] ?? 0, at: stored.at }
    },

    /** For each edit asked about: when `domain` committed it, or null when it does not hold it (yet). */
    arrivals: async ({ domain, edits }: { domain: string, edits: ArrivalQuery[] }): Promise<Arrival[]> => {
      const h = hosted.get(domain)
      if (h === undefined) throw new Error(`agent ${domain} is not hosted in this worker`)
      const out: Arrival[] = []
      for (const q of edits) {
        const history = await h.agent.documents.history(q.uid)
        const entry = history?.entries.find((e) => (e.vector[q.editor] ?? 0) >= q.counter && e.event !== 'rejected')
        const applied = entry?.appliedAt ?? null
        // the commit follows appliedAt by the batch write; both read Date.now(), so one is always found (appliedAt as a fallback all the same)
        out.push({ n: q.n, domain, at: applied === null ? null : firstAtOrAfter(h.commits, applied) ?? applied })
      }
      return out
    },

    /** this process's CPU time (ms) and TCP bytes so far */
    usage: () => ({ cpuMs: cpuMs(), wire: wire.total() }),

    stop: async (): Promise<null> => {
      await Promise.allSettled([...hosted.values()].map(async (h) => await h.agent.stop()))
      hosted.clear()
      return null
    }
  }

  return {
    methods,
    shutdown: async () => {
      rss.stop()
      wire.stop()
      await Promise.allSettled([...hosted.values()].map(async (h) => await h.agent.stop()))
    }
  }
}

if (isMainModule(import.meta.url)) {
  const worker = createMeshWorker()
  serveWorker(worker.methods, { onShutdown: worker.shutdown })
}
