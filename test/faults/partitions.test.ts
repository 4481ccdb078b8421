/**
 * Convergence under partitions: five agents (a master with four
 * collaborators, then a full mesh) take random creates, edits, deletes and
 * conflict resolutions on every agent while links are cut and healed at
 * random (TCP proxies between each pair) and agents are stopped and started.
 * At the end of every round all links heal and every agent must hold exactly
 * what the test's causal oracle says: each truly concurrent pair flagged as
 * a conflict, no conflict that was not concurrent, no acknowledged write lost.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createAgent, type Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { NotFoundError } from '../../agent/errors.js'
import type { StoredObject } from '../../store/types.js'
import type { LoadedConfig } from '../../config/load.js'
import { CausalOracle } from '../helpers/causal-oracle.js'
import { createLinkProxy, type LinkProxy } from '../helpers/link-proxy.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, testLogger, waitFor, type TestNode } from '../helpers/nodes.js'
import { scaled, withSeed, type Rng } from '../helpers/seeded.js'
import { auditStore } from '../helpers/store-audit.js'
import { holdingsOf } from '../helpers/two-agents.js'

const FILE = 'test/faults/partitions.test.ts'
const DOMAINS = ['master', 'lab-1', 'lab-2', 'lab-3', 'lab-4']

type Link = readonly [string, string]
const TOPOLOGIES: Record<string, readonly Link[]> = {
  'master and four collaborators': DOMAINS.slice(1).map((d) => ['master', d] as const),
  'full mesh': DOMAINS.flatMap((a, i) => DOMAINS.slice(i + 1).map((b) => [a, b] as const))
}

interface Stats { writes: number, cuts: number, restarts: number, pairsSeen: number, conflictsAtEnd: number }

class Mesh {
  readonly agents = new Map<string, Agent>()
  readonly configs = new Map<string, LoadedConfig>()
  /** proxies by link key, each holding the two directions of the link */
  readonly links = new Map<string, LinkProxy[]>()

  constructor (readonly nodes: Record<string, TestNode>, readonly oracle: CausalOracle) {}

  async build (links: readonly Link[]): Promise<void> {
    const peers = new Map<string, Array<{ node: TestNode }>>(DOMAINS.map((d) => [d, []]))
    for (const [a, b] of links) {
      const aToB = await createLinkProxy(this.nodes[b]!.p2pPort)
      const bToA = await createLinkProxy(this.nodes[a]!.p2pPort)
      this.links.set(`${a}|${b}`, [aToB, bToA])
      peers.get(a)!.push({ node: { ...this.nodes[b]!, addr: aToB.addr } })
      peers.get(b)!.push({ node: { ...this.nodes[a]!, addr: bToA.addr } })
    }
    for (const d of DOMAINS) {
      this.configs.set(d, meshConfig(this.nodes[d]!, peers.get(d)!.map((p) => ({ ...p, pull: true }))))
      await this.start(d)
    }
  }

  async start (domain: string): Promise<void> {
    const agent = createAgent(this.configs.get(domain)!, { logger: testLogger(domain) })
    await agent.start()
    this.agents.set(domain, agent)
  }

  async stop (domain: string): Promise<void> {
    await this.agents.get(domain)?.stop()
    this.agents.delete(domain)
  }

  healAll (): void {
    for (const pair of this.links.values()) for (const p of pair) p.heal()
  }

  async close (): Promise<void> {
    await Promise.all([...this.agents.values()].map(async (a) => await a.stop()))
    for (const pair of this.links.values()) for (const p of pair) await p.close()
  }

  /** One random write on a running agent, recorded as the agent acknowledged it. */
  async write (rng: Rng, counter: { next: number }): Promise<boolean> {
    const running = [...this.agents.keys()]
    if (running.length === 0) return false
    const domain = rng.pick(running)
    const agent = this.agents.get(domain)!
    const known = this.oracle.uids()
    if (known.length === 0 || rng.chance(0.2)) {
      const uid = `u-${String(counter.next++).padStart(5, '0')}`
      this.oracle.record(domain, await agent.documents.put({ uid, type: rng.pick(['Client', 'Method', 'AnalysisRequest']), id: uid, data: { by: domain, n: rng.int(1000) } }))
      return true
    }
    const uid = rng.pick(known)
    const held = await agent.documents.get(uid)
    try {
      return await this.#change(rng, domain, agent, uid, held)
    } catch (err) {
      // what it read a moment ago changed under it (a tombstone or a resolution arrived):
      // the write was refused, not acknowledged, so there is nothing to record
      if (err instanceof NotFoundError) return false
      throw err
    }
  }

  async #change (rng: Rng, domain: string, agent: Agent, uid: string, held: StoredObject | undefined): Promise<boolean> {
    if (held === undefined && !rng.chance(0.1)) return false // mostly edit what it holds; sometimes create the same uid concurrently
    if (held !== undefined && held.conflicts.length > 0 && rng.chance(0.4)) {
      this.oracle.record(domain, await agent.conflicts.resolve(uid, rng.chance(0.5) ? { pick: rng.pick(['local', 'remote'] as const) } : { data: { merged: domain, n: rng.int(1000) } }))
    } else if (held !== undefined && !held.deleted && rng.chance(0.12)) {
      this.oracle.record(domain, await agent.documents.delete(uid))
    } else {
      this.oracle.record(domain, await agent.documents.put({ uid, type: held?.type ?? 'Client', id: held?.id ?? uid, data: { by: domain, n: rng.int(1000) } }))
    }
    return true
  }

  /** What is still wrong on each agent (empty once all hold the oracle's frontiers). */
  async problems (): Promise<string[]> {
    const out: string[] = []
    for (const [domain, agent] of this.agents) out.push(...this.oracle.check(domain, await holdingsOf(agentInternals(agent).store)))
    return out
  }
}

