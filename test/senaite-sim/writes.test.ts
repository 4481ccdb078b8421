/**
 * Writes as the sources define them (no doctest covers these failures):
 * JA 2.5.0 `api.create_object` (only an APIError while setting fields
 * removes the new object), `fieldmanagers.py` (file fields decode base64,
 * single AT references, Dexterity fields), senaite.core
 * `create_analysisrequest` + the ID server (`getPrefix` of the SampleType),
 * `get_request_data` (one JSON object per request).
 */
import { describe, expect, it } from 'vitest'
import { ALL, AT_SETUP, get, post, postForm, sampleTypeRecord, simOf, uidAt, containerOf } from './contract-helpers.js'
import type { RealLayout } from './layouts.js'
import type { SenaiteSimulator } from './simulator.js'

const FILE = Buffer.from('field notes, page 1').toString('base64')

async function lab (layout: RealLayout): Promise<{ sim: SenaiteSimulator, client: string, contact: string, sampleType: string, services: string[] }> {
  const sim = simOf(layout)
  const client = (await post(sim, `client/create/${uidAt(sim, 'clients')}`, { title: 'ACME', ClientID: 'AC' })).json.items[0].uid
  const contact = (await post(sim, `contact/create/${client as string}`, { Firstname: 'Pat', Surname: 'Doe' })).json.items[0].uid
  const sampleType = (await post(sim, `sampletype/create/${uidAt(sim, containerOf(sim, 'SampleType'))}`, sampleTypeRecord(layout, 'Water', 'W'))).json.items[0].uid
  const category = (await post(sim, `analysiscategory/create/${uidAt(sim, containerOf(sim, 'AnalysisCategory'))}`, { title: 'Metals' })).json.items[0].uid as string
  const services: string[] = []
  for (const [title, keyword] of [['Calcium', 'Ca'], ['Magnesium', 'Mg']]) {
    services.push((await post(sim, `analysisservice/create/${uidAt(sim, 'bika_setup/bika_analysisservices')}`, { title, Keyword: keyword, Category: category })).json.items[0].uid)
  }
  return { sim, client, contact, sampleType, services }
}

