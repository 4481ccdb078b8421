/**
 * Deterministic generator of LIMS-like replicated objects (SENAITE portal
 * types) for demos, tests and benchmarks.
 *
 * Invariants:
 * - Same (domain, seed, count, options) → byte-identical stream of objects; the
 *   only randomness is the seeded PRNG of rng.ts (never Math.random or the clock).
 * - Objects come in dependency order: every `parent` and every `refs` uid of
 *   an object was yielded earlier in the same stream.
 * - Lazy: the stream is a generator. Memory is bounded by the lab set-up
 *   (≤ ~2,100 small records), never by `count`, so 1,000,000 objects stream in
 *   constant memory.
 * - Every version is an origin version: vector `{[domain]: 1}`, origin =
 *   domain, not deleted. `editObject` never touches the vector: bumping it is
 *   the agent's job.
 */
import { createHash } from 'node:crypto'
import type { ObjectVersion } from '../../protocol/object.js'
import {
  CATEGORIES, CLIENT_KINDS, CONDITIONS, DEPARTMENTS, FIRST_NAMES, JOB_TITLES, LAST_NAMES, PLACES,
  REMARKS, SAMPLE_POINTS, SAMPLE_TYPES, SERVICES, STORAGE_LOCATIONS, type ServiceSpec
} from './lims-vocabulary.js'
import { ascii, distinct, entry, HOUR, iso, MINUTE, phone, resultValue, uncertainty } from './lims-values.js'
import { createRng, type Rng } from './rng.js'

export { editObject } from './lims-edit.js'
export { createRng, type Rng } from './rng.js'

export interface LimsDataOptions {
  /** the agent's domain: origin and vector key of every object, part of every uid */
  readonly domain: string
  readonly seed: number
  /** how many objects the stream yields in total (set-up included) */
  readonly count: number
  /** ms since epoch of the first object; default 2024-01-01T00:00:00Z */
  readonly startAt?: number
  /** analyses per sample are drawn uniformly from [min, max]; default [2, 6] */
  readonly analysesPerSample?: readonly [number, number]
}

/** How many set-up objects of each kind precede the samples (scales with count). */
export interface LimsSetupPlan {
  readonly labContacts: number
  readonly departments: number
  readonly categories: number
  readonly services: number
  readonly sampleTypes: number
  readonly clients: number
  readonly contactsPerClient: number
  readonly total: number
}

export const LIMS_TYPES = Object.freeze([
  'LabContact', 'Department', 'AnalysisCategory', 'AnalysisService', 'SampleType',
  'Client', 'Contact', 'AnalysisRequest', 'Analysis'
] as const)
export type LimsType = typeof LIMS_TYPES[number]

const DEFAULT_START_AT = Date.UTC(2024, 0, 1)

/** The uid of the object at `index` in the stream for (domain, seed): 32 lowercase hex chars. */
export function limsUid (domain: string, seed: number, index: number): string {
  return createHash('sha256').update(`labmesh-lims\0${domain}\0${seed}\0${index}`).digest('hex').slice(0, 32)
}

export function planLimsSetup (count: number): LimsSetupPlan {
  const labContacts = clamp(Math.round(count / 5000), 3, 20)
  const clients = clamp(Math.round(count / 1000), 2, 500)
  const contactsPerClient = 3
  const plan = {
    labContacts,
    departments: DEPARTMENTS.length,
    categories: CATEGORIES.length,
    services: SERVICES.length,
    sampleTypes: SAMPLE_TYPES.length,
    clients,
    contactsPerClient
  }
  const total = plan.labContacts + plan.departments + plan.categories + plan.services +
    plan.sampleTypes + plan.clients + plan.clients * plan.contactsPerClient
  return Object.freeze({ ...plan, total })
}

/** Samples and analyses are the objects a lab edits day to day. */
export function isEditable (obj: ObjectVersion): boolean {
  return obj.type === 'AnalysisRequest' || obj.type === 'Analysis'
}

interface Person { readonly uid: string, readonly name: string, readonly username: string, readonly email: string }
interface Named { readonly uid: string, readonly title: string }

/** Everything later objects refer to; bounded by the set-up plan. */
interface SetupState {
  readonly labContacts: Person[]
  readonly departments: Named[]
  readonly categories: Named[]
  readonly services: Named[]
  readonly sampleTypes: Named[]
  readonly clients: (Named & { readonly clientId: string })[]
  readonly contacts: Person[]
}

interface Ctx {
  readonly domain: string
  readonly seed: number
  readonly rng: Rng
  readonly startAt: number
  readonly setup: SetupState
}

/**
 * Yields `count` objects: the lab set-up first (lab contacts, departments,
 * analysis categories, analysis services, sample types, clients, client
 * contacts), then samples each followed by its analyses. A stream cut short
 * by `count` stays in dependency order.
 */
