/**
 * Contract: creating. Encodes senaite.jsonapi's doctest create.rst (tags
 * 1.2.4, 2.4.0, 2.5.0; form-encoded posts, as the doctest sends them) and
 * `api.create_items` / `is_creation_allowed` for the exact refusal texts.
 * The doctest's setup paths are the AT ones (`bika_setup/bika_*`), so the
 * setup-type cases run on 1.3, 2.0–2.4 and 2.5; 2.6 moved those types to
 * Dexterity under /setup (writes.test.ts covers them there).
 */
import { describe, expect, it } from 'vitest'
import { ALL, AT_SETUP, get, postForm, simOf, uidAt } from './contract-helpers.js'

describe.each(ALL)('create.rst, layout %s', (layout) => {
  it('"Create with resource" / "without resource" / "via post only": every way of naming container and type', async () => {
    const sim = simOf(layout)
    const clientsUid = uidAt(sim, 'clients')
    expect((await postForm(sim, `client/create/${clientsUid}`, { title: 'Test client 1', ClientID: 'TC1' })).text).toContain('clients/client-1"')
    expect((await postForm(sim, 'client/create', { title: 'Test client 2', ClientID: 'TC2', parent_uid: clientsUid })).text).toContain('clients/client-2"')
    expect((await postForm(sim, 'client/create', { title: 'Test client 3', ClientID: 'TC3', parent_path: '/senaite/clients' })).text).toContain('clients/client-3"')
    expect((await postForm(sim, `create/${clientsUid}`, { title: 'Test client 4', ClientID: 'TC4', portal_type: 'Client' })).text).toContain('clients/client-4"')
    expect((await postForm(sim, 'create', { title: 'Test client 5', ClientID: 'TC5', portal_type: 'Client', parent_path: '/senaite/clients' })).text).toContain('clients/client-5"')
    const sixth = await postForm(sim, 'create', { title: 'Test client 6', ClientID: 'TC6', portal_type: 'Client', parent_uid: clientsUid })
    expect(sixth.text).toContain('clients/client-6"')
    // api.create_items answers {count, items (complete), url}: no success key on success
    expect(sixth.json).toMatchObject({ count: 1, url: 'http://127.0.0.1/senaite/@@API/senaite/v1/create' })
    expect(sixth.json).not.toHaveProperty('success')
    // getClientID is catalog metadata of the client's catalog
    const listed = (await get(sim, 'client')).json.items.map((i: { getClientID: string }) => i.getClientID).sort()
    expect(listed).toEqual(['TC1', 'TC2', 'TC3', 'TC4', 'TC5', 'TC6'])
  })

  it('"Creation restrictions": 401 in the portal, in bika_setup, and for a type the container does not allow — with the container\'s full path', async () => {
    const sim = simOf(layout)
    const inPortal = await postForm(sim, 'create', { title: 'My clients folder', portal_type: 'ClientsFolder', parent_path: '/senaite' })
    expect(inPortal).toMatchObject({ status: 401, json: { success: false, message: "Creation of 'ClientsFolder' in '/senaite' is not allowed" } })
    const inSetup = await postForm(sim, 'create', { title: 'My Analysis Categories folder', portal_type: 'AnalysisCategories', parent_path: '/senaite/bika_setup' })
    expect(inSetup).toMatchObject({ status: 401, json: { message: "Creation of 'AnalysisCategories' in '/senaite/bika_setup' is not allowed" } })
    const method = await postForm(sim, 'create', { title: 'My Method', portal_type: 'Method', parent_path: '/senaite/clients' })
    expect(method).toMatchObject({ status: 401, json: { message: "Creation of 'Method' in '/senaite/clients' is not allowed" } })
    // issue 12's message: a Department sent to the clients folder
    const dept = await postForm(sim, `department/create/${uidAt(sim, 'clients')}`, { title: 'Chemistry' })
    expect(dept).toMatchObject({ status: 401, json: { success: false, message: "Creation of 'Department' in '/senaite/clients' is not allowed" } })
  })

  it('find_target_container: 404 "No object could be found at <path>" for a bad parent_path, "No target container found" without one, 400 without a type', async () => {
    const sim = simOf(layout)
    expect(await postForm(sim, 'client/create', { title: 'x', parent_path: '/senaite/nowhere/here' })).toMatchObject({ status: 404, json: { message: 'No object could be found at nowhere/here' } })
    expect(await postForm(sim, 'client/create', { title: 'x' })).toMatchObject({ status: 404, json: { message: 'No target container found' } })
    expect(await postForm(sim, 'create', { title: 'x', parent_path: '/senaite/clients' })).toMatchObject({ status: 400, json: { message: 'Please provide a container path/uid and portal_type' } })
    // an unknown resource maps to no type: the record's portal_type is used
    expect((await postForm(sim, 'nosuchresource/create', { title: 'x', portal_type: 'Client', parent_path: '/senaite/clients' })).json.items[0].id).toBe('client-1')
  })
})