describe.each(ALL)('writes, layout %s', (layout) => {
  it('file fields take the base64 string (filename and mimetype beside it) and read back with a download URL', async () => {
    const { sim, client } = await lab(layout)
    const r = await post(sim, `attachment/create/${client}`, { AttachmentFile: FILE, filename: 'notes.txt', mimetype: 'text/plain' })
    const item = (await get(sim, `${r.json.items[0].uid as string}?filedata=yes`)).json
    expect(item.AttachmentFile).toEqual({ content_type: 'text/plain', filename: 'notes.txt', download: `http://127.0.0.1/senaite/clients/client-1/${item.id as string}/at_download/AttachmentFile`, data: FILE })
    const download = await sim.app.request(new URL(item.AttachmentFile.download).pathname, { headers: { authorization: `Basic ${Buffer.from('labman:labman').toString('base64')}` } })
    expect(Buffer.from(await download.arrayBuffer()).toString()).toBe('field notes, page 1')
  })

  it('a file given as a dict fails "Incorrect padding" at HTTP 200 and leaves the half-made object behind — once per attempt', async () => {
    const { sim, client } = await lab(layout)
    const dict = { filename: 'notes.txt', content_type: 'text/plain', data: FILE }
    for (let attempt = 1; attempt <= 2; attempt++) {
      const r = await post(sim, `attachment/create/${client}`, { AttachmentFile: dict })
      expect(r).toMatchObject({ status: 200, json: { success: false, message: 'Incorrect padding' } })
    }
    const left = await get(sim, 'attachment')
    expect(left.json.count).toBe(2)
    expect(left.json.items.map((i: { id: string }) => i.id).sort()).toEqual(['attachment-1', 'attachment-2'])
    expect((await get(sim, left.json.items[0].uid)).json.AttachmentFile).toBeNull()
  })

  it('single UID references: `{uid}` fails with a TypeError, "" with an IndexError — HTTP 200, object left; a dangling UID is stored silently (2.x) or clears the field (1.3 ReferenceField)', async () => {
    const { sim, client, contact, sampleType } = await lab(layout)
    // LabContact.DefaultDepartment is a UIDReferenceField on every layout
    const labContacts = uidAt(sim, 'bika_setup/bika_labcontacts')
    expect(await post(sim, `labcontact/create/${labContacts}`, { Firstname: 'A', DefaultDepartment: { uid: client } })).toMatchObject({ status: 200, json: { message: "object of type 'NoneType' has no len()" } })
    expect(await post(sim, `batch/create/${uidAt(sim, 'batches')}`, { title: 'B', Client: '' })).toMatchObject({ status: 200, json: { message: 'list index out of range' } })
    expect((await get(sim, 'labcontact')).json.count).toBe(1)
    expect((await get(sim, 'batch')).json.count).toBe(1)
    // a 1.3 ReferenceField takes a dict as a catalog query, so {uid} works there
    const batch = await post(sim, `batch/create/${uidAt(sim, 'batches')}`, { title: 'B2', Client: { uid: client } })
    if (layout === '1.3') expect(batch.json.items[0].Client.uid).toBe(client)
    else expect(batch.json.message).toBe("object of type 'NoneType' has no len()")
    // a multi-valued reference field takes a list of UIDs; an unknown one
    const dangling = 'a'.repeat(32)
    const r = await post(sim, `update/${contact}`, { CCContact: [dangling] })
    expect(r.json.success).toBeUndefined()
    const cc = (await get(sim, contact)).json.CCContact
    if (layout === '1.3') expect(cc).toBeNull() // ReferenceField: resolves to nothing, empty reads null
    else expect(cc).toEqual({}) // UIDReferenceField: stored, reads as empty ({})
    expect(sampleType).toMatch(/^[0-9a-f]{32}$/)
  })

  it('a refused transition in a create body leaves the object (HTTP 200); validation and 400s remove it', async () => {
    const { sim } = await lab(layout)
    const r = await post(sim, `client/create/${uidAt(sim, 'clients')}`, { title: 'Half', ClientID: 'HF', transition: 'publish' })
    expect(r.status).toBe(200)
    expect(r.json.message).toMatch(/^Failed to perform transition 'publish' on <Client at \/senaite\/clients\/client-2>/)
    expect((await get(sim, 'client')).json.count).toBe(2) // ACME and the half-made one, named and indexed
    // ValueError from a single field given two UIDs: APIError 400, the object is deleted again
    const two = await post(sim, `batch/create/${uidAt(sim, 'batches')}`, { title: 'B', Client: [sim.site.atPath('/senaite/clients/client-1')!.uid, sim.site.atPath('/senaite/clients/client-2')!.uid] })
    expect(two.status).toBe(400)
    expect(two.json.message).toMatch(/^Multiple values given for single valued field/)
    expect((await get(sim, 'batch')).json.count).toBe(0)
  })

  it('a sample without SampleType: 200 "\'NoneType\' object has no attribute \'getPrefix\'", and a temporary sample with its analyses stays in the client, in no catalog', async () => {
    const { sim, client, contact, services } = await lab(layout)
    const r = await post(sim, `analysisrequest/create/${client}`, { Contact: contact, Analyses: services })
    expect(r).toMatchObject({ status: 200, json: { success: false, message: "'NoneType' object has no attribute 'getPrefix'" } })
    expect((await get(sim, 'analysisrequest')).json.count).toBe(0)
    expect((await get(sim, 'analysis')).json.count).toBe(0)
    const left = sim.site.children(client).filter((o) => o.portalType === 'AnalysisRequest')
    expect(left).toHaveLength(1)
    expect(left[0]!.id).toMatch(/^[0-9a-f]{32}$/)
    expect(sim.site.children(left[0]!.uid).map((a) => a.id).sort()).toEqual(['Ca', 'Mg'])
    // visible only to a traversal of the client: objectValues() without a brain renders {}
    const kids = (await get(sim, `client?children=yes&limit=1`)).json.items[0].children as unknown[]
    expect(kids).toContainEqual({})
    expect(await get(sim, left[0]!.uid)).toMatchObject({ status: 404 })
  })

  it('the sample factory creates the analyses: by service UID, keyword or title; {uid} dicts are dropped', async () => {
    const { sim, client, contact, sampleType, services } = await lab(layout)
    const r = await post(sim, `analysisrequest/create/${client}`, { Contact: contact, SampleType: sampleType, DateSampled: '2024-05-01T10:00:00+00:00', Analyses: [services[0], 'Mg'] })
    const sample = r.json.items[0]
    expect(sample.id).toBe('W-0001')
    // the answer's brain: uid_catalog on ≤2.4 (no review_state column), the sample catalog on 2.5+
    expect(sample.review_state).toBe(layout === '1.3' || layout === '2.0-2.4' ? null : 'sample_due')
    expect(sample.Analyses.map((a: { url: string }) => a.url.split('/').pop()).sort()).toEqual(['Ca', 'Mg'])
    expect((await get(sim, `analysis?path=${encodeURIComponent(`/senaite/clients/client-1/${sample.id as string}`)}&depth=1`)).json.count).toBe(2)
    const dicts = await post(sim, `analysisrequest/create/${client}`, { Contact: contact, SampleType: sampleType, Analyses: services.map((uid) => ({ uid })) })
    expect(dicts.json.items[0].Analyses).toEqual([])
    // workflow: registered, then no_sampling_workflow → sample_due, oldest first
    const history = (await get(sim, `${sample.uid as string}?workflow=yes`)).json.workflow_info[0]
    expect(history).toMatchObject({ workflow: 'senaite_sample_workflow', status: 'Sample due', review_state: 'sample_due' })
    expect(history.review_history.map((h: { review_state: string }) => h.review_state)).toEqual(['sample_registered', 'sample_due'])
    // never send Analyses in a sample update: plain UIDs are dropped and every unsubmitted analysis goes
    await post(sim, `update/${sample.uid as string}`, { Analyses: services })
    expect(sim.site.children(sample.uid).filter((o) => o.portalType === 'Analysis')).toHaveLength(0)
  })

  it('get_request_data: one JSON object per request; a list fails at HTTP 200, a body that is no JSON with 400', async () => {
    const { sim, client } = await lab(layout)
    expect(await post(sim, 'update', [{ uid: client, title: 'x' }])).toMatchObject({ status: 200, json: { success: false, message: "'list' object has no attribute 'update'" } })
    expect(await post(sim, `update/${client}`, '{not json')).toMatchObject({ status: 400, json: { message: 'Request Data is not JSON deserializable – Check JSON Syntax!' } })
  })
})

