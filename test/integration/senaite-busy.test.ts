/**
 * A SENAITE site whose agent is kept busy by a steady stream of edits from
 * another lab still gets its own edits out: the poller must not give up
 * every poll that a write of the stream overlaps.
 */
import { expect, it } from 'vitest'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { describeLayouts, senaiteInstance, startSimulator } from '../helpers/senaite.js'
import { seedSimulator } from '../senaite-sim/dataset.js'

describeLayouts('SENAITE connector under a steady stream of remote edits', (layout) => {
  const mesh = useTestMesh(['master', 'lab-a'])

  it('records and sends out an edit made in the site while remote edits keep arriving', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    // a site that answers reads slowly (and has no modified_since: most types are scanned): a poll takes ~1 s
    const site = await startSimulator({ layout })
    mesh.track(site)
    await seedSimulator(site, { seed: 5, samples: 10 })
    site.setLatency({ readMs: 25 })
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    await m.documents.put({ uid: 'method-stream', type: 'Method', id: 'method-stream', data: { title: 'edit 0' } })
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site) as never }))
    const streamed = await waitFor(() => site.site.content().find((o) => o.portalType === 'Method' && String(o.fields.title).startsWith('edit ')), { what: 'the streamed method in the site', timeout: 30_000 })
    await waitFor(() => m.status().objects > 50 || undefined, { what: 'the site read into the master', timeout: 30_000 })

    // the master edits its method every 40 ms: the agent writes into the site again and again
    let stop = false
    let n = 0
    const stream = (async () => {
      while (!stop) {
        await m.documents.put({ uid: 'method-stream', type: 'Method', id: 'method-stream', data: { title: `edit ${++n}` } })
        await new Promise((r) => setTimeout(r, 40))
      }
    })()
    try {
      await waitFor(() => n > 10 && streamed.fields.title !== 'edit 0', { what: 'the stream reaching the site' })
      const client = site.site.content().find((o) => o.portalType === 'Client')!
      const r = await site.app.request(`/senaite/@@API/senaite/v1/update/${client.uid}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('labman:labman').toString('base64')}`, 'content-type': 'application/json' }, body: JSON.stringify({ Phone: 'edited in the site' }) })
      expect(r.status).toBe(200)
      const onMaster = await waitFor(async () => (await m.documents.list({ type: 'Client', limit: 100 })).items.find((o) => o.data.Phone === 'edited in the site'), { what: 'the site\'s edit on the master while the stream runs', timeout: 20_000 })
      expect(onMaster.vector['lab-a']).toBeGreaterThan(0)
      expect(stop).toBe(false)
    } finally {
      stop = true
      await stream
    }
    expect(a.status().conflicts).toBe(0)
  })

  it('a stream of remote edits to one sample does not hold back the site\'s edits of its sibling samples', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const site = await startSimulator({ layout })
    mesh.track(site)
    await seedSimulator(site, { seed: 5, samples: 10, clients: 1 })
    site.setLatency({ readMs: 25 })
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site) as never }))
    const samples = site.site.content().filter((o) => o.portalType === 'AnalysisRequest')
    const [streamed, sibling] = [samples[0]!, samples[1]!]
    expect(sibling.parentUid).toBe(streamed.parentUid)
    const held = await waitFor(async () => await m.documents.get(streamed.uid), { what: 'the streamed sample on the master', timeout: 30_000 })
    await waitFor(async () => (await m.documents.get(sibling.uid)) !== undefined, { what: 'the sibling on the master', timeout: 30_000 })

    // the master edits one sample every 40 ms: the agent writes it (and touches its client) again and again
    let stop = false
    let n = 0
    const stream = (async () => {
      while (!stop) {
        await m.documents.put({ uid: held.uid, type: held.type, id: held.id, parent: held.parent, refs: held.refs, data: { ...held.data, Remarks: `stream ${++n}` } })
        await new Promise((r) => setTimeout(r, 40))
      }
    })()
    try {
      await waitFor(() => n > 10 && String(streamed.fields.Remarks ?? '').startsWith('stream '), { what: 'the stream reaching the site' })
      const r = await site.app.request(`/senaite/@@API/senaite/v1/update/${sibling.uid}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('labman:labman').toString('base64')}`, 'content-type': 'application/json' }, body: JSON.stringify({ Remarks: 'edited in the site' }) })
      expect(r.status).toBe(200)
      await waitFor(async () => (await m.documents.get(sibling.uid))?.data.Remarks === 'edited in the site', { what: 'the sibling\'s edit on the master while the stream runs', timeout: 20_000 })
    } finally {
      stop = true
      await stream
    }
  })
})