describe.each(AT_SETUP)('create.rst, setup types in bika_setup, layout %s', (layout) => {
  const stickers = layout === '1.3' ? {} : { AdmittedStickerTemplates: [{ admitted: ['QR_1x14mmx39mm.pt'], small_default: ['QR_1x14mmx39mm.pt'], large_default: ['QR_1x14mmx39mm.pt'] }] }

  it('"Required fields": a SampleType without a required field is refused with 400 and not left behind', async () => {
    const sim = simOf(layout)
    // 1.2.4 lacks MinimumVolume; the 2.x doctests send it but lack AdmittedStickerTemplates
    const body = layout === '1.3'
      ? { portal_type: 'SampleType', parent_path: '/senaite/bika_setup/bika_sampletypes', title: 'Fresh Egg', Prefix: 'FE' }
      : { portal_type: 'SampleType', parent_path: '/senaite/bika_setup/bika_sampletypes', MinimumVolume: '20 ml', title: 'Fresh Egg', Prefix: 'FE' }
    const r = await postForm(sim, 'create', body)
    expect(r.status).toBe(400)
    expect(Object.keys(JSON.parse(r.json.message as string))).toEqual([layout === '1.3' ? 'MinimumVolume' : 'AdmittedStickerTemplates'])
    expect((await get(sim, 'sampletype')).json.count).toBe(0)
  })

  it('"Create a Client … Analysis Service" and "Creating a Sample": parents, references, and the sample factory\'s analyses named by keyword', async () => {
    const sim = simOf(layout)
    const create = async (data: Record<string, unknown>): Promise<{ uid: string, path: string, parent_path: string }> => {
      const r = await postForm(sim, 'create', data)
      expect(r.json.count, JSON.stringify(r.json)).toBe(1)
      expect(r.json.items[0].uid).toMatch(/^[0-9a-f]{32}$/)
      return r.json.items[0]
    }
    const client = await create({ portal_type: 'Client', parent_path: '/senaite/clients', title: 'Omelette corp', ClientID: 'EC' })
    expect(client.parent_path).toBe('/senaite/clients')
    const contact = await create({ portal_type: 'Contact', parent_path: client.path, Firstname: 'Proud', Surname: 'Hen' })
    expect(contact.parent_path).toBe('/senaite/clients/client-1')
    const sampleType = await create({ portal_type: 'SampleType', parent_path: '/senaite/bika_setup/bika_sampletypes', title: 'Fresh Egg', MinimumVolume: '10 gr', Prefix: 'FE', ...stickers })
    expect(sampleType.parent_path).toBe('/senaite/bika_setup/bika_sampletypes')
    const labContact = await create({ portal_type: 'LabContact', parent_path: '/senaite/bika_setup/bika_labcontacts', Firstname: 'Lab', Surname: 'Chicken' })
    const department = await create({ portal_type: 'Department', DepartmentID: 'MB', parent_path: '/senaite/bika_setup/bika_departments', title: 'Microbiology', Manager: labContact.uid })
    expect(department.path).toBe('/senaite/bika_setup/bika_departments/department-1')
    const category = await create({ portal_type: 'AnalysisCategory', parent_path: '/senaite/bika_setup/bika_analysiscategories', title: 'Microbiology identification', Department: department.uid })
    expect((await get(sim, category.uid)).json.Department).toMatchObject({ uid: department.uid, url: 'http://127.0.0.1/senaite/bika_setup/bika_departments/department-1' })
    const service = (title: string, keyword: string): Record<string, unknown> => ({ portal_type: 'AnalysisService', parent_path: '/senaite/bika_setup/bika_analysisservices', title, Keyword: keyword, ScientificName: true, Price: 15, Category: category.uid })
    const sal = await create({ ...service('Salmonella', 'Sal'), Accredited: true })
    const ecoli = await create(service('Escherichia coli', 'Ecoli'))
    expect((await get(sim, ecoli.uid)).json.Category).toMatchObject({ uid: category.uid })

    const sample = await create({ portal_type: 'AnalysisRequest', parent_uid: client.uid, Contact: contact.uid, DateSampled: '2024-05-01T10:00:00+00:00', SampleType: sampleType.uid, Analyses: [sal.uid, ecoli.uid] })
    expect(sample.path).toBe('/senaite/clients/client-1/FE-0001')
    const record = (await get(sim, sample.uid)).json
    expect(sim.site.children(sample.uid).map((a) => a.id).sort()).toEqual(['Ecoli', 'Sal'])
    expect(record.SampleType).toMatchObject({ uid: sampleType.uid })
    expect(record.Client).toMatchObject({ uid: client.uid })
    expect(record.Contact).toMatchObject({ uid: contact.uid })
    expect(record.Analyses).toHaveLength(2)
  })
})