export function * generateLimsObjects (options: LimsDataOptions): Generator<ObjectVersion, void, undefined> {
  const { domain, seed, count } = options
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`)
  const [minAnalyses, maxAnalyses] = options.analysesPerSample ?? [2, 6]
  if (minAnalyses < 1 || maxAnalyses < minAnalyses || maxAnalyses > SERVICES.length) {
    throw new RangeError(`analysesPerSample must satisfy 1 ≤ min ≤ max ≤ ${SERVICES.length}`)
  }
  const ctx: Ctx = {
    domain,
    seed,
    rng: createRng(`${domain}\0${seed}`),
    startAt: options.startAt ?? DEFAULT_START_AT,
    setup: { labContacts: [], departments: [], categories: [], services: [], sampleTypes: [], clients: [], contacts: [] }
  }
  const plan = planLimsSetup(count)
  let index = 0
  const make = (type: LimsType, id: string, parent: string | null, refs: readonly string[],
    data: Record<string, unknown>, at: number): ObjectVersion => ({
    uid: limsUid(domain, seed, index),
    type,
    id,
    parent,
    refs,
    data,
    vector: { [domain]: 1 },
    origin: domain,
    deleted: false,
    at
  })
  const setupSteps: readonly (readonly [number, (i: number) => ObjectVersion])[] = [
    [plan.labContacts, (i) => labContact(ctx, make, index, i)],
    [plan.departments, (i) => department(ctx, make, index, i)],
    [plan.categories, (i) => category(ctx, make, index, i)],
    [plan.services, (i) => analysisService(ctx, make, index, i)],
    [plan.sampleTypes, (i) => sampleTypeObject(ctx, make, index, i)],
    [plan.clients, (i) => client(ctx, make, index, i)],
    [plan.clients * plan.contactsPerClient, (i) => clientContact(ctx, make, index, i, plan.contactsPerClient)]
  ]
  for (const [n, build] of setupSteps) {
    for (let i = 0; i < n; i++) {
      if (index >= count) return
      yield build(i)
      index++
    }
  }
  for (let sampleNo = 1; index < count; sampleNo++) {
    const group = sampleGroup(ctx, index, sampleNo, ctx.rng.between(minAnalyses, maxAnalyses))
    yield make('AnalysisRequest', group.sampleId, group.clientUid, group.refs, group.data, group.at)
    const sampleUid = limsUid(domain, seed, index)
    index++
    for (const analysis of group.analyses) {
      if (index >= count) return
      yield make('Analysis', analysis.keyword, sampleUid, [sampleUid, analysis.serviceUid], analysis.data, analysis.at)
      index++
    }
  }
}

type Make = (type: LimsType, id: string, parent: string | null, refs: readonly string[],
  data: Record<string, unknown>, at: number) => ObjectVersion

function person (rng: Rng, uid: string, emailDomain: string): Person {
  const first = rng.pick(FIRST_NAMES)
  const last = rng.pick(LAST_NAMES)
  const username = ascii(`${first[0] ?? 'x'}${last}`).toLowerCase()
  return { uid, name: `${first} ${last}`, username, email: `${username}@${emailDomain}` }
}

function labContact (ctx: Ctx, make: Make, index: number, i: number): ObjectVersion {
  const p = person(ctx.rng, limsUid(ctx.domain, ctx.seed, index), `${ctx.domain}.lab.example`)
  ctx.setup.labContacts.push(p)
  return make('LabContact', `labcontact-${i + 1}`, null, [], {
    title: p.name, Fullname: p.name, Username: p.username, EmailAddress: p.email,
    JobTitle: ctx.rng.pick(JOB_TITLES), BusinessPhone: phone(ctx.rng), Signature: null, review_state: 'active'
  }, ctx.startAt + index * 1000)
}

function department (ctx: Ctx, make: Make, index: number, i: number): ObjectVersion {
  const title = DEPARTMENTS[i] ?? `Department ${i + 1}`
  const manager = ctx.setup.labContacts[i % ctx.setup.labContacts.length] as Person
  ctx.setup.departments.push({ uid: limsUid(ctx.domain, ctx.seed, index), title })
  return make('Department', `department-${i + 1}`, null, [manager.uid], {
    title, Manager: { uid: manager.uid, title: manager.name }, DepartmentID: `D${i + 1}`,
    description: `${title} section of the ${ctx.domain} laboratory`, review_state: 'active'
  }, ctx.startAt + index * 1000)
}

function category (ctx: Ctx, make: Make, index: number, i: number): ObjectVersion {
  const [title, dept] = CATEGORIES[i] ?? [`Category ${i + 1}`, 0]
  const d = ctx.setup.departments[dept % ctx.setup.departments.length] as Named
  ctx.setup.categories.push({ uid: limsUid(ctx.domain, ctx.seed, index), title })
  return make('AnalysisCategory', `analysiscategory-${i + 1}`, null, [d.uid], {
    title, Department: { uid: d.uid, title: d.title }, SortKey: i + 1, Comments: '', review_state: 'active'
  }, ctx.startAt + index * 1000)
}

function analysisService (ctx: Ctx, make: Make, index: number, i: number): ObjectVersion {
  const s = SERVICES[i] as ServiceSpec
  const c = ctx.setup.categories[s.category % ctx.setup.categories.length] as Named
  ctx.setup.services.push({ uid: limsUid(ctx.domain, ctx.seed, index), title: s.title })
  return make('AnalysisService', `analysisservice-${i + 1}`, null, [c.uid], {
    title: s.title, Keyword: s.keyword, Unit: s.unit, Precision: s.decimals, Category: { uid: c.uid, title: c.title },
    Method: s.method, Instrument: s.instrument, MaxTimeAllowed: { days: ctx.rng.between(2, 10), hours: 0, minutes: 0 },
    Price: (ctx.rng.between(800, 9000) / 100).toFixed(2), VAT: '14.00', Accredited: ctx.rng.chance(0.7),
    LowerDetectionLimit: String(s.min), UpperDetectionLimit: String(s.max * 10), review_state: 'active'
  }, ctx.startAt + index * 1000)
}

function sampleTypeObject (ctx: Ctx, make: Make, index: number, i: number): ObjectVersion {
  const t = SAMPLE_TYPES[i] ?? { title: `Sample type ${i + 1}`, prefix: `T${i}`, retentionDays: 30, container: 'Bottle' }
  ctx.setup.sampleTypes.push({ uid: limsUid(ctx.domain, ctx.seed, index), title: t.title })
  return make('SampleType', `sampletype-${i + 1}`, null, [], {
    title: t.title, Prefix: t.prefix, RetentionPeriod: { days: t.retentionDays, hours: 0, minutes: 0 },
    ContainerType: t.container, Hazardous: false, MinimumVolume: '500 mL', review_state: 'active'
  }, ctx.startAt + index * 1000)
}

function client (ctx: Ctx, make: Make, index: number, i: number): ObjectVersion {
  const title = `${ctx.rng.pick(PLACES)} ${ctx.rng.pick(CLIENT_KINDS)}`
  const clientId = `C-${String(i + 1).padStart(3, '0')}`
  ctx.setup.clients.push({ uid: limsUid(ctx.domain, ctx.seed, index), title, clientId })
  return make('Client', `client-${i + 1}`, null, [], {
    title, Name: title, ClientID: clientId, TaxNumber: `VAT${ctx.rng.between(10_000_000, 99_999_999)}`,
    Phone: phone(ctx.rng), EmailAddress: `lab@${ascii(title).toLowerCase().replace(/[^a-z]+/g, '-')}.example`,
    PhysicalAddress: { address: `${ctx.rng.between(1, 250)} Main Road`, city: ctx.rng.pick(PLACES), zip: String(ctx.rng.between(1000, 9999)), country: 'ZA' },
    BulkDiscount: false, MemberDiscountApplies: false, review_state: 'active'
  }, ctx.startAt + index * 1000)
}

function clientContact (ctx: Ctx, make: Make, index: number, i: number, perClient: number): ObjectVersion {
  const c = ctx.setup.clients[Math.floor(i / perClient)] as Named & { clientId: string }
  const p = person(ctx.rng, limsUid(ctx.domain, ctx.seed, index), 'client.example')
  ctx.setup.contacts.push(p)
  return make('Contact', `contact-${i + 1}`, c.uid, [c.uid], {
    title: p.name, Fullname: p.name, Username: p.username, EmailAddress: p.email,
    BusinessPhone: phone(ctx.rng), JobTitle: ctx.rng.pick(['Plant manager', 'Quality officer', 'Procurement', 'Environmental officer']),
    review_state: 'active'
  }, ctx.startAt + index * 1000)
}

/** SENAITE's sample workflow, as the generator walks it. */
const SAMPLE_FLOW = [
  ['receive', 'sample_received'], ['submit', 'to_be_verified'], ['verify', 'verified'], ['publish', 'published']
] as const

interface AnalysisDraft { readonly keyword: string, readonly serviceUid: string, readonly data: Record<string, unknown>, readonly at: number }
interface SampleGroup {
  readonly sampleId: string
  readonly clientUid: string
  readonly refs: readonly string[]
  readonly data: Record<string, unknown>
  readonly at: number
  readonly analyses: readonly AnalysisDraft[]
}

/** A sample and its analyses, drawn together so the sample's results summary matches them. */
function sampleGroup (ctx: Ctx, index: number, sampleNo: number, nAnalyses: number): SampleGroup {
  const { rng, setup } = ctx
  const clientNo = rng.int(setup.clients.length)
  const c = setup.clients[clientNo] as Named & { clientId: string }
  const perClient = setup.contacts.length / setup.clients.length
  const contact = setup.contacts[clientNo * perClient + rng.int(perClient)] as Person
  const typeNo = rng.int(setup.sampleTypes.length)
  const st = setup.sampleTypes[typeNo] as Named
  const sampleId = `${SAMPLE_TYPES[typeNo]?.prefix ?? 'S'}-${String(sampleNo).padStart(5, '0')}`
  const serviceNos = distinct(rng, nAnalyses, setup.services.length)
  const created = ctx.startAt + index * MINUTE
  // Older samples are mostly published; a share is still in the lab.
  const roll = rng.next()
  const steps = roll < 0.05 ? 0 : roll < 0.15 ? 1 : roll < 0.30 ? 2 : roll < 0.45 ? 3 : 4
  const clerk = rng.pick(setup.labContacts)
  const analyst = rng.pick(setup.labContacts)
  const verifier = rng.pick(setup.labContacts)
  const history = [entry('create', contact.username, created, 'sample_due')]
  const stepGap = [[1, 26], [4, 72], [2, 48], [1, 24]] as const
  let t = created
  for (let s = 0; s < steps; s++) {
    const [action, state] = SAMPLE_FLOW[s] as (typeof SAMPLE_FLOW)[number]
    const [lo, hi] = stepGap[s] as readonly [number, number]
    t += rng.between(lo * 60, hi * 60) * MINUTE
    history.push(entry(action, s === 0 ? clerk.username : s === 1 ? analyst.username : verifier.username, t, state))
  }
  const state = history[history.length - 1]?.review_state ?? 'sample_due'
  const submitted = steps >= 2
  const analysisState = steps < 2 ? (steps === 1 && rng.chance(0.5) ? 'assigned' : 'unassigned') : state
  const analyses: AnalysisDraft[] = []
  const results: Record<string, string> = {}
  for (const no of serviceNos) {
    const spec = SERVICES[no] as ServiceSpec
    const svc = setup.services[no] as Named
    const result = submitted ? resultValue(rng, spec) : ''
    if (submitted) results[spec.keyword] = result
    const aHistory = [entry('create', clerk.username, created, 'unassigned')]
    if (analysisState !== 'unassigned') aHistory.push(entry('assign', clerk.username, Date.parse(history[1]?.time ?? iso(created)), 'assigned'))
    for (let s = 1; s < steps; s++) {
      const [action, st2] = SAMPLE_FLOW[s] as (typeof SAMPLE_FLOW)[number]
      const h = history[s + 1]
      aHistory.push(entry(action, h?.actor ?? analyst.username, Date.parse(h?.time ?? iso(created)), st2))
    }
    analyses.push({
      keyword: spec.keyword,
      serviceUid: svc.uid,
      at: Date.parse(aHistory[aHistory.length - 1]?.time ?? iso(created)),
      data: {
        title: spec.title, Keyword: spec.keyword, Service: svc.uid, getRequestID: sampleId,
        Result: result, Unit: spec.unit, Method: spec.method, Instrument: spec.instrument,
        Analyst: submitted ? analyst.username : '', Uncertainty: submitted ? uncertainty(result, spec) : '',
        ResultCaptureDate: submitted ? (history[2]?.time ?? null) : null,
        DueDate: iso(created + rng.between(48, 240) * HOUR), Retested: false,
        review_state: analysisState, review_history: aHistory
      }
    })
  }
  const data: Record<string, unknown> = {
    title: sampleId, Client: { uid: c.uid, title: c.title },
    Contact: { uid: contact.uid, title: contact.name }, SampleType: { uid: st.uid, title: st.title },
    ClientSampleID: `${c.clientId}-${rng.between(1000, 99999)}`,
    SamplePoint: rng.pick(SAMPLE_POINTS), StorageLocation: rng.pick(STORAGE_LOCATIONS),
    EnvironmentalConditions: rng.pick(CONDITIONS), Priority: String(rng.between(1, 5)),
    DateSampled: iso(created - rng.between(30, 600) * MINUTE), DateReceived: history[1]?.time ?? null,
    DateVerified: history[3]?.time ?? null, DatePublished: history[4]?.time ?? null,
    Remarks: rng.chance(0.3) ? rng.pick(REMARKS) : '', Results: results, review_state: state, review_history: history
  }
  return {
    sampleId, clientUid: c.uid, refs: [c.uid, contact.uid, st.uid, ...serviceNos.map((no) => (setup.services[no] as Named).uid)],
    data, at: t, analyses
  }
}

function clamp (v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v))
}
