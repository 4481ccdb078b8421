import { describe, expect, it } from 'vitest'
import { agentInternals } from '../../agent/test-hooks.js'
import { adminCall } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'

describe('dependencies', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'master'])

  it('are fetched from the same remote first, whatever the type filters say', async () => {
    // B imports only analyses: their sample, its client and sample type come along as dependencies
    const { b } = await mesh.startPair({
      seed: [
        { uid: 'client-1', type: 'Client', id: 'client-1', data: {} },
        { uid: 'stype-1', type: 'SampleType', id: 'W', data: {} },
        { uid: 'sample-1', type: 'AnalysisRequest', id: 'W-0001', parent: 'client-1', refs: ['stype-1'], data: {} },
        { uid: 'analysis-1', type: 'Analysis', id: 'Ca', parent: 'sample-1', refs: [], data: {} }
      ],
      link: { types: { only: ['Analysis'] } }
    })
    await waitFor(async () => await b.documents.get('analysis-1'), { what: 'analysis on B' })
    for (const uid of ['client-1', 'stype-1', 'sample-1']) expect(await b.documents.get(uid), uid).toBeDefined()
    expect(b.status().objects).toBe(4)
  })

  it('handles reference cycles in one batch', async () => {
    const { b } = await mesh.startPair({
      // LabContact ↔ Department (the manager cycle of SENAITE's setup data)
      seed: [
        { uid: 'contact-1', type: 'LabContact', id: 'labcontact-1', refs: ['dept-1'], data: {} },
        { uid: 'dept-1', type: 'Department', id: 'department-1', refs: ['contact-1'], data: {} }
      ],
      link: { types: { only: ['Department'] } }
    })
    await waitFor(async () => (await b.documents.get('dept-1')) !== undefined && (await b.documents.get('contact-1')) !== undefined, { what: 'both sides of the cycle' })
    expect(b.status().failed).toBe(0)
  })

  it('an object whose dependency cannot be had is parked, others keep flowing, and it is applied when the dependency arrives', async () => {
    const [A, B, M] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('master')]
    // A will not serve clients to B; M serves B nothing but clients
    const a = await mesh.start(meshConfig(A, [{ node: B, extra: { serve: { types: { skip: ['Client'] } } } }, { node: M }]))
    await a.documents.putMany([
      { uid: 'client-1', type: 'Client', id: 'client-1', data: {} },
      { uid: 'sample-1', type: 'AnalysisRequest', id: 'W-0001', parent: 'client-1', data: {} },
      { uid: 'method-1', type: 'Method', id: 'method-1', data: {} }
    ])
    const bConfig = meshConfig(B, [{ node: A, pull: true }, { node: M, pull: true }])
    const b = await mesh.start(bConfig)
    const parked = await waitFor(async () => await agentInternals(b).store.getFailed('sample-1'), { what: 'sample parked on B' })
    expect(parked).toMatchObject({ peer: 'lab-a', code: 'MISSING_DEPENDENCY', missing: ['client-1'] })
    expect(parked.reason).toContain('client-1')
    // nothing half-made, and no head-of-line blocking: the unrelated method arrived
    expect(await b.documents.get('sample-1')).toBeUndefined()
    expect(await b.documents.get('method-1')).toBeDefined()
    expect(b.status().failed).toBe(1)
    // the admin sees it, and a retry while the dependency is still missing keeps it parked
    const api = async (method: string, path: string): Promise<{ status: number, json: Record<string, unknown> }> => await adminCall(b, method, path)
    const listed = await api('GET', '/api/failed')
    expect(listed.json).toMatchObject({ count: 1, items: [{ uid: 'sample-1', peer: 'lab-a', missing: ['client-1'] }] })
    const retried = await api('POST', '/api/failed/sample-1/retry')
    expect(retried.json).toMatchObject({ uid: 'sample-1', applied: false, entry: { attempts: 2 } })
    expect((await api('POST', '/api/failed/not-parked/retry')).status).toBe(404)

    // the dependency arrives by another route
    await mesh.start(meshConfig(M, [{ node: A, pull: true }, { node: B, extra: { serve: { types: { only: ['Client'] } } } }]))
    await waitFor(async () => (await b.documents.get('sample-1')) !== undefined, { what: 'parked sample applied' })
    expect(b.status().failed).toBe(0)
    expect((await b.documents.get('sample-1'))!.parent).toBe('client-1')
  })

  it('a failed queue longer than a page is retried whole: an entry after the first 1,000 is applied when its dependency arrives; the API pages through the queue', async () => {
    const [A, B, M] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('master')]
    const a = await mesh.start(meshConfig(A, [{ node: B, extra: { serve: { types: { skip: ['Client'] } } } }, { node: M }]))
    // 1,200 samples whose client exists nowhere, and one (last in uid order) whose client A has but does not serve B
    await a.documents.putMany(Array.from({ length: 1200 }, (_, i) => ({ uid: `a-${String(i).padStart(4, '0')}`, type: 'AnalysisRequest', id: `W-${i}`, parent: 'client-nowhere', data: {} })))
    await a.documents.putMany([
      { uid: 'client-late', type: 'Client', id: 'client-late', data: {} },
      { uid: 'zz-sample', type: 'AnalysisRequest', id: 'W-LAST', parent: 'client-late', data: {} }
    ])
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }, { node: M, pull: true }]))
    await waitFor(async () => b.status().failed === 1201 || undefined, { what: 'all 1,201 samples parked on B', timeout: 30_000 })

    const page = async (query: string): Promise<{ items: Array<{ uid: string }>, count: number, total: number, next: string | null }> =>
      (await adminCall<never>(b, 'GET', `/api/failed${query}`)).json
    const first = await page('?limit=500')
    expect(first).toMatchObject({ count: 500, total: 1201, next: 'a-0499' })
    const last = await page('?limit=500&after=a-0999')
    expect(last.items.map((e) => e.uid).slice(-2)).toEqual(['a-1199', 'zz-sample'])
    expect(last).toMatchObject({ count: 201, next: null })
    expect((await adminCall(b, 'GET', '/api/failed?limit=0')).status).toBe(400)

    // the client arrives by another route: the entry after 1,200 others is found and applied
    await mesh.start(meshConfig(M, [{ node: A, pull: true }, { node: B, extra: { serve: { types: { only: ['Client'] } } } }]))
    await waitFor(async () => (await b.documents.get('zz-sample')) !== undefined, { what: 'zz-sample applied', timeout: 10_000 })
    expect(b.status().failed).toBe(1200)
  })
})
