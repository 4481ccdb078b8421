/**
 * The simulated SENAITE site's content: objects, folders, the id server,
 * workflows with their cascades, and the write rules of §2.6 (create ignores
 * ids and assigns UIDs; update never changes ids; delete deactivates; 401
 * container rules; one object per request). Routes live in routes.ts.
 */
import { randomBytes } from 'node:crypto'
import { SIM_TYPE_BY_NAME, WORKFLOWS, siteFolders, type Layout, type SimType } from './site-model.js'

export interface HistoryEntry { action: string | null, actor: string, comments: string, review_state: string, time: string }

export interface SimObject {
  uid: string
  id: string
  portalType: string
  /** null for the portal itself */
  parentUid: string | null
  path: string
  fields: Record<string, unknown>
  created: number
  modified: number
  reviewState: string
  history: HistoryEntry[]
  folder: boolean
}

/** An error the API turns into its error envelope. */
export class SimError extends Error {
  readonly status: number
  constructor (status: number, message: string) {
    super(message)
    this.status = status
  }
}

export interface SiteOptions {
  readonly portalId: string
  readonly layout: Layout
  readonly now: () => number
  /** deterministic UIDs for tests */
  readonly uidSeed?: number
}

export class Site {
  readonly portalId: string
  readonly layout: Layout
  readonly objects = new Map<string, SimObject>()
  readonly byPath = new Map<string, string>()
  readonly #now: () => number
  readonly #counters = new Map<string, number>()
  #uidCounter: number
  readonly portalUid: string

  constructor (options: SiteOptions) {
    this.portalId = options.portalId
    this.layout = options.layout
    this.#now = options.now
    this.#uidCounter = options.uidSeed ?? randomBytes(3).readUIntBE(0, 3)
    this.portalUid = this.#newUid()
    this.#add({ uid: this.portalUid, id: this.portalId, portalType: 'Plone Site', parentUid: null, path: `/${this.portalId}`, fields: { title: 'SENAITE LIMS' }, created: this.#now(), modified: this.#now(), reviewState: 'active', history: [], folder: true })
    for (const [path, type] of siteFolders(this.layout)) {
      const parentPath = `/${this.portalId}${path.includes('/') ? `/${path.slice(0, path.lastIndexOf('/'))}` : ''}`
      const id = path.slice(path.lastIndexOf('/') + 1)
      this.#add({ uid: this.#newUid(), id, portalType: type, parentUid: this.byPath.get(parentPath)!, path: `/${this.portalId}/${path}`, fields: { title: id }, created: this.#now(), modified: this.#now(), reviewState: 'active', history: [], folder: true })
    }
  }

