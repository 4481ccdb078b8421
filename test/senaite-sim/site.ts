/**
 * The simulated SENAITE site's content: objects and folders of its layout,
 * the id server, and which catalogs hold each object. Writing (create,
 * field setting) lives in create.ts / fields.ts, workflows in workflow.ts;
 * the methods here delegate so callers keep one handle on the site.
 */
import { randomBytes } from 'node:crypto'
import { catalogsOf, type CatalogDef } from './catalogs.js'
import { createObject } from './create.js'
import { setFields } from './fields.js'
import { profileOf, type Family, type LayoutProfile, type SiteLayout } from './layouts.js'
import { typeSpec, type TypeSpec } from './types.js'
import { deactivate, transition } from './workflow.js'

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
  /** Dexterity (true) or Archetypes content */
  dexterity?: boolean
  creator?: string
  /** a sample the factory left half-made: marked temporary, in no catalog */
  temporary?: boolean
}

export { SimError } from './errors.js'

export interface SiteOptions {
  readonly portalId: string
  readonly layout: SiteLayout
  readonly now: () => number
  /** deterministic UIDs for tests */
  readonly uidSeed?: number
}

const DX_FOLDERS_ALWAYS_REFERENCEABLE = new Set(['Setup', 'Samples'])

export class Site {
  readonly portalId: string
  /** the release family ('2.x' | '1.x') */
  readonly family: Family
  /** the layout this site answers as (what an admin may write as the agent's `instance.layout`) */
  readonly siteLayout: SiteLayout
  readonly profile: LayoutProfile
  readonly catalogs: ReadonlyMap<string, CatalogDef>
  readonly objects = new Map<string, SimObject>()
  readonly byPath = new Map<string, string>()
  readonly now: () => number
  readonly #counters = new Map<string, number>()
  readonly #specs = new Map<string, TypeSpec | undefined>()
  #uidCounter: number
  readonly portalUid: string

  constructor (options: SiteOptions) {
    this.portalId = options.portalId
    this.siteLayout = options.layout
    this.profile = profileOf(options.layout)
    this.family = this.profile.family
    this.catalogs = catalogsOf(this.profile)
    this.now = options.now
    this.#uidCounter = options.uidSeed ?? randomBytes(3).readUIntBE(0, 3)
    this.portalUid = this.newUid()
    this.add({ uid: this.portalUid, id: this.portalId, portalType: 'Plone Site', parentUid: null, path: `/${this.portalId}`, fields: { title: 'SENAITE LIMS' }, created: this.now(), modified: this.now(), reviewState: 'active', history: [], folder: true, creator: 'admin' })
    for (const folder of this.profile.folders) {
      const parentPath = `/${this.portalId}${folder.path.includes('/') ? `/${folder.path.slice(0, folder.path.lastIndexOf('/'))}` : ''}`
      const id = folder.path.slice(folder.path.lastIndexOf('/') + 1)
      this.add({ uid: this.newUid(), id, portalType: folder.type, parentUid: this.byPath.get(parentPath)!, path: `/${this.portalId}/${folder.path}`, fields: { title: id }, created: this.now(), modified: this.now(), reviewState: 'active', history: [], folder: true, dexterity: folder.dexterity, creator: 'admin' })
    }
  }

  newUid (): string {
    this.#uidCounter++
    return randomBytes(12).toString('hex') + this.#uidCounter.toString(16).padStart(8, '0').slice(-8)
  }

  add (o: SimObject): SimObject {
    this.objects.set(o.uid, o)
    this.byPath.set(o.path, o.uid)
    return o
  }

  remove (o: SimObject): void {
    for (const child of this.children(o.uid)) this.remove(child)
    this.objects.delete(o.uid)
    this.byPath.delete(o.path)
  }

  get (uid: string): SimObject | undefined { return this.objects.get(uid) }
  atPath (path: string): SimObject | undefined { const uid = this.byPath.get(path); return uid !== undefined ? this.objects.get(uid) : undefined }
  children (uid: string): SimObject[] { return [...this.objects.values()].filter((o) => o.parentUid === uid) }
  /** every content object (no folders, no half-made temporary samples) */
  content (): SimObject[] { return [...this.objects.values()].filter((o) => !o.folder && o.temporary !== true) }

  /** the type's model here (memoised: every catalog query asks it of every object) */
  spec (type: string): TypeSpec | undefined {
    if (!this.#specs.has(type)) this.#specs.set(type, typeSpec(this.siteLayout, type))
    return this.#specs.get(type)
  }

  containerOf (type: TypeSpec): SimObject | undefined {
    const spec = this.spec(type.type)
    return spec?.container !== undefined ? this.atPath(`/${this.portalId}/${spec.container}`) : undefined
  }

  /** The catalogs an object is indexed in. */
  catalogsHolding (o: SimObject): string[] {
    if (o.uid === this.portalUid || o.temporary === true) return []
    if (o.folder) {
      // unmapped AT types go to AT's default catalog; DX folders are in uid_catalog only with IReferenceable
      const inUid = o.dexterity !== true || DX_FOLDERS_ALWAYS_REFERENCEABLE.has(o.portalType) || this.profile.dexterityFoldersInUidCatalog
      return inUid ? ['portal_catalog', 'uid_catalog'] : ['portal_catalog']
    }
    const spec = this.spec(o.portalType)
    return [...(spec?.catalogs ?? ['portal_catalog']), 'uid_catalog']
  }

  /** The id server: `<type>-<n>`, samples `{prefix}-{seq:04d}`, `B-001`, `WS-001`; analyses use the keyword. */
  nextId (type: string, fields: Record<string, unknown>): string {
    if (type === 'AnalysisRequest') {
      const st = typeof fields.SampleType === 'string' ? this.get(fields.SampleType) : undefined
      const raw = st?.fields.Prefix ?? st?.fields.prefix
      const prefix = typeof raw === 'string' && raw !== '' ? raw : 'S'
      return `${prefix}-${String(this.bump(`sample:${prefix}`)).padStart(4, '0')}`
    }
    if (type === 'Batch') return `B-${String(this.bump('batch')).padStart(3, '0')}`
    if (type === 'Worksheet') return `WS-${String(this.bump('worksheet')).padStart(3, '0')}`
    return `${type.toLowerCase()}-${this.bump(type)}`
  }

  bump (key: string): number {
    const n = (this.#counters.get(key) ?? 0) + 1
    this.#counters.set(key, n)
    return n
  }

  uniqueChildId (parentUid: string, base: string): string {
    const taken = new Set(this.children(parentUid).map((c) => c.id))
    if (!taken.has(base)) return base
    for (let i = 1; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`
  }

  /** Create an object of a type in a container, as the create route does (see create.ts). */
  create (type: TypeSpec, container: SimObject, fields: Record<string, unknown>, actor: string): SimObject {
    return createObject(this, type.type, container, fields, actor)
  }

  /** Set fields through the data manager rules of this layout (see fields.ts). */
  setFields (o: SimObject, _type: TypeSpec | undefined, fields: Record<string, unknown>): void {
    setFields(this, o, fields)
  }

  transition (o: SimObject, action: string, actor: string): void {
    transition(this, o, action, actor)
  }

  /** delete = deactivate (§2.6); types without deactivate refuse */
  deactivate (o: SimObject, actor: string): void {
    deactivate(this, o, actor)
  }
}
