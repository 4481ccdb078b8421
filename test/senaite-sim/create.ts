/**
 * Creating objects as senaite.jsonapi's `create_items` / `create_object`
 * do (JA 2.5.0 `api.py`; the logic is the same since 1.2.3):
 *
 * - `is_creation_allowed`: never in the portal or in bika_setup, and only
 *   types the container's FTI allows → 401 "Creation of '<type>' in
 *   '<container path>' is not allowed".
 * - Other types: a bare object is created (named by the ID server and
 *   indexed), then the fields are set; only a jsonapi APIError while doing
 *   so (status ≠ 200) deletes it again. Any other failure — "Incorrect
 *   padding", a single reference given `{uid}` or `""`, a refused
 *   `transition` — answers HTTP 200 success:false and leaves the object.
 * - Samples go through senaite.core's `create_analysisrequest`: the sample
 *   is made under a temporary 32-hex id, its analyses are created inside it
 *   (id = the service keyword), and only then does the ID server name it
 *   from the SampleType's prefix. Without a SampleType that fails with
 *   "'NoneType' object has no attribute 'getPrefix'" and the temporary
 *   sample stays, with its analyses, in no catalog. No validation, no
 *   `transition`, no cleanup for samples.
 */
import { randomBytes } from 'node:crypto'
import { SimError } from './errors.js'
import { setFields, validate, type WriteContext } from './fields.js'
import { WORKFLOWS } from './site-model.js'
import type { Site, SimObject } from './site.js'
import { addAnalysis } from './analyses.js'
import { historyEntry, transition } from './workflow.js'

/** container portal type → the types its FTI allows (SC 2.x `profiles/default/types/*.xml`); absent = no filter */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  ClientFolder: ['Client'],
  Client: ['AnalysisRequest', 'AnalysisSpec', 'Attachment', 'Batch', 'Contact', 'Sample', 'Folder', 'Invoice', 'SamplePoint', 'SampleTemplate', 'AnalysisProfile', 'ARTemplate'],
  AnalysisRequest: ['Analysis', 'ARReport'],
  BatchFolder: ['Batch'],
  WorksheetFolder: ['Worksheet'],
  Methods: ['Method'],
  LabContacts: ['LabContact'],
  Calculations: ['Calculation'],
  AnalysisServices: ['AnalysisService'],
  Departments: ['Department'],
  AnalysisCategories: ['AnalysisCategory'],
  SampleTypes: ['SampleType'],
  AttachmentTypes: ['AttachmentType'],
  Labels: ['Label'],
  Setup: ['Departments', 'AnalysisCategories', 'SampleTypes', 'AttachmentTypes', 'Labels'],
  Samples: [],
  Laboratory: [],
  AnalysisRequestsFolder: []
}

const CONTAINERS_WITHOUT_FILTER = new Set(['Worksheet'])

export function isCreationAllowed (site: Site, type: string, container: SimObject): boolean {
  if (container.uid === site.portalUid) return false
  if (container.path === `/${site.portalId}/bika_setup`) return false
  if (CONTAINERS_WITHOUT_FILTER.has(container.portalType)) return true
  return (ALLOWED[container.portalType] ?? []).includes(type)
}

export const notAllowed = (type: string, container: SimObject): SimError => new SimError(401, `Creation of '${type}' in '${container.path}' is not allowed`)

export function createObject (site: Site, typeName: string, container: SimObject, record: Record<string, unknown>, actor: string, ctx: WriteContext = { encoding: 'json', canWrite: true }): SimObject {
  if (!isCreationAllowed(site, typeName, container)) throw notAllowed(typeName, container)
  const spec = site.spec(typeName)
  if (spec === undefined) throw new SimError(200, `simulator: creating ${typeName} is not modelled`)
  const data = { ...record }
  delete data.id // "Passed in ID omitted": the ID server names it
  if (typeName === 'AnalysisRequest') return createSample(site, container, data, actor)
  if (spec.dexterity && !ctx.canWrite) throw new SimError(401, 'You are not allowed to create this content')
  const id = typeName === 'Analysis' && typeof data.Keyword === 'string' ? site.uniqueChildId(container.uid, data.Keyword) : site.nextId(typeName, data)
  const o = bare(site, typeName, container, id, spec.dexterity, actor)
  try {
    setFields(site, o, data, ctx)
    validate(site, o)
  } catch (err) {
    // only a jsonapi APIError removes the half-made object (`except APIError: container._delObject`)
    if (err instanceof SimError && err.status !== 200) site.remove(o)
    throw err
  }
  if (typeof data.transition === 'string' && data.transition !== '') transition(site, o, data.transition, actor)
  return o
}