  #newUid (): string {
    this.#uidCounter++
    return randomBytes(12).toString('hex') + this.#uidCounter.toString(16).padStart(8, '0').slice(-8)
  }

  #add (o: SimObject): SimObject {
    this.objects.set(o.uid, o)
    this.byPath.set(o.path, o.uid)
    return o
  }

  get (uid: string): SimObject | undefined { return this.objects.get(uid) }
  atPath (path: string): SimObject | undefined { const uid = this.byPath.get(path); return uid !== undefined ? this.objects.get(uid) : undefined }
  children (uid: string): SimObject[] { return [...this.objects.values()].filter((o) => o.parentUid === uid) }
  content (): SimObject[] { return [...this.objects.values()].filter((o) => !o.folder) }

  containerOf (type: SimType): SimObject | undefined {
    return type.container !== undefined ? this.atPath(`/${this.portalId}/${type.container[this.layout]}`) : undefined
  }

  /** §2.6: refused (401) for the site root, bika_setup, or a container whose type does not allow the type */
  checkContainer (container: SimObject, type: SimType): void {
    const setupPath = `/${this.portalId}/bika_setup`
    if (container.uid === this.portalUid || container.path === setupPath) throw new SimError(401, `Creation of '${type.type}' in '${container.id}' is not allowed`)
    const allowed = type.container !== undefined
      ? container.path === `/${this.portalId}/${type.container[this.layout]}`
      : (type.parentTypes ?? []).includes(container.portalType)
    if (!allowed) throw new SimError(401, `Creation of '${type.type}' in '${container.id}' is not allowed`)
  }

  /** The id server: `<type>-<n>`, samples `{prefix}-{seq:04d}`, `B-001`, `WS-001`; analyses use the keyword. */
  nextId (type: string, fields: Record<string, unknown>): string {
    const bump = (key: string): number => { const n = (this.#counters.get(key) ?? 0) + 1; this.#counters.set(key, n); return n }
    if (type === 'AnalysisRequest') {
      const st = typeof fields.SampleType === 'string' ? this.get(fields.SampleType) : undefined
      const prefix = typeof st?.fields.prefix === 'string' && st.fields.prefix !== '' ? st.fields.prefix : 'S'
      return `${prefix}-${String(bump(`sample:${prefix}`)).padStart(4, '0')}`
    }
    if (type === 'Batch') return `B-${String(bump('batch')).padStart(3, '0')}`
    if (type === 'Worksheet') return `WS-${String(bump('worksheet')).padStart(3, '0')}`
    return `${type.toLowerCase()}-${bump(type)}`
  }

  create (type: SimType, container: SimObject, fields: Record<string, unknown>, actor: string): SimObject {
    this.checkContainer(container, type)
    const id = type.type === 'Analysis' && typeof fields.Keyword === 'string' ? this.#uniqueChildId(container.uid, fields.Keyword) : this.nextId(type.type, fields)
    const now = this.#now()
    const wf = WORKFLOWS[type.workflow]
    const o = this.#add({
      uid: this.#newUid(), id, portalType: type.type, parentUid: container.uid, path: `${container.path}/${id}`, fields: {},
      created: now, modified: now, reviewState: wf.initial, history: [entry(null, actor, wf.initial, now)], folder: false
    })
    try {
      this.setFields(o, type, fields)
    } catch (err) {
      // a failed create removes the half-created object (§2.6)
      this.objects.delete(o.uid)
      this.byPath.delete(o.path)
      throw err
    }
    for (const action of wf.auto ?? []) this.transition(o, action, actor)
    if (type.type === 'AnalysisRequest') this.#createAnalyses(o, actor)
    // a sample's Analyses field lists the analyses inside it
    if (type.type === 'Analysis' && container.portalType === 'AnalysisRequest' && !this.#creatingAnalyses) {
      container.fields.Analyses = [...(Array.isArray(container.fields.Analyses) ? container.fields.Analyses as string[] : []), o.uid]
      container.modified = now
    }
    return o
  }

  #uniqueChildId (parentUid: string, base: string): string {
    const taken = new Set(this.children(parentUid).map((c) => c.id))
    if (!taken.has(base)) return base
    for (let i = 1; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`
  }

  #creatingAnalyses = false

  #createAnalyses (sample: SimObject, actor: string): void {
    const services = Array.isArray(sample.fields.Analyses) ? sample.fields.Analyses as string[] : []
    this.#creatingAnalyses = true
    const analysisType = SIM_TYPE_BY_NAME.get('Analysis')!
    const created: string[] = []
    for (const serviceUid of services) {
      const service = this.get(serviceUid)
      if (service === undefined) continue
      const keyword = typeof service.fields.Keyword === 'string' ? service.fields.Keyword : service.id
      const a = this.create(analysisType, sample, { Keyword: keyword, AnalysisService: serviceUid, title: service.fields.title ?? keyword }, actor)
      created.push(a.uid)
    }
    this.#creatingAnalyses = false
    sample.fields.Analyses = created
  }

  /** Set fields through the "data manager": references validated, ids never changed, unknown keys skipped. */
  setFields (o: SimObject, type: SimType, fields: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(fields)) {
      if (['id', 'uid', 'UID', 'portal_type', 'parent_uid', 'parent_path', 'transition', 'modified', 'created', 'path'].includes(key)) continue
      const ref = type.refs[key]
      if (ref !== undefined) {
        o.fields[key] = this.#reference(key, value, ref.multi)
        continue
      }
      o.fields[key] = value
    }
    if (type.type === 'AnalysisRequest' && typeof o.fields.Client !== 'string' && o.parentUid !== null) o.fields.Client = o.parentUid
    o.modified = this.#now()
  }

  #reference (key: string, value: unknown, multi: boolean): unknown {
    if (multi) {
      const list = Array.isArray(value) ? value : [value]
      return list.map((v) => this.#resolveRef(key, typeof v === 'object' && v !== null && 'uid' in v ? (v as { uid: unknown }).uid : v))
    }
    // corrections: a single AT reference written as {uid: …}, "" , [] or null fails
    if (typeof value !== 'string' || value === '') throw new SimError(200, `Could not set field '${key}': expected a UID`)
    return this.#resolveRef(key, value)
  }

  #resolveRef (key: string, value: unknown): string {
    if (typeof value !== 'string') throw new SimError(200, `Could not set field '${key}': expected a UID`)
    const target = this.get(value) ?? this.atPath(value)
    if (target === undefined) throw new SimError(400, JSON.stringify({ [key]: `Reference ${value} not found` }))
    return target.uid
  }

  transition (o: SimObject, action: string, actor: string): void {
    const type = SIM_TYPE_BY_NAME.get(o.portalType)
    if (type === undefined) throw new SimError(200, `Transition '${action}' is not allowed`)
    const next = WORKFLOWS[type.workflow].transitions[o.reviewState]?.[action]
    if (next === undefined) throw new SimError(200, `Transition '${action}' is not allowed for '${o.id}' in state '${o.reviewState}'`)
    if (type.type === 'Analysis' && action === 'submit' && (o.fields.Result === undefined || o.fields.Result === null || o.fields.Result === '')) {
      throw new SimError(200, `Transition 'submit' of ${o.id}: no result`)
    }
    const now = this.#now()
    o.reviewState = next
    o.history.push(entry(action, actor, next, now))
    o.modified = now
    this.#cascade(o, action, actor)
  }

  /** Transitions cascade (corrections): receive moves the analyses; the last analysis moves the sample. */
  #cascade (o: SimObject, action: string, actor: string): void {
    if (o.portalType === 'AnalysisRequest' && action === 'receive') {
      for (const a of this.children(o.uid)) if (a.portalType === 'Analysis' && a.reviewState === 'registered') this.transition(a, 'initialize', actor)
    }
    if (o.portalType === 'Analysis' && o.parentUid !== null) {
      const sample = this.get(o.parentUid)!
      const siblings = this.children(sample.uid).filter((a) => a.portalType === 'Analysis' && a.reviewState !== 'retracted')
      const submitted = (a: SimObject): boolean => ['to_be_verified', 'verified', 'published'].includes(a.reviewState)
      const verified = (a: SimObject): boolean => ['verified', 'published'].includes(a.reviewState)
      if (sample.reviewState === 'sample_received' && siblings.every(submitted)) this.transition(sample, 'submit', actor)
      if (sample.reviewState === 'to_be_verified' && siblings.every(verified)) this.transition(sample, 'verify', actor)
      if (action === 'retract') {
        const retest = this.create(SIM_TYPE_BY_NAME.get('Analysis')!, sample, { Keyword: o.id.replace(/-\d+$/, ''), AnalysisService: o.fields.AnalysisService, RetestOf: o.uid }, actor)
        this.transition(retest, 'initialize', actor)
      }
    }
    if (o.portalType === 'AnalysisRequest' && action === 'publish') {
      for (const a of this.children(o.uid)) if (a.portalType === 'Analysis' && a.reviewState === 'verified') this.transition(a, 'publish', actor)
    }
  }

  /** delete = deactivate (§2.6); types without deactivate refuse */
  deactivate (o: SimObject, actor: string): void {
    const type = SIM_TYPE_BY_NAME.get(o.portalType)
    if (type === undefined || type.workflow !== 'deactivable') throw new SimError(200, `Cannot deactivate '${o.id}': no 'deactivate' transition`)
    this.transition(o, 'deactivate', actor)
  }
}

function entry (action: string | null, actor: string, state: string, at: number): HistoryEntry {
  const d = new Date(at)
  const time = `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}`
  return { action, actor, comments: '', review_state: state, time }
}
