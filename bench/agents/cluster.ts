/**
 * Parent side of the labmesh scenarios: agent directories (identity, token,
 * ports, config file), seeding, and one worker process per agent.
 *
 * Invariants: every agent is its own OS process (agent-worker.ts) listening
 * on 127.0.0.1 only; a store is seeded by a separate short-lived process
 * before its agent starts; every process this module spawns is stopped by
 * `closeAll()`, which the scenario runs in a `finally`.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { prepareNode, type TestNode } from '../../test/helpers/nodes.js'
import { writeNodeConfig } from '../../test/helpers/processes.js'
import { spawnWorker, type WorkerHandle } from '../lib/process.js'
import { toMiB, type RssReport } from '../lib/rss.js'
import type { BlobArrival, BlobPutResult, CommitMark, EditResult, PullRecord, SeedParams, SeedResult, StartResult, StoreDigest } from './agent-worker.js'

const WORKER = new URL('./agent-worker.js', import.meta.url)

export interface ClusterOptions {
  /** root directory for every agent of this scenario */
  readonly root: string
  /** `sync` block of every agent config ({} = labmesh defaults) */
  readonly sync: Readonly<Record<string, number | string>>
  /** extra node flags for agent processes (e.g. --cpu-prof) */
  readonly execArgv: readonly string[]
  /** environment of agent processes (default: this process's) */
  readonly env?: NodeJS.ProcessEnv
  /** how stores are seeded: signed with the agent's key (default) or not, objects per transaction */
  readonly seed?: { readonly unsigned: boolean, readonly chunk: number }
  /** more top-level config keys for every agent (e.g. history) */
  readonly extraConfig?: Readonly<Record<string, unknown>>
}

/**
 * `addr`: dial the peer there instead of at its own address (a proxy in front
 * of it: lib/throttle-proxy.ts); `null`: never dial it (it dials us), so that
 * the only connection between the two is the one through the proxy.
 */
export interface PeerLink { readonly agent: BenchAgent, readonly pull: boolean, readonly addr?: string | null }

export interface BenchAgent {
  readonly name: string
  readonly node: TestNode
  /** the running worker; undefined before `launch` and after `halt` */
  readonly worker: WorkerHandle | undefined
  /** write the agent's config; `sync`: keys of its `sync` block over the cluster's (e.g. compression) */
  configure: (peers: readonly PeerLink[], sync?: Readonly<Record<string, number | string>>) => Promise<void>
  seed: (params: Omit<SeedParams, 'dir' | 'domain'>) => Promise<SeedResult>
  /** spawn the process (modules loaded, nothing started) */
  launch: () => Promise<void>
  start: () => Promise<StartResult>
  waitFor: (target: { objects?: number, head?: number }, timeoutMs: number) => Promise<CommitMark>
  info: () => Promise<{ head: number, objects: number }>
  cpuMs: () => Promise<number>
  /** peak heap / off-heap MiB since the last call */
  memory: () => Promise<Record<string, number>>
  edit: (uids: readonly string[], round: number, chunk: number) => Promise<EditResult>
  editOne: (uid: string, n: number) => Promise<EditResult>
  pulls: () => Promise<PullRecord[]>
  digest: () => Promise<StoreDigest>
  /** stream `file` (then `suffix`) into the agent's blob store */
  blobPut: (file: string, suffix: string) => Promise<BlobPutResult>
  /** write an object referencing the blob; the wall clock just before */
  blobAttach: (uid: string, hash: string, size: number) => Promise<{ at: number }>
  /** the moment the blob became visible in the agent */
  blobWait: (hash: string, timeoutMs: number) => Promise<BlobArrival>
  rssReset: () => Promise<void>
  rssPeakMiB: () => Promise<number>
  /** stop the process (graceful, so a CPU profile is written) */
  halt: () => Promise<void>
  /** delete the store (identity and config stay): the next start pulls from zero */
  wipeStore: () => Promise<void>
}

export interface Cluster {
  add: (domain: string) => Promise<BenchAgent>
  closeAll: () => Promise<void>
}

export function createCluster (options: ClusterOptions): Cluster {
  const agents: BenchAgent[] = []

  const add = async (domain: string): Promise<BenchAgent> => {
    const node = await prepareNode(domain, options.root)
    let worker: WorkerHandle | undefined
    let configFile: string | undefined
    const need = (): WorkerHandle => {
      if (worker === undefined) throw new Error(`agent ${domain} is not launched`)
      return worker
    }
    const agent: BenchAgent = {
      name: domain,
      node,
      get worker () { return worker },
      configure: async (peers, sync = {}) => {
        const merged = { ...options.sync, ...sync }
        configFile = await writeNodeConfig(node, peers.map((p) => ({
          node: typeof p.addr === 'string' ? { ...p.agent.node, addr: p.addr } : p.agent.node,
          pull: p.pull,
          ...(p.addr === null ? { extra: { addrs: [] } } : {})
        })), {
          log: { level: 'info' },
          ...(Object.keys(merged).length > 0 ? { sync: merged } : {}),
          ...options.extraConfig
        })
      },
      seed: async (params) => {
        const seeder = await spawnWorker({ name: `seed-${domain}`, module: WORKER })
        try {
          return await seeder.call<SeedResult>('seed', { ...params, ...(options.seed !== undefined ? { unsigned: options.seed.unsigned, chunk: options.seed.chunk } : {}), dir: node.dir, domain })
        } finally {
          await seeder.stop(60_000)
        }
      },
      launch: async () => {
        if (worker !== undefined) throw new Error(`agent ${domain} already launched`)
        worker = await spawnWorker({ name: domain, module: WORKER, execArgv: options.execArgv, ...(options.env !== undefined ? { env: options.env } : {}) })
      },
      start: async () => {
        if (configFile === undefined) throw new Error(`agent ${domain} has no config yet`)
        return await need().call<StartResult>('start', { configFile })
      },
      waitFor: async (target, timeoutMs) => await need().call<CommitMark>('waitFor', { ...target, timeoutMs }),
      info: async () => await need().call<{ head: number, objects: number }>('info'),
      cpuMs: async () => await need().call<number>('cpu'),
      memory: async () => await need().call<Record<string, number>>('memory'),
      edit: async (uids, round, chunk) => await need().call<EditResult>('edit', { uids, round, chunk }),
      editOne: async (uid, n) => await need().call<EditResult>('editOne', { uid, n }),
      pulls: async () => await need().call<PullRecord[]>('pulls'),
      digest: async () => await need().call<StoreDigest>('digest', undefined, { timeoutMs: 600_000 }),
      blobPut: async (file, suffix) => await need().call<BlobPutResult>('blobPut', { file, suffix }, { timeoutMs: 600_000 }),
      blobAttach: async (uid, hash, size) => await need().call<{ at: number }>('blobAttach', { uid, hash, size }),
      blobWait: async (hash, timeoutMs) => await need().call<BlobArrival>('blobWait', { hash, timeoutMs }, { timeoutMs: timeoutMs + 5000 }),
      rssReset: async () => { await need().call('rss.reset') },
      rssPeakMiB: async () => toMiB((await need().call<RssReport>('rss.report')).peakBytes),
      halt: async () => {
        const w = worker
        worker = undefined
        await w?.stop(60_000)
      },
      wipeStore: async () => {
        if (worker !== undefined) throw new Error(`halt agent ${domain} before wiping its store`)
        await rm(join(node.dir, 'data', 'store'), { recursive: true, force: true })
      }
    }
    agents.push(agent)
    return agent
  }

  return {
    add,
    closeAll: async () => { await Promise.allSettled(agents.map(async (a) => await a.halt())) }
  }
}