describe.each(AT_SETUP)('AT setup references, layout %s', (layout) => {
  it('read back as {uid, url, api_url}; the AT field names are the ones that count', async () => {
    const sim = simOf(layout)
    const contact = (await post(sim, `labcontact/create/${uidAt(sim, 'bika_setup/bika_labcontacts')}`, { Firstname: 'Ada', Surname: 'L' })).json.items[0].uid
    const dept = (await post(sim, `department/create/${uidAt(sim, 'bika_setup/bika_departments')}`, { title: 'Chem', DepartmentID: 'CH', Manager: contact })).json.items[0]
    expect(dept.Manager).toEqual({ uid: contact, url: 'http://127.0.0.1/senaite/bika_setup/bika_labcontacts/labcontact-1', api_url: `http://127.0.0.1/senaite/@@API/senaite/v1/labcontact/${contact as string}` })
    // the 2.6 Dexterity name is no field of the AT type: skipped (and on 2.x the required Manager is then missing)
    const other = (await post(sim, `department/create/${uidAt(sim, 'bika_setup/bika_departments')}`, { title: 'Micro', DepartmentID: 'MI', manager: contact })).json
    if (layout === '1.3') {
      expect(other.items[0].Manager).toBeNull()
      expect(other.items[0]).not.toHaveProperty('manager')
    } else {
      expect(other).toMatchObject({ success: false, message: JSON.stringify({ Manager: 'Manager is required, please correct.' }) })
    }
  })
})

describe('Dexterity setup types, layout 2.6 (jsonapi ≤2.5 on core 2.6)', () => {
  it('a JSON body sets text fields but never a reference; AT-era names are ignored; a form post with name:list sets it; it reads back as {uid, url, api_url}', async () => {
    const sim = simOf('2.6')
    const contact = (await post(sim, `labcontact/create/${uidAt(sim, 'bika_setup/bika_labcontacts')}`, { Firstname: 'Ada', Surname: 'L' })).json.items[0].uid as string
    const created = await post(sim, `department/create/${uidAt(sim, 'setup/departments')}`, { title: 'Chemistry', department_id: 'CH', manager: contact, Manager: contact, DepartmentID: 'XX' })
    const dept = created.json.items[0]
    expect(created.json.success).toBeUndefined()
    expect(dept).toMatchObject({ title: 'Chemistry', department_id: 'CH', manager: null, path: '/senaite/setup/departments/department-1' })
    expect(dept).not.toHaveProperty('Manager')
    // a form post gives byte strings: the List of ASCIILine validates; a form post's text does not (TextLine wants unicode)
    await postForm(sim, `update/${dept.uid as string}`, { 'manager:list': contact, title: 'Renamed' })
    const after = (await get(sim, dept.uid)).json
    expect(after.manager).toEqual({ uid: contact, url: 'http://127.0.0.1/senaite/bika_setup/bika_labcontacts/labcontact-1', api_url: `http://127.0.0.1/senaite/@@API/senaite/v1/labcontact/${contact}` })
    expect(after.title).toBe('Chemistry')
    // Dexterity objects are not validated as a whole: a department without manager is accepted
    expect((await get(sim, 'department')).json.count).toBe(1)
  })
})
