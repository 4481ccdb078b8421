/**
 * LEGACY: today's kind simulator ('2.x-legacy-kind'), pinned by name so the
 * SENAITE_SIM_LAYOUT_* overrides do not reach it. Removed with the legacy
 * layouts once the connector is fixed for issue 12; the real layouts'
 * contract is in contract-*.test.ts, layouts.test.ts and writes.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { createSenaiteSimulator, type SenaiteSimulator, type SimulatorOptions } from './simulator.js'
import { seedSimulator } from './dataset.js'

const BASIC = `Basic ${Buffer.from('labman:labman').toString('base64')}`
const API = '/senaite/@@API/senaite/v1'

async function call (sim: SenaiteSimulator, method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: BASIC }): Promise<{ status: number, json: any, response: Response }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await sim.app.request(`${API}/${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) })
  const text = await response.text()
  return { status: response.status, json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text, response }
}

async function seeded (options: SimulatorOptions = {}): Promise<SenaiteSimulator> {
  const sim = createSenaiteSimulator({ layout: '2.x-legacy-kind', ...options })
  await seedSimulator(sim, { seed: 5, samples: 8, clients: 2 })
  return sim
}

describe('legacy kind simulator, 2.x-legacy-kind (reference §2.9 checklist)', () => {
  it('routes: version, resources by lower-case type, 32-char UID routes, bare record vs envelope', async () => {
    const sim = await seeded()
    expect((await call(sim, 'GET', 'version')).json).toMatchObject({ version: '2.6.0' })
    const clients = await call(sim, 'GET', 'client')
    expect(clients.json).toMatchObject({ count: 2, page: 1, pages: 1, next: null, previous: null })
    const uid = clients.json.items[0].uid as string
    expect(uid).toMatch(/^[0-9a-f]{32}$/)
    const bare = await call(sim, 'GET', uid)
    expect(bare.json.uid).toBe(uid)
    expect(bare.json).not.toHaveProperty('items')
    const one = await call(sim, 'GET', `client/${uid}`)
    expect(one.json).toMatchObject({ count: 1, items: [{ uid }] })
    const unknown = await call(sim, 'GET', 'nosuchtype')
    expect(unknown.status).toBe(200)
    expect(unknown.json).toMatchObject({ success: false })
  })

  it('pages like plone.batching: default 25, absolute next/previous, clamped b_start, empty beyond range', async () => {
    const sim = await seeded()
    const all = await call(sim, 'GET', 'analysis')
    expect(all.json.pagesize).toBe(25)
    const total = all.json.count as number
    expect(total).toBeGreaterThan(10)
    const p1 = await call(sim, 'GET', 'analysis?limit=4')
    expect(p1.json).toMatchObject({ page: 1, pagesize: 4, pages: Math.ceil(total / 4), previous: null })
    expect(p1.json.next).toMatch(/^http:\/\/.*b_start=4/)
    const p2 = await call(sim, 'GET', 'analysis?limit=4&b_start=4')
    expect(p2.json.page).toBe(2)
    expect(p2.json.previous).toMatch(/b_start=0/)
    expect((await call(sim, 'GET', 'analysis?limit=4&b_start=-7')).json.page).toBe(1)
    expect((await call(sim, 'GET', 'analysis?limit=abc')).json.pagesize).toBe(25)
    expect((await call(sim, 'GET', `analysis?limit=4&b_start=${total + 10}`)).json.items).toEqual([])
  })

  it('brain items carry metadata only; complete items carry fields, AT dict refs, DX uid refs, files and workflow', async () => {
    const sim = await seeded()
    const brain = (await call(sim, 'GET', 'analysisrequest?limit=1')).json.items[0]
    expect(brain.modified).toBeNull()
    expect(brain).not.toHaveProperty('Contact')
    const full = (await call(sim, 'GET', 'analysisrequest?limit=1&complete=yes&workflow=yes')).json.items[0]
    expect(full.modified).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(full.Contact).toMatchObject({ uid: expect.stringMatching(/^[0-9a-f]{32}$/), url: expect.any(String), api_url: expect.any(String) })
    expect(full.CCContact).toEqual({}) // empty AT reference
    expect(full.workflow_info[0].review_history.length).toBeGreaterThan(0)
    const dept = (await call(sim, 'GET', 'department?complete=yes')).json.items[0]
    expect(dept.manager).toMatch(/^[0-9a-f]{32}$/) // Dexterity: plain UID string
    const method = (await call(sim, 'GET', 'method?complete=yes')).json.items[0]
    expect(method.MethodDocument).toMatchObject({ filename: 'icp.txt', download: expect.stringContaining('/at_download/MethodDocument') })
    expect(method.MethodDocument).not.toHaveProperty('data')
    expect((await call(sim, 'GET', 'method?complete=yes&filedata=yes')).json.items[0].MethodDocument.data).toBe(Buffer.from('ICP-OES operating procedure').toString('base64'))
    const download = new URL(method.MethodDocument.download).pathname
    const file = await sim.app.request(download, { headers: { authorization: BASIC } })
    expect(await file.text()).toBe('ICP-OES operating procedure')
    expect((await sim.app.request(download)).status).toBe(302) // anonymous: to the login form
  })

  it('catalogs: only indexed parameters filter; uid_catalog has no Dexterity objects; modified ranges only where indexed', async () => {
    let clock = Date.UTC(2024, 4, 1, 12, 0, 0)
    const sim = createSenaiteSimulator({ layout: '2.x-legacy-kind', now: () => clock })
    await seedSimulator(sim, { seed: 5, samples: 4, clients: 1 })
    const search = await call(sim, 'GET', 'search?limit=500')
    expect(search.json.items.some((i: { portal_type: string }) => i.portal_type === 'Department')).toBe(false)
    expect(search.json.items.some((i: { portal_type: string }) => i.portal_type === 'Client')).toBe(true)
    expect((await call(sim, 'GET', 'client?no_such_index=1')).json.count).toBe(1)
    clock += 3 * 3600_000
    const sample = (await call(sim, 'GET', 'analysisrequest?limit=1')).json.items[0]
    await call(sim, 'POST', `update/${sample.uid}`, { Remarks: 'later' })
    const since = new Date(clock - 60_000).toISOString()
    expect((await call(sim, 'GET', `analysisrequest?modified_since=${since}`)).json.count).toBe(1)
    expect((await call(sim, 'GET', 'analysisrequest?modified_since=1h')).json.count).toBe(1)
    // the sample catalog indexes `modified`: a minute-precise range query works …
    expect((await call(sim, 'GET', `analysisrequest?modified.query:record:date=${since}&modified.range:record=min`)).json.count).toBe(1)
    // … the setup catalog does not (2.6): the range is silently ignored
    expect((await call(sim, 'GET', `department?modified.query:record:date=${since}&modified.range:record=min`)).json.count).toBe(2)
    expect((await call(sim, 'GET', 'analysisrequest?recent_modified=today')).json.count).toBe(4)
    const old = createSenaiteSimulator({ layout: '2.x-legacy-kind', modifiedSince: false })
    await seedSimulator(old, { seed: 5, samples: 2, clients: 1 })
    expect((await call(old, 'GET', 'analysisrequest?modified_since=2999-01-01')).json.count).toBe(2) // unknown parameter ignored
  })

  it('writes: create ignores ids and assigns UIDs and ids; one object per request; update never changes ids; transitions with guards; delete deactivates', async () => {
    const sim = await seeded()
    const clients = sim.site.atPath('/senaite/clients')!
    const created = await call(sim, 'POST', `client/create/${clients.uid}`, { title: 'New Client', id: 'my-id', uid: 'f'.repeat(32) })
    const item = created.json.items[0]
    expect(item.id).toBe('client-3')
    expect(item.uid).not.toBe('f'.repeat(32))
    expect((await call(sim, 'POST', 'update', [{ uid: item.uid }])).json).toMatchObject({ success: false, message: expect.stringContaining("'list' object") })
    await call(sim, 'POST', `update/${item.uid}`, { id: 'renamed', title: 'Renamed' })
    expect(sim.site.get(item.uid)).toMatchObject({ id: 'client-3', fields: expect.objectContaining({ title: 'Renamed' }) })
    const st = sim.site.content().find((o) => o.portalType === 'SampleType' && o.fields.prefix === 'W')!
    const contact = sim.site.children(item.uid)
    void contact
    const service = sim.site.content().find((o) => o.portalType === 'AnalysisService')!
    const sample = (await call(sim, 'POST', `analysisrequest/create/${item.uid}`, { SampleType: st.uid, Analyses: [service.uid] })).json.items[0]
    expect(sample.id).toMatch(/^W-\d{4}$/)
    expect(sim.site.children(sample.uid).map((a) => a.id)).toEqual([service.fields.Keyword])
    const bad = await call(sim, 'POST', `update/${sample.uid}`, { transition: 'verify' })
    expect(bad).toMatchObject({ status: 200, json: { success: false } })
    expect((await call(sim, 'POST', `update/${sample.uid}`, { transition: 'receive' })).json.items[0].review_state).toBe('sample_received')
    expect(sim.site.children(sample.uid)[0]!.reviewState).toBe('unassigned') // cascade
    expect((await call(sim, 'POST', `delete/${item.uid}`, {})).json.items[0].review_state).toBe('inactive')
    expect((await call(sim, 'POST', `delete/${sample.uid}`, {})).json.success).toBe(false) // samples cannot be deactivated
    // single AT references must be UID strings
    expect((await call(sim, 'POST', `update/${sample.uid}`, { SampleType: { uid: st.uid } })).json.success).toBe(false)
    expect((await call(sim, 'POST', `update/${sample.uid}`, { SampleType: '' })).json.success).toBe(false)
  })

  it('401 container rules, error envelope with and without proper status', async () => {
    const sim = await seeded()
    expect((await call(sim, 'POST', `client/create/${sim.site.portalUid}`, { title: 'x' })).status).toBe(401)
    expect((await call(sim, 'POST', `client/create/${sim.site.atPath('/senaite/bika_setup')!.uid}`, { title: 'x' })).status).toBe(401)
    expect((await call(sim, 'POST', `client/create/${sim.site.atPath('/senaite/methods')!.uid}`, { title: 'x' })).status).toBe(401)
    expect((await call(sim, 'POST', `update/${sim.site.atPath('/senaite/bika_setup/laboratory')!.uid}`, { title: 'x' })).status).toBe(401)
    expect((await call(sim, 'GET', 'f'.repeat(32))).json).toMatchObject({ success: false, message: 'No object found' })
    expect((await call(sim, 'GET', 'f'.repeat(32))).status).toBe(404)
    const legacy = await seeded({ errorStyle: 'always200' })
    const r = await call(legacy, 'GET', 'f'.repeat(32))
    expect(r).toMatchObject({ status: 200, json: { success: false, message: 'No object found' } })
  })

  it('authentication: basic and cookie; wrong credentials are silently anonymous; readers lose Dexterity fields', async () => {
    const sim = createSenaiteSimulator({ layout: '2.x-legacy-kind', users: { labman: { password: 'labman', roles: ['LabManager'] }, reader: { password: 'r', roles: ['Analyst'] } } })
    await seedSimulator(sim, { seed: 2, samples: 1, clients: 1 })
    const wrong = { authorization: `Basic ${Buffer.from('labman:nope').toString('base64')}` }
    expect((await call(sim, 'GET', 'users/current', undefined, wrong)).json.items[0].authenticated).toBe(false)
    expect((await call(sim, 'GET', 'client', undefined, wrong)).json.count).toBe(0)
    expect((await call(sim, 'GET', 'auth', undefined, wrong)).status).toBe(401)
    const login = await sim.app.request(`${API}/login?__ac_name=labman&__ac_password=labman`)
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
    expect(cookie).toMatch(/^__ac=/)
    expect((await call(sim, 'GET', 'users/current', undefined, { cookie })).json.items[0]).toMatchObject({ username: 'labman', authenticated: true })
    const reader = { authorization: `Basic ${Buffer.from('reader:r').toString('base64')}` }
    const dept = (await call(sim, 'GET', 'department?complete=yes', undefined, reader)).json.items[0]
    expect(dept).not.toHaveProperty('manager')
    expect((await call(sim, 'POST', `update/${dept.uid}`, { title: 'x' }, reader)).status).toBe(401)
  })
})
