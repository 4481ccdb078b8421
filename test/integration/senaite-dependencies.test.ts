/**
 * Dependencies before creates: an object whose required references are not
 * in the SENAITE site yet (a sample's SampleType: the ID server reads its
 * prefix) waits in the failed queue as MISSING_DEPENDENCY naming them —
 * nothing is created half, not even the temporary sample SENAITE's factory
 * leaves behind — and is written once they arrive; in the same pull when
 * the batch brings them, whatever order the feed has them in. Analyses are
 * made by the sample factory, never on their own.
 */
import { expect, it } from 'vitest'
import type { DocumentInput } from '../../agent/apply/local-writes.js'
import { adminRequest } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { describeLayouts, senaiteInstance, startSimulator } from '../helpers/senaite.js'
import { agentInternals } from '../../agent/test-hooks.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'

const STICKERS = [{ admitted: ['QR_1x14mmx39mm.pt'], small_default: 'QR_1x14mmx39mm.pt', large_default: 'QR_1x14mmx39mm.pt' }]

/** a small lab as an embedded master holds it: the sample (with one analysis) first, what it needs after */
const LAB: readonly DocumentInput[] = [
  { uid: 'sample-1', type: 'AnalysisRequest', id: 'W-0001', parent: 'client-1', refs: ['contact-1', 'st-water'], data: { Contact: 'contact-1', SampleType: 'st-water', ClientSampleID: 'CS-1', DateSampled: '2024-05-01T10:00:00+00:00', Analyses: ['an-ca'] } },
  { uid: 'an-ca', type: 'Analysis', id: 'Ca', parent: 'sample-1', refs: ['svc-ca'], data: { Keyword: 'Ca', title: 'Calcium', AnalysisService: 'svc-ca', Result: '12.5' } },
  { uid: 'st-water', type: 'SampleType', id: 'sampletype-1', data: { title: 'Water', Prefix: 'W', MinimumVolume: '10 ml', AdmittedStickerTemplates: STICKERS } },
  { uid: 'svc-ca', type: 'AnalysisService', id: 'analysisservice-1', refs: ['cat-metals'], data: { title: 'Calcium', Keyword: 'Ca', Category: 'cat-metals' } },
  { uid: 'cat-metals', type: 'AnalysisCategory', id: 'analysiscategory-1', data: { title: 'Metals' } },
  { uid: 'client-1', type: 'Client', id: 'client-1', data: { title: 'ACME', ClientID: 'AC' } },
  { uid: 'contact-1', type: 'Contact', id: 'contact-1', parent: 'client-1', data: { Firstname: 'Pat', Surname: 'Doe' } }
]

/** every sample object the site holds, temporary ones (the factory's leftovers) included */
const samples = (sim: SenaiteSimulator): string[] => [...sim.site.objects.values()].filter((o) => o.portalType === 'AnalysisRequest').map((o) => `${o.id}${o.temporary === true ? ' (temporary)' : ''}`)
const analyses = (sim: SenaiteSimulator): string[] => [...sim.site.objects.values()].filter((o) => o.portalType === 'Analysis').map((o) => `${sim.site.get(o.parentUid!)!.id}/${o.id}:${String(o.fields.Result ?? '')}`)

describeLayouts('SENAITE dependencies before creates', (layout) => {
  const mesh = useTestMesh(['master', 'lab-a'])

  it('a sample whose SampleType the site does not have waits, named as missing, nothing made; it is written once the type arrives', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    let refusing = true
    const site = mesh.track(await startSimulator({ layout, refuse: (type) => refusing && type === 'SampleType' ? JSON.stringify({ title: 'refused for this test' }) : undefined }))
    const master = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    await master.documents.putMany(LAB)
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site) as never }))
    const parked = await waitFor(async () => await agentInternals(a).store.getFailed('sample-1'), { what: 'the sample parked' })
    expect(parked.code).toBe('MISSING_DEPENDENCY')
    expect(parked.missing).toEqual(['st-water'])
    expect(parked.reason).toContain('st-water')
    expect((await agentInternals(a).store.getFailed('an-ca'))?.code).toBe('MISSING_DEPENDENCY')
    expect(site.site.content().some((o) => o.portalType === 'Client')).toBe(true)
    expect(samples(site)).toEqual([])
    expect(analyses(site)).toEqual([])

    // the type is accepted now: the sample follows it on its own, with its analysis made by the factory
    refusing = false
    expect((await adminRequest(a, 'POST', '/api/failed/st-water/retry')).status).toBe(200)
    await waitFor(() => analyses(site).length === 1 && a.status().failed === 0, { what: 'the sample and its analysis written', timeout: 20_000 })
    expect(samples(site)).toEqual(['W-0001'])
    expect(analyses(site)).toEqual(['W-0001/Ca:12.5'])
  })

  it('a pull that brings a sample before its SampleType writes the type first: nothing waits', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const site = mesh.track(await startSimulator({ layout }))
    const master = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    for (const doc of LAB) await master.documents.put(doc) // one by one: the sample is first in the feed
    let parkedEver = 0
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site) as never }), { events: { onBatchApplied: (_p, stats) => { parkedEver += stats.failed } } })
    await waitFor(() => analyses(site).length === 1 && a.peerStatus('master').progress.percent === 100, { what: 'the lab written', timeout: 20_000 })
    expect(parkedEver).toBe(0)
    expect(samples(site)).toEqual(['W-0001'])
    expect(analyses(site)).toEqual(['W-0001/Ca:12.5'])
    // the one analysis is the factory's, adopted: POST create was never sent for an Analysis
    expect(site.calls.get('POST create')).toBe(LAB.length - 1)
  })
})