function bare (site: Site, type: string, container: SimObject, id: string, dexterity: boolean, actor: string): SimObject {
  const now = site.now()
  const wf = WORKFLOWS[site.spec(type)!.workflow]
  return site.add({
    uid: site.newUid(), id, portalType: type, parentUid: container.uid, path: `${container.path}/${id}`, fields: {},
    created: now, modified: now, reviewState: wf.initial, history: [historyEntry(null, actor, wf.initial, now)], folder: false, dexterity, creator: actor
  })
}

function createSample (site: Site, client: SimObject, values: Record<string, unknown>, actor: string): SimObject {
  const services = toServiceUids(site, values.Analyses)
  const tmpId = randomBytes(16).toString('hex') // tmpID()
  const sample = bare(site, 'AnalysisRequest', client, tmpId, false, actor)
  sample.temporary = true
  // _processForm: the values go straight to the AT mutators
  for (const [key, value] of Object.entries(values)) {
    if (['Analyses', 'parent_uid', 'parent_path', 'portal_type', 'transition'].includes(key)) continue
    const ref = site.spec('AnalysisRequest')!.refs[key]
    sample.fields[key] = ref === undefined ? value : ref.multi ? toUids(value) : toUids(value)[0] ?? ''
  }
  sample.fields.Client = client.uid
  // setAnalyses: one analysis per service, id = keyword (SC utils/analysis.py create_analysis)
  for (const serviceUid of services) {
    const service = site.get(serviceUid)
    if (service?.portalType !== 'AnalysisService') continue
    addAnalysis(site, sample, service, actor).temporary = true // its parent's id is UID-like: api.is_temporary
  }
  const now = site.now()
  sample.reviewState = 'sample_due'
  sample.history.push(historyEntry('no_sampling_workflow', actor, 'sample_due', now))
  // renameAfterCreation: the ID server reads the SampleType's prefix
  const sampleType = typeof sample.fields.SampleType === 'string' ? site.get(sample.fields.SampleType) : undefined
  if (sampleType?.portalType !== 'SampleType') throw new SimError(200, "'NoneType' object has no attribute 'getPrefix'")
  const id = site.nextId('AnalysisRequest', sample.fields)
  rename(site, sample, id)
  sample.temporary = false
  for (const a of site.children(sample.uid)) a.temporary = false
  return sample
}

function rename (site: Site, o: SimObject, id: string): void {
  const old = o.path
  const path = `${old.slice(0, old.lastIndexOf('/'))}/${id}`
  const moves = [...site.objects.values()].filter((x) => x.path === old || x.path.startsWith(`${old}/`))
  for (const x of moves) {
    site.byPath.delete(x.path)
    x.path = path + x.path.slice(old.length)
    site.byPath.set(x.path, x.uid)
  }
  o.id = id
}

/** SC `to_services_uids`: UIDs as given, else a keyword or a title of exactly one service; dicts are dropped */
function toServiceUids (site: Site, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
  const services = site.content().filter((o) => o.portalType === 'AnalysisService')
  const out: string[] = []
  for (const item of list) {
    if (typeof item !== 'string') continue
    if (item.length === 32 && /^[0-9a-f]+$/.test(item)) { out.push(item); continue }
    const byKeyword = services.filter((s) => s.fields.Keyword === item)
    const byTitle = services.filter((s) => s.fields.title === item)
    const hit = byKeyword.length === 1 ? byKeyword[0] : byTitle.length === 1 ? byTitle[0] : undefined
    if (hit !== undefined) out.push(hit.uid)
  }
  return [...new Set(out)]
}

const toUids = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).map((x) => typeof x === 'object' && x !== null ? (x as { uid?: unknown }).uid : x).filter((x): x is string => typeof x === 'string' && x !== '')
