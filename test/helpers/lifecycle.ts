/**
 * The usual frame of a multi-agent test: fresh nodes (keys, ports, temp dirs)
 * before each test, and every agent and simulator started during it stopped
 * afterwards, whatever happened (agent processes too). `shared` makes one frame for a whole
 * describe block instead, for tests that read one running mesh.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import type { Agent, AgentDeps } from '../../agent/agent.js'
import type { DocumentInput } from '../../agent/apply/local-writes.js'
import type { LoadedConfig } from '../../config/load.js'
import type { AgentConfigInput } from '../../config/schema.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'
import { makeTempDir, meshConfig, prepareNodes, removeDir, startAgent, type TestNode } from './nodes.js'
import { spawnAgent, type AgentProcess } from './processes.js'

export interface TestMeshOptions {
  /** the temporary directory's name prefix */
  readonly prefix?: string
  /** one set of nodes and agents for all tests of the block (beforeAll / afterAll) */
  readonly shared?: boolean
}

/** The common two-agent set-up: A serves B, B pulls from A. */
export interface PairOptions {
  /** A and B (default: lab-a and lab-b) */
  readonly domains?: readonly [string, string]
  /** written on A before B starts, so that B's first pull brings them */
  readonly seed?: readonly DocumentInput[]
  /** more keys of B's link to A (types, prefix, autoSync …) */
  readonly link?: Record<string, unknown>
  /** A pulls from B as well */
  readonly mutual?: boolean
  /** more config of each agent (sync, http …) */
  readonly aConfig?: Partial<AgentConfigInput>
  readonly bConfig?: Partial<AgentConfigInput>
  readonly aDeps?: AgentDeps
  readonly bDeps?: AgentDeps
}

export interface TestPair {
  readonly a: Agent
  readonly b: Agent
  /** the configs, to restart either agent as it was */
  readonly aConfig: LoadedConfig
  readonly bConfig: LoadedConfig
}

export interface TestMesh {
  readonly root: string
  readonly nodes: Record<string, TestNode>
  node (domain: string): TestNode
  /** start an agent that is stopped after the test */
  start (config: LoadedConfig, deps?: AgentDeps): Promise<Agent>
  /** start A (seeded), then B pulling from it; both are stopped after the test */
  startPair (options?: PairOptions): Promise<TestPair>
  /** stop one agent early (it is no longer stopped after the test) */
  stop (agent: Agent): Promise<void>
  /** stop every agent now: for a test's own clean-up that needs them gone first (an unmount) */
  stopAll (): Promise<void>
  /**
   * `labmesh start` as a process with `node`'s admin token; killed after the
   * test (SIGCONT first, should it be stopped) unless it has exited already
   */
  spawn (configFile: string, node: TestNode, options?: Omit<Parameters<typeof spawnAgent>[1], 'token'>): Promise<AgentProcess>
  /** a simulator to stop after the test */
  track (sim: SenaiteSimulator): SenaiteSimulator
}

export function useTestMesh (domains: readonly string[], options: TestMeshOptions = {}): TestMesh {
  const agents = new Set<Agent>()
  const procs: AgentProcess[] = []
  const sims: SenaiteSimulator[] = []
  const state = { root: '', nodes: {} as Record<string, TestNode> }
  const [before, after] = options.shared === true ? [beforeAll, afterAll] : [beforeEach, afterEach]
  before(async () => {
    state.root = await makeTempDir(options.prefix)
    state.nodes = await prepareNodes(domains, state.root)
  })
  const stopAll = async (): Promise<void> => {
    await Promise.all([...agents].map(async (a) => await a.stop()))
    agents.clear()
  }
  after(async () => {
    // a process gone already ignores the signals, and its exit has resolved
    for (const p of procs.splice(0)) { p.proc.kill('SIGCONT'); p.proc.kill('SIGKILL'); await p.exited }
    await stopAll()
    for (const s of sims.splice(0)) await s.stop()
    await removeDir(state.root)
  })
  const mesh: TestMesh = {
    get root () { return state.root },
    get nodes () { return state.nodes },
    node (domain) {
      const n = state.nodes[domain]
      if (n === undefined) throw new Error(`no test node ${domain}`)
      return n
    },
    async start (config, deps) {
      const agent = await startAgent(config, deps)
      agents.add(agent)
      return agent
    },
    async startPair (pair = {}) {
      const [A, B] = (pair.domains ?? ['lab-a', 'lab-b']).map((d) => mesh.node(d)) as [TestNode, TestNode]
      const aConfig = meshConfig(A, [{ node: B, ...(pair.mutual === true ? { pull: true } : {}) }], pair.aConfig)
      const bConfig = meshConfig(B, [{ node: A, pull: true, ...(pair.link !== undefined ? { extra: pair.link } : {}) }], pair.bConfig)
      const a = await mesh.start(aConfig, pair.aDeps)
      if (pair.seed !== undefined) await a.documents.putMany(pair.seed)
      const b = await mesh.start(bConfig, pair.bDeps)
      return { a, b, aConfig, bConfig }
    },
    async stop (agent) {
      await agent.stop()
      agents.delete(agent)
    },
    stopAll,
    async spawn (configFile, node, spawnOptions = {}) {
      const p = await spawnAgent(configFile, { ...spawnOptions, token: node.token })
      procs.push(p)
      return p
    },
    track (sim) {
      sims.push(sim)
      return sim
    }
  }
  return mesh
}