describe('convergence under partitions (five agents, links cut and healed at random)', () => {
  const frame = useTestMesh(DOMAINS, { prefix: 'labmesh-partitions-' })
  let mesh: Mesh | undefined

  afterEach(async () => {
    await mesh?.close()
    mesh = undefined
  })

  it.each(Object.keys(TOPOLOGIES))('%s: all converge to the causal oracle after every round of writes, cuts and restarts', async (topology) => {
    await withSeed(`partitions/${topology}`, FILE, async (rng) => {
      const rounds = scaled(4, 12)
      const stepsPerRound = scaled(150, 500)
      const oracle = new CausalOracle()
      mesh = new Mesh(frame.nodes, oracle)
      await mesh.build(TOPOLOGIES[topology]!)
      const stats: Stats = { writes: 0, cuts: 0, restarts: 0, pairsSeen: 0, conflictsAtEnd: 0 }
      const counter = { next: 0 }
      const started = performance.now()

      for (let round = 0; round < rounds; round++) {
        for (let step = 0; step < stepsPerRound; step++) {
          const roll = rng.next()
          if (roll < 0.12) {
            // a link goes down or comes back
            const pair = rng.pick([...mesh.links.values()])
            if (pair[0]!.up) { for (const p of pair) p.cut(); stats.cuts++ } else for (const p of pair) p.heal()
          } else if (roll < 0.14) {
            // an agent goes down or comes back (at most two down at once)
            const domain = rng.pick(DOMAINS)
            if (mesh.agents.has(domain) && mesh.agents.size > 3) { await mesh.stop(domain); stats.restarts++ } else if (!mesh.agents.has(domain)) await mesh.start(domain)
          } else if (await mesh.write(rng, counter)) {
            stats.writes++
          }
        }
        // the round ends: every link heals, every agent runs; all must converge to the oracle
        mesh.healAll()
        for (const d of DOMAINS) if (!mesh.agents.has(d)) await mesh.start(d)
        let last: string[] = []
        await waitFor(async () => { last = await mesh!.problems(); return last.length === 0 }, { timeout: 90_000, interval: 200, what: `convergence after round ${round + 1}` })
          .catch((err: Error) => { throw new Error(`${err.message}; ${last.length} problems, first ones:\n  ${last.slice(0, 12).join('\n  ')}`) })
        stats.pairsSeen += oracle.concurrentPairs()
        for (const agent of mesh.agents.values()) expect(await auditStore(agentInternals(agent).store)).toEqual([])
      }
      stats.conflictsAtEnd = oracle.uids().filter((u) => oracle.frontier(u).length > 1).length
      for (const agent of mesh.agents.values()) expect(agent.status().conflicts).toBe(stats.conflictsAtEnd)
      const seconds = (performance.now() - started) / 1000
      console.log(`partitions (${topology}): ${rounds} rounds, ${stats.writes} writes on ${oracle.uids().length} objects, ${stats.cuts} link cuts, ${stats.restarts} agent restarts, ${stats.pairsSeen} concurrent pairs flagged at round ends (${stats.conflictsAtEnd} open at the end), ${seconds.toFixed(1)} s`)
      // the workload did make concurrent edits: otherwise this test would prove little
      expect(stats.pairsSeen).toBeGreaterThan(0)
    })
  }, scaled(240_000, 1_800_000))
})
