/**
 * Two SENAITE sites replicating both ways through two agents (lab-a,
 * lab-b) over real libp2p, with poll cycles driven by hand: every cycle is
 * what the poll timer would do. Site A is seeded; B starts empty. Shared by
 * the echo-storm tests (senaite-idle) and the attachment tests.
 */
import { join } from 'node:path'
import { expect } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { createSenaiteConnector, type SenaiteConnector } from '../../agent/connectors/senaite/connector.js'
import { senaiteInstanceSchema } from '../../config/senaite-schema.js'
import type { TestMesh } from './lifecycle.js'
import { meshConfig, waitFor, type TestNode } from './nodes.js'
import { startSimulator, type RealLayout } from './senaite.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import { writeCalls, type SenaiteSimulator } from '../senaite-sim/simulator.js'

const PASSWORD_ENV = 'LABMESH_PAIR_TEST_PASSWORD'

/** What both sides show: writes into each site, each agent's feed head, conflicts and parked objects. */
export interface Counters { readonly writes: [number, number], readonly feeds: [number, number], readonly conflicts: number, readonly failed: number }

export interface SenaitePair {
  readonly sims: [SenaiteSimulator, SenaiteSimulator]
  readonly agents: [Agent, Agent]
  readonly connectors: [SenaiteConnector, SenaiteConnector]
  counters (): Counters
  /** one poll cycle on both sides, and the pulls it set off applied */
  cycle (): Promise<void>
}

export interface PairSetup {
  readonly layouts: [RealLayout, RealLayout]
  /** '1h': polls only when the test says (cycle) */
  readonly pollInterval: string
  readonly samples?: number
  /** more keys of each instance block (maxFileBytes …) */
  readonly instance?: Record<string, unknown>
}

/** an instance config for `node` beside `sim`: polls only when the test says (pollNow), or on the interval given */
function connectorFor (node: TestNode, sim: SenaiteSimulator, setup: PairSetup): SenaiteConnector {
  const instance = senaiteInstanceSchema.parse({ kind: 'senaite', url: sim.url(), username: 'labman', passwordEnv: PASSWORD_ENV, pollInterval: setup.pollInterval, layout: sim.site.siteLayout, ...setup.instance })
  return createSenaiteConnector({ instance, dataDir: join(node.dir, 'data'), env: { [PASSWORD_ENV]: 'labman' } })
}

export const sameContent = (x: SenaiteSimulator, y: SenaiteSimulator): boolean => JSON.stringify(summary(x)) === JSON.stringify(summary(y))
function summary (sim: SenaiteSimulator): string[] {
  return sim.site.content().map((o) => `${o.portalType}|${o.reviewState}|${String(o.fields.title ?? o.fields.Keyword ?? o.fields.ClientSampleID ?? '')}`).sort()
}

export async function startSenaitePair (mesh: TestMesh, setup: PairSetup): Promise<SenaitePair> {
  const nodes: [TestNode, TestNode] = [mesh.node('lab-a'), mesh.node('lab-b')]
  const sims: [SenaiteSimulator, SenaiteSimulator] = [mesh.track(await startSimulator({ layout: setup.layouts[0] })), mesh.track(await startSimulator({ layout: setup.layouts[1] }))]
  await seedSimulator(sims[0], { seed: 21, samples: setup.samples ?? 8, clients: 2 })
  const connectors: [SenaiteConnector, SenaiteConnector] = [connectorFor(nodes[0], sims[0], setup), connectorFor(nodes[1], sims[1], setup)]
  const a = await mesh.start(meshConfig(nodes[0], [{ node: nodes[1], pull: true }]), { connector: connectors[0] })
  const b = await mesh.start(meshConfig(nodes[1], [{ node: nodes[0], pull: true }]), { connector: connectors[1] })
  const pullsIdle = (): boolean => a.peerStatus('lab-b').progress.state === 'idle' && b.peerStatus('lab-a').progress.state === 'idle'
  return {
    sims,
    agents: [a, b],
    connectors,
    counters: () => ({ writes: [writeCalls(sims[0]), writeCalls(sims[1])], feeds: [a.status().feedHead, b.status().feedHead], conflicts: a.status().conflicts + b.status().conflicts, failed: a.status().failed + b.status().failed }),
    async cycle () {
      const started = performance.now()
      await Promise.all(connectors.map(async (c) => await c.pollNow()))
      if (process.env.LABMESH_IDLE_TIMING !== undefined) console.log(`poll ${(performance.now() - started).toFixed(0)} ms`)
      // a live notify sets off a pull at once; give it the moment it takes to start, then its end
      await new Promise((resolve) => setTimeout(resolve, 50))
      await waitFor(pullsIdle, { what: 'pulls applied', timeout: 20_000 })
    }
  }
}

/** poll cycles until two in a row change nothing on either side */
export async function converge (pair: SenaitePair): Promise<Counters> {
  let last = pair.counters()
  for (let round = 0, quiet = 0; quiet < 2; round++) {
    if (round > 40) throw new Error(`not converged after 40 poll cycles: ${JSON.stringify(pair.counters())}`)
    await pair.cycle()
    const now = pair.counters()
    quiet = JSON.stringify(now) === JSON.stringify(last) && sameContent(...pair.sims) ? quiet + 1 : 0
    last = now
  }
  return last
}

/** `cycles` poll cycles (simulated time: cycles × the poll interval) with nothing written and no feed growth */
export async function expectFlat (pair: SenaitePair, cycles: number): Promise<void> {
  const before = pair.counters()
  for (let i = 0; i < cycles; i++) await pair.cycle()
  expect(pair.counters()).toEqual(before)
  expect(before.conflicts).toBe(0)
  expect(before.failed).toBe(0)
}
