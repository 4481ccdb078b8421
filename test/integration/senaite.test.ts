import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import type { SenaiteConnector } from '../../agent/connectors/senaite/connector.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'
import { makeTempDir, meshConfig, prepareNodes, removeDir, startAgent, waitFor, type TestNode } from '../helpers/nodes.js'
import { senaiteInstance, startSimulator } from '../helpers/senaite.js'

/** What a site holds, independent of its own UIDs and ids: type, state and a few identifying fields. */
function contentOf (sim: SenaiteSimulator): string[] {
  return sim.site.content().map((o) => `${o.portalType}|${o.reviewState}|${String(o.fields.title ?? o.fields.Keyword ?? o.fields.ClientSampleID ?? '')}`).sort()
}

describe('SENAITE connector against simulated sites', () => {
  let root: string
  let nodes: Record<string, TestNode>
  const agents = new Set<Agent>()
  const sims: SenaiteSimulator[] = []

  beforeEach(async () => {
    root = await makeTempDir()
    nodes = await prepareNodes(['lab-a', 'lab-b'], root)
  })
  afterEach(async () => {
    await Promise.all([...agents].map(async (a) => await a.stop()))
    agents.clear()
    for (const s of sims.splice(0)) await s.stop()
    await removeDir(root)
  })

  it('full bidirectional sync of a generated lab dataset; edits through one site appear in the other', async () => {
    const { 'lab-a': A, 'lab-b': B } = nodes as Record<string, TestNode>
    const simA = await startSimulator()
    const simB = await startSimulator()
    sims.push(simA, simB)
    const seeded = await seedSimulator(simA, { seed: 7, samples: 12 })
    const a = await startAgent(meshConfig(A!, [{ node: B!, pull: true }], { instance: await senaiteInstance(A!, simA) as never }))
    agents.add(a)
    await waitFor(() => a.store.info().objects >= seeded.objects, { what: 'site A read into agent A', timeout: 30_000 })
    const started = performance.now()
    const b = await startAgent(meshConfig(B!, [{ node: A!, pull: true }], { instance: await senaiteInstance(B!, simB) as never }))
    agents.add(b)
    await waitFor(() => simB.site.content().length >= simA.site.content().length && b.replicator.peerStatus('lab-a').progress.percent === 100, { what: 'site B filled', timeout: 60_000 })
    const seconds = (performance.now() - started) / 1000
    const written = (b.status() as unknown as { instance: string }) && (await Promise.resolve((a as unknown as { connector?: SenaiteConnector }).connector))
    void written
    console.log(`wrote ${simB.site.content().length} objects into site B in ${seconds.toFixed(2)} s = ${(simB.site.content().length / seconds).toFixed(0)} objects/s`)
    const [ca, cb] = [contentOf(simA), contentOf(simB)]
    console.log('only A:', ca.filter((x) => !cb.includes(x)).slice(0, 20), '\nonly B:', cb.filter((x) => !ca.includes(x)).slice(0, 20), b.status().failed, await b.store.listFailed())
    expect(contentOf(simB)).toEqual(contentOf(simA))
  })
})
