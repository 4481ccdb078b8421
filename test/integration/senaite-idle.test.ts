/**
 * No echo storm from SENAITE: two sites replicating both ways, once
 * converged, stay flat — no write into either site, no growth of either
 * agent's feed — and the same after an attachment and a workflow
 * transition made in one of them. Per layout in simulated time (poll cycles
 * driven by hand: every cycle what the poll timer would do); once, across
 * layouts (a 1.3 site and a 2.6 site, both ways, the poll timers running),
 * for 30 s of real time, and again for 30 s after an attachment and a
 * workflow transition have crossed.
 */
import { join } from 'node:path'
import { expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { createSenaiteConnector, type SenaiteConnector } from '../../agent/connectors/senaite/connector.js'
import { senaiteInstanceSchema } from '../../config/senaite-schema.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor, type TestNode } from '../helpers/nodes.js'
import { describeLayouts, labPost, startSimulator, type RealLayout } from '../helpers/senaite.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import type { SimObject } from '../senaite-sim/site.js'
import { writeCalls, type SenaiteSimulator } from '../senaite-sim/simulator.js'

const PASSWORD_ENV = 'LABMESH_IDLE_TEST_PASSWORD'
/** the file attached in the tests: bytes that are not text */
const ATTACHED = Buffer.from([0, 1, 2, 250, 251, 252, ...Buffer.from('\nfield photo')]).toString('base64')

/** What both sides show: writes into each site, each agent's feed head, conflicts and parked objects. */
interface Counters { readonly writes: [number, number], readonly feeds: [number, number], readonly conflicts: number, readonly failed: number }

interface Pair {
  readonly sims: [SenaiteSimulator, SenaiteSimulator]
  readonly agents: [Agent, Agent]
  readonly connectors: [SenaiteConnector, SenaiteConnector]
  counters (): Counters
  /** one poll cycle on both sides, and the pulls it set off applied */
  cycle (): Promise<void>
}

/** an instance config for `node` beside `sim`: polls only when the test says (pollNow), or on the interval given */
function connectorFor (node: TestNode, sim: SenaiteSimulator, pollInterval: string): SenaiteConnector {
  const instance = senaiteInstanceSchema.parse({ kind: 'senaite', url: sim.url(), username: 'labman', passwordEnv: PASSWORD_ENV, pollInterval, layout: sim.site.siteLayout })
  return createSenaiteConnector({ instance, dataDir: join(node.dir, 'data'), env: { [PASSWORD_ENV]: 'labman' } })
}

const sameContent = (x: SenaiteSimulator, y: SenaiteSimulator): boolean => JSON.stringify(summary(x)) === JSON.stringify(summary(y))
function summary (sim: SenaiteSimulator): string[] {
  return sim.site.content().map((o) => `${o.portalType}|${o.reviewState}|${String(o.fields.title ?? o.fields.Keyword ?? o.fields.ClientSampleID ?? '')}`).sort()
}

/** In site A: a file attached to a sample still due, and the sample received (a workflow transition). */
async function attachAndReceive (pair: Pair): Promise<SimObject> {
  const simA = pair.sims[0]
  const due = simA.site.content().find((o) => o.portalType === 'AnalysisRequest' && o.reviewState === 'sample_due')!
  const client = simA.site.get(due.parentUid!)!
  const attachment = await labPost(simA, `attachment/create/${client.uid}`, { AttachmentFile: ATTACHED, filename: 'photo.bin', mimetype: 'application/octet-stream' })
  const attachmentUid = (attachment.items as Array<{ uid: string }>)[0]!.uid
  expect((await labPost(simA, `update/${due.uid}`, { Attachment: [attachmentUid] })).success).not.toBe(false)
  expect((await labPost(simA, `update/${due.uid}`, { transition: 'receive' })).success).not.toBe(false)
  return due
}

/** Site B holds what attachAndReceive did in A: the sample received, its analyses alike, the file byte for byte. */
function expectCopied (pair: Pair, due: SimObject): void {
  const [simA, simB] = pair.sims
  const onB = simB.site.content().find((o) => o.portalType === 'AnalysisRequest' && o.fields.ClientSampleID === due.fields.ClientSampleID)!
  expect(onB.reviewState).toBe('sample_received')
  expect(simB.site.children(onB.uid).map((x) => x.reviewState)).toEqual(simA.site.children(due.uid).map((x) => x.reviewState))
  const copied = (onB.fields.Attachment as string[]).map((uid) => simB.site.get(uid)!.fields.AttachmentFile as { data: string, filename: string })
  expect(copied.map((f) => [f.filename, f.data])).toEqual([['photo.bin', ATTACHED]])
}

describeLayouts('SENAITE sites replicating both ways stay flat once converged', (layout) => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])

  async function startPair (layouts: [RealLayout, RealLayout], pollInterval: string): Promise<Pair> {
    const nodes: [TestNode, TestNode] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const sims: [SenaiteSimulator, SenaiteSimulator] = [mesh.track(await startSimulator({ layout: layouts[0] })), mesh.track(await startSimulator({ layout: layouts[1] }))]
    await seedSimulator(sims[0], { seed: 21, samples: 8, clients: 2 })
    const connectors: [SenaiteConnector, SenaiteConnector] = [connectorFor(nodes[0], sims[0], pollInterval), connectorFor(nodes[1], sims[1], pollInterval)]
    const a = await mesh.start(meshConfig(nodes[0], [{ node: nodes[1], pull: true }]), { connector: connectors[0] })
    const b = await mesh.start(meshConfig(nodes[1], [{ node: nodes[0], pull: true }]), { connector: connectors[1] })
    const agents: [Agent, Agent] = [a, b]
    const pullsIdle = (): boolean => a.peerStatus('lab-b').progress.state === 'idle' && b.peerStatus('lab-a').progress.state === 'idle'
    return {
      sims,
      agents,
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
  async function converge (pair: Pair): Promise<Counters> {
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
  async function expectFlat (pair: Pair, cycles: number): Promise<void> {
    const before = pair.counters()
    for (let i = 0; i < cycles; i++) await pair.cycle()
    expect(pair.counters()).toEqual(before)
    expect(before.conflicts).toBe(0)
    expect(before.failed).toBe(0)
  }

  /** `ms` of real time with the poll timers running: nothing written, no feed growth, and the time spent polling */
  async function expectIdleFor (pair: Pair, ms: number): Promise<void> {
    const before = pair.counters()
    const listings = (): number[] => pair.sims.map((s) => s.calls.get('GET AnalysisRequest') ?? 0)
    const listed = listings()
    await new Promise((resolve) => setTimeout(resolve, ms))
    expect(pair.counters()).toEqual(before)
    expect(before.conflicts).toBe(0)
    expect(before.failed).toBe(0)
    // each site was asked for its samples on a good share of the ms / 200 intervals
    expect(listings().map((n, i) => n - listed[i]!).every((n) => n > ms / 200 / 3)).toBe(true)
  }

  it('converged: flat; after an attachment and a workflow transition in one site: converged again, then flat', async () => {
    const pair = await startPair([layout, layout], '1h')
    await converge(pair)
    // a loop shows within a cycle or two; 10 cycles of the 200 ms a lab polls at are 2 s of idle sites
    await expectFlat(pair, 10)

    const due = await attachAndReceive(pair)
    await converge(pair)
    expectCopied(pair, due)
    await expectFlat(pair, 10)
  })

  if (layout === '2.6') {
    it('a 1.3 site and a 2.6 site both ways, polling every 200 ms: 30 s of real time idle write nothing and grow no feed; the same after an attachment and a workflow transition', async () => {
      const pair = await startPair(['1.3', '2.6'], '200ms')
      await waitFor(() => sameContent(...pair.sims) && pair.agents.every((x) => x.status().failed === 0), { what: 'the 2.6 site filled', timeout: 60_000 })
      await converge(pair)
      await expectIdleFor(pair, 30_000)

      const due = await attachAndReceive(pair)
      // the timers poll; nothing driven by hand here
      await waitFor(() => sameContent(...pair.sims), { what: 'the attachment and the transition in the 2.6 site', timeout: 30_000 })
      expectCopied(pair, due)
      await converge(pair)
      await expectIdleFor(pair, 30_000)
    }, 180_000)
  }
})

