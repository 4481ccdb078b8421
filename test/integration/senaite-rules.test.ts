import { expect, it } from 'vitest'
import { adminRequest } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'
import { MAX_LOCAL_OBJECT_BYTES } from '../../protocol/constants.js'
import { describeLayouts, senaiteInstance, startSimulator } from '../helpers/senaite.js'
import { agentInternals } from '../../agent/test-hooks.js'

describeLayouts('SENAITE connector: read-only reverts, refusals, users, attachments', (layout) => {
  const mesh = useTestMesh(['master', 'lab-a'])

  const api = async (sim: SenaiteSimulator, path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await sim.app.request(`/senaite/@@API/senaite/v1/${path}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('labman:labman').toString('base64')}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return await r.json() as Record<string, unknown>
  }

  it('an edit made in SENAITE to a read-only object is reverted and reported, never sent out', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const site = await startSimulator({ layout })
    mesh.track(site)
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    await m.documents.put({ uid: 'method-icp', type: 'Method', id: 'method-1', data: { title: 'ICP-MS', description: 'owned by the master' } })
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true, extra: { types: { readOnly: ['Method'] } } }], { instance: await senaiteInstance(A, site) as never }))
    const method = await waitFor(() => site.site.content().find((o) => o.portalType === 'Method'), { what: 'method written into the site' })
    expect(method.fields.title).toBe('ICP-MS')

    await api(site, `update/${method.uid}`, { title: 'changed in the lab' })
    await waitFor(() => method.fields.title === 'ICP-MS' && a.status().readOnlyReverts === 1, { what: 'reverted', timeout: 20_000 })
    await new Promise((r) => setTimeout(r, 500))
    expect((await m.documents.get('method-icp'))!.data.title).toBe('ICP-MS')
    expect((await m.documents.get('method-icp'))!.vector).toEqual({ master: 1 })
    expect(method.fields.title).toBe('ICP-MS')
  })

  it('a permanent refusal parks the object with SENAITE\'s message; the rest flows; users are exported, never imported into SENAITE', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const site = await startSimulator({ layout, errorStyle: 'always200', refuse: (type, fields) => type === 'Client' && fields.title === 'Refused Ltd' ? JSON.stringify({ ClientID: 'Client ID is not unique' }) : undefined })
    mesh.track(site)
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true, extra: { import: { users: true } } }]))
    await m.documents.put({ uid: 'c-bad', type: 'Client', id: 'client-x', data: { title: 'Refused Ltd', ClientID: 'X' } })
    await m.documents.put({ uid: 'c-good', type: 'Client', id: 'client-y', data: { title: 'Accepted Ltd', ClientID: 'Y' } })
    await m.documents.put({ uid: '@user:auditor', type: '@user', id: 'auditor', data: { roles: ['Analyst'], groups: [] } })
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true, extra: { import: { users: true } } }], { instance: await senaiteInstance(A, site) as never }))
    await waitFor(() => site.site.content().some((o) => o.fields.title === 'Accepted Ltd'), { what: 'good client written' })
    const parked = await waitFor(async () => await agentInternals(a).store.getFailed('c-bad'), { what: 'bad client parked' })
    expect(parked.code).toBe('SENAITE_REFUSED')
    expect(parked.reason).toContain('Client ID is not unique')
    expect(site.site.content().some((o) => o.fields.title === 'Refused Ltd')).toBe(false)
    const user = await waitFor(async () => await agentInternals(a).store.getFailed('@user:auditor'), { what: 'user import refused' })
    expect(user.reason).toContain('cannot write users')

    // the site's own users reach the master (import.users on)
    const labman = await waitFor(async () => await m.documents.get('@user:labman'), { what: 'labman exported' })
    expect(labman.data).toMatchObject({ username: 'labman', roles: ['LabManager', 'Member'], groups: ['LabManagers'] })
  })

  it('a reference whose target the site refused is set once the target is written, even across a restart of the agent', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    let refusing = true
    const site = await startSimulator({ layout, refuse: (type) => refusing && type === 'Calculation' ? JSON.stringify({ title: 'refused for this test' }) : undefined })
    mesh.track(site)
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    await m.documents.put({ uid: 'calc-hardness', type: 'Calculation', id: 'calc-1', data: { title: 'Hardness', Formula: '[Ca] * 2.497' } })
    await m.documents.put({ uid: 'method-icp', type: 'Method', id: 'method-1', refs: ['calc-hardness'], data: { title: 'ICP-OES', Calculation: 'calc-hardness' } })
    const configA = meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site) as never })
    let a = await mesh.start(configA)
    // the method is written without its calculation, which the site refused and the agent parked
    const method = await waitFor(() => site.site.content().find((o) => o.portalType === 'Method'), { what: 'method written into the site' })
    await waitFor(async () => await agentInternals(a).store.getFailed('calc-hardness'), { what: 'calculation parked' })
    expect(method.fields.Calculation).toBeUndefined()

    await mesh.stop(a)
    refusing = false
    a = await mesh.start(configA)
    const retried = await adminRequest(a, 'POST', '/api/failed/calc-hardness/retry')
    expect(retried.status).toBe(200)
    const calculation = await waitFor(() => site.site.content().find((o) => o.portalType === 'Calculation'), { what: 'calculation written after the retry' })
    await waitFor(() => method.fields.Calculation === calculation.uid, { what: 'the method\'s reference set after the restart', timeout: 10_000 })
    // the site's field is set before the agent commits the patch row's removal: wait for that commit
    await waitFor(async () => await agentInternals(a).store.getAux('senaite:patch', 'method-icp') === undefined || undefined, { what: 'the method\'s patch row removed once written', timeout: 10_000 })
  })

  it('the first read of a large site goes a page at a time: objects are recorded before the last page is read', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const site = await startSimulator({ layout, readLatencyMs: 5 })
    mesh.track(site)
    for (let i = 0; i < 300; i++) site.site.create(site.site.spec('Method')!, site.site.atPath('/senaite/methods')!, { title: `method ${i}` }, 'labman')
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    const completePages = (): number => site.calls.get('GET Method complete') ?? 0
    let pagesAtFirstRecord: number | undefined
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site, { pageSize: 25 }) as never }))
    const unsubscribe = agentInternals(a).store.onCommit(() => { pagesAtFirstRecord ??= a.status().objects > 0 ? completePages() : undefined })
    try {
      await waitFor(async () => (await m.documents.list({ type: 'Method', limit: 1000 })).items.length === 300 || undefined, { what: 'all 300 methods on the master', timeout: 20_000 })
    } finally {
      unsubscribe()
    }
    expect(completePages()).toBeGreaterThanOrEqual(12)
    expect(pagesAtFirstRecord, 'complete pages read when the first method was recorded').toBeLessThan(12)
  })

  it('a registry key too long for a mesh uid travels under a digest uid, its key kept as the id', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const longKey = `senaite.core.interfaces.controlpanel.${'IVeryLongSchemaName'.repeat(8)}.some_field`
    const site = await startSimulator({ layout, registry: { [longKey]: true, 'senaite.core.short_key': 7 } })
    mesh.track(site)
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true, extra: { import: { registry: true } } }]))
    await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site) as never }))
    const records = await waitFor(async () => {
      const items = (await m.documents.list({ type: '@registry', limit: 100 })).items
      return items.length === 2 ? items : undefined
    }, { what: 'both registry records on the master' })
    const long = records.find((r) => r.id === longKey)!
    expect(longKey.length).toBeGreaterThan(128)
    expect(long.uid).toMatch(/^@registry:sha256:[0-9a-f]{64}$/)
    expect(long.data).toEqual({ value: true })
    expect(records.find((r) => r.id === 'senaite.core.short_key')!.uid).toBe('@registry:senaite.core.short_key')
  })

  it('attachment files travel with their objects', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const source = await startSimulator({ layout })
    const target = await startSimulator({ layout })
    mesh.track(source); mesh.track(target)
    await seedSimulator(source, { seed: 11, samples: 6, clients: 1 })
    await mesh.start(meshConfig(M, [{ node: A }], { instance: await senaiteInstance(M, source) as never }))
    await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, target) as never }))
    // byte for byte, with their names and content types
    const files = (sim: SenaiteSimulator): string[] => sim.site.content().filter((o) => o.portalType === 'Attachment' || o.portalType === 'Method')
      .map((o) => { const f = (o.fields.AttachmentFile ?? o.fields.MethodDocument) as { filename: string, content_type: string, data: string }; return `${o.portalType} ${f.filename} ${f.content_type} ${Buffer.from(f.data, 'base64').toString('hex')}` }).sort()
    await waitFor(() => files(target).length === files(source).length && files(source).length > 1, { what: 'attachments copied', timeout: 30_000 })
    expect(files(target)).toEqual(files(source))
    // and attached to the same samples
    const attached = (sim: SenaiteSimulator): string[] => sim.site.content().filter((o) => o.portalType === 'AnalysisRequest' && Array.isArray(o.fields.Attachment) && (o.fields.Attachment as unknown[]).length > 0)
      .map((o) => `${String(o.fields.ClientSampleID)}:${(o.fields.Attachment as string[]).map((u) => (sim.site.get(u)?.fields.AttachmentFile as { filename: string }).filename).join(',')}`).sort()
    await waitFor(() => JSON.stringify(attached(target)) === JSON.stringify(attached(source)), { what: 'attachments linked to their samples', timeout: 20_000 })
  })

  it('an edit made in SENAITE too large to replicate is logged once and skipped; the poll goes on, and a later, smaller edit is recorded', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const site = await startSimulator({ layout })
    mesh.track(site)
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    await m.documents.put({ uid: 'method-1', type: 'Method', id: 'method-1', data: { title: 'ICP-MS' } })
    await m.documents.put({ uid: 'method-2', type: 'Method', id: 'method-2', data: { title: 'GC-MS' } })
    const captured = capturingLogger('lab-a')
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site) as never }), { logger: captured.logger })
    const methods = await waitFor(() => { const all = site.site.content().filter((o) => o.portalType === 'Method'); return all.length === 2 ? all : undefined }, { what: 'methods written into the site' })
    const [first, second] = ['ICP-MS', 'GC-MS'].map((t) => methods.find((o) => o.fields.title === t)!)

    await api(site, `update/${first!.uid}`, { title: 'x'.repeat(MAX_LOCAL_OBJECT_BYTES) })
    await api(site, `update/${second!.uid}`, { title: 'GC-MS, edited in the lab' })
    await waitFor(async () => (await m.documents.get('method-2'))?.data.title === 'GC-MS, edited in the lab', { what: 'the smaller edit replicated', timeout: 20_000 })
    await new Promise((r) => setTimeout(r, 600)) // a few more polls
    expect((await a.documents.get('method-1'))!.data.title).toBe('ICP-MS')
    const warnings = captured.lines.filter((l) => l.uid === 'method-1' && l.limit === MAX_LOCAL_OBJECT_BYTES)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.msg).toMatch(/^SENAITE Method method-1 was not recorded: object method-1 would take \d+ bytes as JSON/)

    await api(site, `update/${first!.uid}`, { title: 'ICP-MS, shortened' })
    await waitFor(async () => (await m.documents.get('method-1'))?.data.title === 'ICP-MS, shortened', { what: 'the shortened edit replicated', timeout: 20_000 })
  })
})
