/**
 * The usual frame of a multi-agent test: fresh nodes (keys, ports, temp dirs)
 * before each test, and every agent and simulator started during it stopped
 * afterwards, whatever happened.
 */
import { afterEach, beforeEach } from 'vitest'
import type { Agent, AgentDeps } from '../../agent/agent.js'
import type { LoadedConfig } from '../../config/load.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'
import { makeTempDir, prepareNodes, removeDir, startAgent, type TestNode } from './nodes.js'

export interface TestMesh {
  readonly root: string
  readonly nodes: Record<string, TestNode>
  node (domain: string): TestNode
  /** start an agent that is stopped after the test */
  start (config: LoadedConfig, deps?: AgentDeps): Promise<Agent>
  /** stop one agent early (it is no longer stopped after the test) */
  stop (agent: Agent): Promise<void>
  /** a simulator to stop after the test */
  track (sim: SenaiteSimulator): SenaiteSimulator
}

export function useTestMesh (domains: readonly string[]): TestMesh {
  const agents = new Set<Agent>()
  const sims: SenaiteSimulator[] = []
  const state = { root: '', nodes: {} as Record<string, TestNode> }
  beforeEach(async () => {
    state.root = await makeTempDir()
    state.nodes = await prepareNodes(domains, state.root)
  })
  afterEach(async () => {
    await Promise.all([...agents].map(async (a) => await a.stop()))
    agents.clear()
    for (const s of sims.splice(0)) await s.stop()
    await removeDir(state.root)
  })
  return {
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
    async stop (agent) {
      await agent.stop()
      agents.delete(agent)
    },
    track (sim) {
      sims.push(sim)
      return sim
    }
  }
}
