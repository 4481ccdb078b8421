/**
 * A generated lab dataset, created through the simulator's own JSON API in
 * dependency order (reference §3.3), the way a lab would have produced it:
 * lab contacts, departments (manager → lab contact, then the contacts
 * patched with their department), analysis categories, methods,
 * calculations, analysis services, sample types, clients with contacts,
 * samples with analyses (results, receive/submit/verify transitions and so
 * review history), worksheets (Analyses + Layout records) and attachments.
 * Deterministic for a seed. Works on every layout: dataset-dialect.ts
 * phrases each record the way that layout takes it.
 */
import { dialectOf, type Phrased } from './dataset-dialect.js'
import type { SenaiteSimulator } from './simulator.js'

export interface DatasetOptions {
  readonly seed: number
  readonly samples?: number
  readonly clients?: number
  readonly username?: string
  readonly password?: string
}

export interface SeededLab {
  /** name → uid of what was created (e.g. "service:Ca", "client:1", "sample:3") */
  readonly uids: Map<string, string>
  readonly objects: number
}

type Item = Record<string, unknown> & { uid: string }

export async function seedSimulator (sim: SenaiteSimulator, options: DatasetOptions): Promise<SeededLab> {
  let state = options.seed >>> 0 || 1
  const rand = (): number => { state ^= state << 13; state ^= state >>> 17; state ^= state << 5; return (state >>> 0) / 2 ** 32 }
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const auth = `Basic ${Buffer.from(`${options.username ?? 'labman'}:${options.password ?? 'labman'}`).toString('base64')}`
  const portal = `/${sim.site.portalId}`
  const uids = new Map<string, string>()
  let objects = 0

  const call = async (path: string, body: Record<string, unknown>): Promise<Item> => {
    const response = await sim.app.request(`${portal}/@@API/senaite/v1/${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const json = await response.json() as { success?: boolean, message?: string, items?: Item[] }
    if (json.success === false || json.items?.[0] === undefined) throw new Error(`seeding ${path}: ${json.message ?? response.status}`)
    return json.items[0]
  }
  /** DX references go form-encoded (`name:list`), the only way jsonapi ≤2.5 sets them */
  const callForm = async (path: string, refs: Record<string, string[]>): Promise<void> => {
    const body = new URLSearchParams()
    for (const [name, values] of Object.entries(refs)) for (const v of values) body.append(`${name}:list`, v)
    const response = await sim.app.request(`${portal}/@@API/senaite/v1/${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })
    const json = await response.json() as { success?: boolean, message?: string }
    if (json.success === false) throw new Error(`seeding ${path}: ${json.message ?? response.status}`)
  }
  const dialect = dialectOf(sim.site)
  /** the container of a type with a fixed one, on this site's layout */
  const folder = (type: string): string => {
    const path = sim.site.spec(type)?.container
    const o = path !== undefined ? sim.site.atPath(`${portal}/${path}`) : undefined
    if (o === undefined) throw new Error(`no container for ${type} in a ${sim.site.siteLayout} site`)
    return o.uid
  }
  const create = async (key: string, resource: string, container: string, fields: Record<string, unknown>): Promise<Item> => {
    const item = await call(`${resource}/create/${container}`, fields)
    uids.set(key, item.uid)
    objects++
    return item
  }
  const createPhrased = async (key: string, resource: string, container: string, phrased: Phrased): Promise<Item> => {
    const item = await create(key, resource, container, phrased.fields)
    if (phrased.formRefs !== undefined) await callForm(`update/${item.uid}`, phrased.formRefs)
    return item
  }

  const names = ['Ada Lovelace', 'Rosalind Franklin', 'Marie Curie', 'Dorothy Hodgkin']
  const contacts: Item[] = []
  for (const [i, name] of names.entries()) {
    const [first, last] = name.split(' ')
    contacts.push(await create(`labcontact:${i}`, 'labcontact', folder('LabContact'), { Firstname: first, Surname: last, EmailAddress: `${first!.toLowerCase()}@lab.example` }))
  }
  const departments: Item[] = []
  for (const [i, title] of ['Chemistry', 'Microbiology'].entries()) {
    departments.push(await createPhrased(`department:${i}`, 'department', folder('Department'), dialect.department(title, title.slice(0, 2).toUpperCase(), contacts[i]!.uid)))
  }
  for (const [i, c] of contacts.entries()) {
    const dept = departments[i % departments.length]!.uid
    await call(`update/${c.uid}`, { Departments: [dept], DefaultDepartment: dept })
  }
  const categories: Item[] = []
  for (const [i, title] of ['Metals', 'Nutrients', 'Bacteria'].entries()) {
    categories.push(await createPhrased(`category:${i}`, 'analysiscategory', folder('AnalysisCategory'), dialect.category(title, departments[i % 2]!.uid)))
  }
  const method = await create('method:0', 'method', folder('Method'), { title: 'ICP-OES', ...dialect.file('MethodDocument', 'icp.txt', 'text/plain', 'ICP-OES operating procedure') })
  const calculation = await create('calculation:0', 'calculation', folder('Calculation'), { title: 'Hardness', Formula: '[Ca] * 2.497 + [Mg] * 4.118' })
  const services: Item[] = []
  for (const [i, [keyword, title]] of [['Ca', 'Calcium'], ['Mg', 'Magnesium'], ['Fe', 'Iron'], ['NO3', 'Nitrate'], ['Ecoli', 'E. coli']].entries()) {
    services.push(await create(`service:${keyword}`, 'analysisservice', folder('AnalysisService'), {
      title, Keyword: keyword, Category: categories[i % 3]!.uid, Department: departments[i % 2]!.uid, Methods: [method.uid], ...(keyword === 'Ca' ? {} : { Calculation: calculation.uid }), Unit: 'mg/l'
    }))
  }
  await call(`update/${calculation.uid}`, { DependentServices: [uids.get('service:Ca')!, uids.get('service:Mg')!] })
  const sampleTypes: Item[] = []
  for (const [i, [title, prefix]] of [['Water', 'W'], ['Soil', 'SO']].entries()) {
    sampleTypes.push(await createPhrased(`sampletype:${i}`, 'sampletype', folder('SampleType'), dialect.sampleType(title!, prefix!)))
  }
  const attachmentType = await create('attachmenttype:0', 'attachmenttype', folder('AttachmentType'), { title: 'Field photo' })
  const clients: Array<{ client: Item, contact: Item }> = []
  for (let i = 0; i < (options.clients ?? 3); i++) {
    const client = await create(`client:${i}`, 'client', folder('Client'), { title: `Client ${i + 1}`, ClientID: `C${i + 1}`, DefaultCategories: [categories[0]!.uid] })
    const contact = await create(`contact:${i}`, 'contact', client.uid, { Firstname: 'Pat', Surname: `Client${i + 1}`, EmailAddress: `pat${i}@client.example` })
    clients.push({ client, contact })
  }

  const analyses: string[] = []
  for (let s = 0; s < (options.samples ?? 20); s++) {
    const { client, contact } = pick(clients)
    const chosen = services.filter(() => rand() < 0.6)
    const sample = await create(`sample:${s}`, 'analysisrequest', client.uid, {
      Contact: contact.uid, SampleType: pick(sampleTypes).uid, ClientSampleID: `CS-${s}`, DateSampled: '2024-05-01T10:00:00+00:00',
      Analyses: (chosen.length > 0 ? chosen : [services[0]!]).map((x) => x.uid)
    })
    const children = sim.site.children(sample.uid).filter((o) => o.portalType === 'Analysis')
    objects += children.length
    const stage = rand()
    if (stage < 0.2) continue // stays due
    await call(`update/${sample.uid}`, { transition: 'receive' })
    for (const a of children) {
      analyses.push(a.uid)
      if (stage < 0.4) continue
      await call(`update/${a.uid}`, { Result: String(Math.round(rand() * 1000) / 10), transition: 'submit' })
      if (stage > 0.7) await call(`update/${a.uid}`, { transition: 'verify' })
    }
    if (s % 5 === 0) {
      const attachment = await create(`attachment:${s}`, 'attachment', client.uid, { AttachmentType: attachmentType.uid, ...dialect.file('AttachmentFile', `sample-${s}.txt`, 'text/plain', `notes for sample ${s}`) })
      await call(`update/${sample.uid}`, { Attachment: [attachment.uid] })
    }
  }
  const open = analyses.filter((uid) => sim.site.get(uid)?.reviewState === 'unassigned').slice(0, 10)
  if (open.length > 0) {
    await create('worksheet:0', 'worksheet', folder('Worksheet'), {
      Analyses: open,
      Layout: open.map((uid, i) => ({ position: i + 1, type: 'a', container_uid: sim.site.get(uid)!.parentUid, analysis_uid: uid }))
    })
  }
  return { uids, objects }
}
