import { expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { describeLayouts, senaiteInstance, startSimulator } from '../helpers/senaite.js'

/** What a site holds, independent of its own UIDs and ids: type, state and a few identifying fields. */
function contentOf (sim: SenaiteSimulator): string[] {
  return sim.site.content().map((o) => `${o.portalType}|${o.reviewState}|${String(o.fields.title ?? o.fields.Keyword ?? o.fields.ClientSampleID ?? '')}`).sort()
}

describeLayouts('SENAITE connector against simulated sites', (layout) => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])

  async function api (sim: SenaiteSimulator, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const r = await sim.app.request(`/senaite/@@API/senaite/v1/${path}`, {
      method, headers: { authorization: `Basic ${Buffer.from('labman:labman').toString('base64')}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
    return await r.json() as Record<string, unknown>
  }

  it('full bidirectional sync of a generated lab dataset: references, review states, edits both ways, no echoes', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const simA = await startSimulator({ layout })
    const simB = await startSimulator({ layout })
    mesh.track(simA); mesh.track(simB)
    const seeded = await seedSimulator(simA, { seed: 7, samples: Number(process.env.LABMESH_SENAITE_SAMPLES ?? 12) })
    const a = await mesh.start(meshConfig(A, [{ node: B, pull: true }], { instance: await senaiteInstance(A, simA) as never }))
    await waitFor(() => a.status().objects >= seeded.objects, { what: 'site A read into agent A', timeout: 30_000 })
    const started = performance.now()
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }], { instance: await senaiteInstance(B, simB) as never }))
    // the same content in both sites, and B's pull finished (so its last batch is committed, patches included)
    await waitFor(() => JSON.stringify(contentOf(simB)) === JSON.stringify(contentOf(simA)) && b.peerStatus('lab-a').progress.state === 'idle' && b.peerStatus('lab-a').progress.percent === 100, { what: 'site B filled', timeout: 60_000 })
    const seconds = (performance.now() - started) / 1000
    console.log(`wrote ${simB.site.content().length} objects into site B in ${seconds.toFixed(2)} s = ${(simB.site.content().length / seconds).toFixed(0)} objects/s`)
    expect(contentOf(simB)).toEqual(contentOf(simA))

    // references point at the right local objects (by what they are, since UIDs differ per site)
    const what = (sim: SenaiteSimulator, uid: unknown): string => { const o = typeof uid === 'string' ? sim.site.get(uid) : undefined; return o === undefined ? 'none' : `${o.portalType}:${String(o.fields.title ?? o.fields.Keyword ?? o.fields.Surname ?? '')}` }
    const samplesOf = (sim: SenaiteSimulator) => new Map(sim.site.content().filter((o) => o.portalType === 'AnalysisRequest').map((o) => [String(o.fields.ClientSampleID), o]))
    const [samplesA, samplesB] = [samplesOf(simA), samplesOf(simB)]
    for (const [key, sa] of samplesA) {
      const sb = samplesB.get(key)!
      expect(sb.uid).not.toBe(sa.uid)
      for (const field of ['Contact', 'SampleType', 'Client']) expect(what(simB, sb.fields[field]), `${key}.${field}`).toBe(what(simA, sa.fields[field]))
      expect(what(simB, sb.parentUid)).toBe(what(simA, sa.parentUid))
      const kw = (sim: SenaiteSimulator, s: typeof sa) => sim.site.children(s.uid).map((x) => `${x.id}:${x.reviewState}:${String(x.fields.Result ?? '')}:${what(sim, x.fields.AnalysisService)}`).sort()
      expect(kw(simB, sb), key).toEqual(kw(simA, sa))
      expect(sb.history.map((h) => h.review_state)).toContain(sa.reviewState)
    }
    const ws = (sim: SenaiteSimulator) => sim.site.content().find((o) => o.portalType === 'Worksheet')
    const wsLayout = (sim: SenaiteSimulator) => (ws(sim)!.fields.Layout as Array<{ analysis_uid: string }>).map((r) => what(sim, r.analysis_uid) + '@' + what(sim, sim.site.get(r.analysis_uid)?.parentUid))
    expect(wsLayout(simB)).toEqual(wsLayout(simA))

    // echo-free: once settled, idle poll cycles record nothing on either side …
    const settled = async (): Promise<number[]> => {
      let last = [-1, -1]
      return await waitFor(async () => {
        await new Promise((r) => setTimeout(r, 400)) // two poll intervals
        const now = [a.status().feedHead, b.status().feedHead]
        const same = now[0] === last[0] && now[1] === last[1]
        last = now
        return same ? now : undefined
      }, { timeout: 20_000, what: 'feeds settle' })
    }
    const heads = await settled()
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 250))
    expect([a.status().feedHead, b.status().feedHead]).toEqual(heads)
    // … and nothing was ever recorded as a local edit by the agent's own writes
    const ownEdits = async (agent: Agent, domain: string): Promise<string[]> => (await agent.documents.list({ limit: 10_000 })).items
      .filter((o) => o.origin === domain ? (o.vector[domain] ?? 0) > 1 : (o.vector[domain] ?? 0) > 0)
      .map((o) => `${o.type} ${o.id} ${JSON.stringify(o.vector)}`)
    expect(await ownEdits(b, 'lab-b')).toEqual([])
    expect(await ownEdits(a, 'lab-a')).toEqual([])

    // an edit through site B's API appears in site A, and one through A's in B
    const sampleB = samplesB.get('CS-3')!
    await api(simB, 'POST', `update/${sampleB.uid}`, { Remarks: 'edited on site B' })
    await waitFor(() => samplesA.get('CS-3')!.fields.Remarks === 'edited on site B', { what: 'B → A edit', timeout: 20_000 })
    const clientA = simA.site.content().find((o) => o.portalType === 'Client')!
    await api(simA, 'POST', `update/${clientA.uid}`, { Phone: '+41 44 000 00 00' })
    await waitFor(() => simB.site.content().find((o) => o.portalType === 'Client' && o.fields.title === clientA.fields.title)?.fields.Phone === '+41 44 000 00 00', { what: 'A → B edit', timeout: 20_000 })

    // a field emptied on one site is emptied on the other (not left at its old value)
    await api(simB, 'POST', `update/${sampleB.uid}`, { Remarks: '' })
    await waitFor(() => samplesA.get('CS-3')!.fields.Remarks === '', { what: 'B → A clearing', timeout: 20_000 })
    await api(simA, 'POST', `update/${clientA.uid}`, { Phone: '' })
    await waitFor(() => simB.site.content().find((o) => o.portalType === 'Client' && o.fields.title === clientA.fields.title)?.fields.Phone === '', { what: 'A → B clearing', timeout: 20_000 })
    expect(a.status().conflicts + b.status().conflicts).toBe(0)
    // and the write of the empty value is no local edit on the receiving side: the feeds settle
    const afterClear = await settled()
    await new Promise((r) => setTimeout(r, 500))
    expect([a.status().feedHead, b.status().feedHead]).toEqual(afterClear)
  })
})
