/**
 * How a real layout shows an object (JA 2.5.0 `api.get_info`,
 * `dataproviders.py`):
 *
 * - A listing item is built from a catalog brain: the mapped keys (id, uid,
 *   title, description, created, modified, effective, portal_type, tags,
 *   author, path, parent_path), url and parent info, and one key per
 *   metadata column of the type's *schema* catalog — its mapped catalog on
 *   jsonapi 2.5, portal_catalog (or `catalog=`) before — whose value comes
 *   from the brain actually found, `null` where that catalog has no such
 *   column. So `modified` is null in SENAITE-catalog listings, and a
 *   uid_catalog brain carries little beyond id and portal_type.
 * - A complete item (complete=yes, `<uid>` routes, create/update answers)
 *   needs a brain of the object in its mapped catalog — `{}` without one
 *   (a temporary sample) — updated with the object's own fields (values.ts).
 * - workflow_info: state title, available transitions, review history
 *   oldest first (DCW `state_change/getHistory`).
 */
import { attribute, stateTitle } from './attributes.js'
import type { CatalogDef } from './catalogs.js'
import type { Site, SimObject } from './site.js'
import { FOLDERISH_TYPES } from './types.js'
import { fieldValues } from './values.js'
import { availableTransitions, workflowId } from './workflow.js'

export interface ViewContext {
  readonly site: Site
  /** absolute site URL, e.g. http://127.0.0.1:4321/senaite */
  readonly siteUrl: string
  readonly apiUrl: string
  /** may this caller see Dexterity schema fields (needs Modify permission) */
  readonly canModify: boolean
  /** the `catalog=` parameter of the request, if any (schema catalog on jsonapi ≤2.4) */
  readonly catalogParam?: string
  /** the authenticated caller; anonymous callers find no brain in a (security filtered) CatalogTool */
  readonly viewer?: string
}

export interface ItemOptions { readonly workflow: boolean, readonly filedata: boolean, readonly children: boolean }

/** ZCDataProvider ignores these columns (they are mapped or useless) */
const IGNORED_COLUMNS = new Set(['CreationDate', 'Creator', 'Date', 'Description', 'EffectiveDate', 'ExpirationDate', 'ModificationDate', 'Subject', 'Title', 'Type', 'UID', 'cmf_uid', 'getIcon', 'getId', 'getObjSize', 'getRemoteUrl', 'listCreators', 'meta_type'])

export const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, '+00:00')

export function objectUrl (ctx: ViewContext, o: SimObject): string {
  return ctx.siteUrl.replace(/\/[^/]+$/, '') + o.path
}

/** `url_for(endpoint, resource=portal_type_to_resource(type), uid=…)` */
export function apiUrlOf (ctx: ViewContext, o: SimObject): string {
  return `${ctx.apiUrl}/${o.portalType.toLowerCase().replace(/\s+/g, '')}/${o.uid === ctx.site.portalUid ? '0' : o.uid}`
}

export const urlInfo = (ctx: ViewContext, o: SimObject): Record<string, string> => ({ uid: o.uid === ctx.site.portalUid ? '0' : o.uid, url: objectUrl(ctx, o), api_url: apiUrlOf(ctx, o) })

function parentInfo (ctx: ViewContext, o: SimObject): Record<string, string> {
  const parent = o.parentUid !== null ? ctx.site.get(o.parentUid) : undefined
  if (parent === undefined) return {}
  const info = urlInfo(ctx, parent)
  return { parent_id: parent.id, parent_uid: info.uid!, parent_url: info.api_url! }
}

/** The catalog whose columns name a brain's keys: the type's mapped one (2.5), else portal_catalog or `catalog=`. */
export function schemaCatalog (ctx: ViewContext, o: SimObject): CatalogDef {
  const { site } = ctx
  if (site.profile.termsFrom === 'portal_catalog') return site.catalogs.get(ctx.catalogParam ?? 'portal_catalog') ?? site.catalogs.get('portal_catalog')!
  const primary = site.spec(o.portalType)?.catalogs[0] ?? 'uid_catalog'
  return site.catalogs.get(primary) ?? site.catalogs.get('uid_catalog')!
}

/** A listing item from the brain `found` in catalog `brainOf`. */
export function brainItem (ctx: ViewContext, o: SimObject, brainOf: CatalogDef): Record<string, unknown> {
  const { site } = ctx
  const has = (column: string): boolean => brainOf.columns.includes(column)
  const col = (column: string): unknown => has(column) ? json(column, attribute(site, o, column)) : null
  const out: Record<string, unknown> = {}
  for (const column of schemaCatalog(ctx, o).columns) if (!IGNORED_COLUMNS.has(column)) out[column] = col(column)
  Object.assign(out, {
    id: has('id') ? o.id : has('getId') ? o.id : '',
    uid: o.uid,
    title: col('Title'),
    description: col('Description'),
    created: col('created'),
    modified: col('modified'),
    effective: col('effective'),
    portal_type: col('portal_type'),
    tags: has('Subject') ? [] : null,
    author: col('Creator'),
    path: o.path,
    parent_path: o.path.slice(0, o.path.lastIndexOf('/'))
  })
  return { ...out, ...urlInfo(ctx, o), ...parentInfo(ctx, o) }
}

/** The brain `get_brain(obj)` finds: jsonapi 2.5 searches the type's mapped catalog, ≤2.4 uid_catalog first. */
export function brainCatalogOf (site: Site, o: SimObject, viewer: string | undefined): CatalogDef | undefined {
  const holding = site.catalogsHolding(o).filter((id) => viewer !== undefined || site.catalogs.get(id)?.tool === false)
  const wanted = site.profile.termsFrom === 'portal_catalog'
    ? ['uid_catalog', ...holding]
    : [site.spec(o.portalType)?.catalogs[0] ?? 'uid_catalog']
  const id = wanted.find((c) => holding.includes(c))
  return id !== undefined ? site.catalogs.get(id) : undefined
}

/**
 * `get_info(obj)`: always complete for objects; `{}` when the object has no brain. A listing passes the
 * catalog its brain came from; an object looks its brain up (`get_brain`).
 */
export function completeItem (ctx: ViewContext, o: SimObject, options: ItemOptions, listedFrom?: CatalogDef): Record<string, unknown> {
  const { site } = ctx
  if (o.uid === site.portalUid) return { ...objectData(ctx, o, options), ...urlInfo(ctx, o) }
  const brainOf = listedFrom ?? brainCatalogOf(site, o, ctx.viewer)
  if (brainOf === undefined) return {}
  const out: Record<string, unknown> = { ...brainItem(ctx, o, brainOf), ...objectData(ctx, o, options) }
  if (options.workflow) out.workflow_info = workflowInfo(ctx, o)
  if (options.children && (o.folder || FOLDERISH_TYPES.includes(o.portalType))) Object.assign(out, childrenInfo(ctx, o, options))
  return out
}

/** `IInfo(obj).to_dict()`: schema fields and the mapped attributes read from the object */
export function objectData (ctx: ViewContext, o: SimObject, options: Pick<ItemOptions, 'filedata'>): Record<string, unknown> {
  const { site } = ctx
  const out = fieldValues(ctx, o, options.filedata)
  Object.assign(out, {
    id: o.id,
    uid: o.uid === site.portalUid ? '0' : o.uid,
    title: attribute(site, o, 'Title'),
    description: attribute(site, o, 'Description'),
    created: iso(o.created),
    modified: iso(o.modified),
    effective: null,
    portal_type: o.portalType,
    tags: [],
    author: o.creator ?? null,
    path: o.path,
    parent_path: o.path.slice(0, o.path.lastIndexOf('/'))
  })
  return out
}

export function childrenInfo (ctx: ViewContext, o: SimObject, options: ItemOptions): Record<string, unknown> {
  // objectValues(): every child, catalogued or not; one without a brain renders as {}
  const children = ctx.site.children(o.uid).map((c) => completeItem(ctx, c, { ...options, children: false }))
  return { children_count: children.length, children }
}

function workflowInfo (ctx: ViewContext, o: SimObject): unknown[] {
  const url = objectUrl(ctx, o)
  return [{
    workflow: workflowId(o),
    status: stateTitle(o.reviewState),
    review_state: o.reviewState,
    transitions: availableTransitions(ctx.site, o).map((t) => ({ title: t.charAt(0).toUpperCase() + t.slice(1).replace(/_/g, ' '), value: t, display: '', url: `${url}/workflow_action?workflow_action=${t}` })),
    review_history: o.history.map((h) => ({ ...h }))
  }]
}

const DATE_COLUMNS = new Set(['created', 'modified', 'effective', 'CreationDate', 'getDateSampled', 'getDateReceived'])

/** date columns as ISO 8601 (`DateTime.ISO8601()`), a missing value as null */
function json (column: string, v: unknown): unknown {
  if (v === undefined) return null
  return DATE_COLUMNS.has(column) && typeof v === 'number' ? iso(v) : v
}
