/**
 * Searching a real layout: senaite.jsonapi's Catalog / CatalogQuery
 * (`catalog.py`), bika.lims.api.search and ZCatalog, step by step.
 *
 * 1. Which catalog. jsonapi 2.5: `catalog=` (unknown → uid_catalog), else
 *    the first mapped catalog of each requested portal type, uid_catalog
 *    when they differ or none is given (a plain `search`). jsonapi ≤2.4:
 *    terms are built for portal_catalog (or `catalog=`), and the query runs
 *    on the mapped catalog of the query's portal_type — "Multi Catalog
 *    Queries are not supported!" when the types map to different ones.
 * 2. Which terms: one per request parameter named like an index of the
 *    catalog the terms are built for (converted by index kind), plus `q`,
 *    `path` + `depth` (default 0), `recent_created/modified`, the resource's
 *    portal_type. Every other parameter is ignored silently.
 * 3. ZCatalog applies the terms whose index the queried catalog has and
 *    skips the rest ("bogus keys"). A CatalogTool always adds
 *    allowedRolesAndUsers, so a query whose own terms are all skipped
 *    returns everything the caller may view. The plain uid_catalog then
 *    returns nothing (ZCatalog ≥4, SENAITE 2.x) or everything (ZCatalog <4).
 */
import { attribute } from './attributes.js'
import type { CatalogDef, IndexKind } from './catalogs.js'
import { SimError } from './errors.js'
import { isRecord, single, type Form, type FormValue, type ZRecord } from './form.js'
import type { Site, SimObject } from './site.js'
import { KNOWN_EMPTY_TYPES } from './types.js'

export interface SearchResult {
  readonly items: SimObject[]
  /** the catalog the brains come from */
  readonly catalog: CatalogDef
}

type Term = { kind: IndexKind, value: unknown }

const RECENT_DAYS: Readonly<Record<string, number>> = { today: 0, yesterday: 1, 'this-week': 7, 'this-month': 30, 'this-year': 365 }

/** `forcedTypes`: the `/<resource>` route's portal type; undefined for `search` */
export function search (site: Site, form: Form, forcedTypes: string[] | undefined, viewer: string | undefined): SearchResult {
  const requested = forcedTypes ?? list(form.portal_type)
  const { termsFor, target } = chooseCatalogs(site, form, requested)
  const terms = buildTerms(site, form, termsFor, requested, forcedTypes !== undefined)
  const sortOn = single(form.sort_on)
  const sortIndex = sortOn !== undefined && termsFor.indexes[sortOn] !== undefined ? sortOn : undefined
  if (sortIndex !== undefined && target.indexes[sortIndex] === undefined) throw new SimError(200, `Unknown sort_on index: '${sortIndex}'`)

  const usable = Object.entries(terms).filter(([name]) => target.indexes[name] !== undefined)
  let items: SimObject[]
  if (target.tool) {
    items = viewer === undefined ? [] : members(site, target) // allowedRolesAndUsers: anonymous may view no SENAITE content
  } else {
    items = usable.length === 0 ? (site.profile.emptyQueryReturnsAll ? members(site, target) : []) : members(site, target)
  }
  for (const [name, term] of usable) items = items.filter((o) => matches(site, o, name, { kind: target.indexes[name]!, value: term.value }))

  if (sortIndex !== undefined) {
    const key = (o: SimObject): string | number => { const v = attribute(site, o, sortIndex); return typeof v === 'number' ? v : String(v ?? '') }
    items = [...items].sort((a, b) => { const x = key(a); const y = key(b); return x < y ? -1 : x > y ? 1 : 0 })
    const order = sortOrder(single(form.sort_order))
    if (order === 'descending' || order === 'reverse') items.reverse()
  }
  return { items, catalog: target }
}

function chooseCatalogs (site: Site, form: Form, types: string[]): { termsFor: CatalogDef, target: CatalogDef } {
  const catalogs = site.catalogs
  const uid = catalogs.get('uid_catalog')!
  const named = single(form.catalog)
  if (site.profile.termsFrom === 'queried') {
    if (named !== undefined && named !== '') { const c = catalogs.get(named) ?? uid; return { termsFor: c, target: c } }
    const primaries = new Set(types.map((t) => primaryCatalog(site, t, 'uid_catalog')))
    const chosen = primaries.size === 1 ? catalogs.get([...primaries][0]!) ?? uid : uid
    return { termsFor: chosen, target: chosen }
  }
  // jsonapi ≤2.4 (and 1.2.x): Catalog.get_catalog() caches CatalogTools only
  if (named !== undefined && named !== '') {
    const c = catalogs.get(named)
    if (c === undefined) throw new SimError(200, `No tool named '${named}' found.`)
    if (!c.tool) throw new SimError(200, `'${named}'`)
    return { termsFor: c, target: c }
  }
  const portal = catalogs.get('portal_catalog')!
  const primaries = new Set(types.map((t) => primaryCatalog(site, t, 'portal_catalog')))
  if (primaries.size > 1) throw new SimError(200, 'Multi Catalog Queries are not supported!')
  const target = primaries.size === 1 ? catalogs.get([...primaries][0]!) ?? portal : portal
  return { termsFor: portal, target }
}

/** `get_catalogs_for(portal_type, default)[0]`: the mapped catalog, or the default for unmapped types (folders) */
function primaryCatalog (site: Site, type: string, fallback: string): string {
  const spec = site.spec(type)
  if (spec !== undefined) return spec.catalogs[0] ?? fallback
  if (KNOWN_EMPTY_TYPES.includes(type)) return site.profile.catalogFamily === 'bika' ? 'bika_setup_catalog' : 'senaite_catalog_setup'
  return fallback
}

function buildTerms (site: Site, form: Form, catalog: CatalogDef, types: string[], resource: boolean): Record<string, Term> {
  const terms: Record<string, Term> = {}
  // get_request_query: only parameters named like an index of this catalog
  for (const [name, kind] of Object.entries(catalog.indexes)) {
    const raw = form[name]
    if (raw === undefined) continue
    terms[name] = { kind, value: convert(name, kind, raw) }
  }
  // get_custom_query
  const q = single(form.q)
  if (q !== undefined && q !== '') {
    const text = ['listing_searchable_text', 'SearchableText', 'Title'].find((i) => catalog.indexes[i] === 'text') ?? Object.keys(catalog.indexes).find((i) => catalog.indexes[i] === 'text')
    if (text !== undefined) terms[text] = { kind: 'text', value: q }
  }
  const path = single(form.path)
  if (path !== undefined && path !== '') {
    const depth = single(form.depth)
    terms.path = { kind: 'path', value: { query: path, depth: depth !== undefined && /^-?\d+$/.test(depth) ? Number(depth) : 0 } }
  }
  for (const [param, index] of [['recent_created', 'created'], ['recent_modified', 'modified']] as const) {
    const days = RECENT_DAYS[single(form[param]) ?? '']
    if (days === undefined) continue
    const midnight = new Date(site.now())
    midnight.setUTCHours(0, 0, 0, 0)
    terms[index] = { kind: 'date', value: { record: true, attrs: { query: new Date(midnight.getTime() - days * 86_400_000), range: 'min' } } satisfies ZRecord }
  }
  // the resource's type (keyword query on ≤2.4, Catalog.search on 2.5); `search` only has the request's
  if (resource || site.profile.termsFrom === 'queried') {
    if (types.length > 0) terms.portal_type = { kind: 'field', value: types }
    else if (site.profile.termsFrom === 'queried') delete terms.portal_type
  }
  return terms
}

function convert (name: string, kind: IndexKind, raw: FormValue): unknown {
  if (isRecord(raw)) return raw // ZPublisher records pass through
  if (name === 'portal_type') return list(raw)
  if (kind === 'date') return new Date(Array.isArray(raw) ? raw[0]! : raw)
  if (kind === 'boolean') return Boolean(Array.isArray(raw) ? raw[0] : raw) // bool("false") is True
  if (kind === 'keyword') {
    if (Array.isArray(raw)) throw new SimError(200, "'list' object has no attribute 'split'")
    return raw.split(',')
  }
  return raw
}

function matches (site: Site, o: SimObject, name: string, term: Term): boolean {
  const actual = attribute(site, o, name)
  const { kind, value } = term
  if (kind === 'path' || kind === 'pathindex') return pathMatches(o.path, value as { query: string, depth: number }, kind)
  if (isRecord(value)) return rangeMatches(actual, value)
  if (kind === 'date') return typeof actual === 'number' && minute(actual) === minute((value as Date).getTime())
  if (kind === 'boolean') return actual === value
  if (kind === 'keyword') return Array.isArray(actual) && (value as string[]).some((v) => actual.includes(v))
  if (kind === 'text') return String(value).toLowerCase().split(/\s+/).filter(Boolean).every((w) => String(actual ?? '').toLowerCase().includes(w.replace(/\*$/, '')))
  const wanted = Array.isArray(value) ? value : [value]
  return wanted.some((v) => v === actual)
}

/** ExtendedPathIndex: depth 0 the object, 1 its direct children, -1 / n≥2 the object and what is below; a plain PathIndex ignores depth */
function pathMatches (path: string, q: { query: string, depth: number }, kind: IndexKind): boolean {
  // depth 0 and 1 look the path string up as given (EPI `_index_items` / `_index_parents`): a trailing slash finds nothing
  const given = q.query.startsWith('/') ? q.query : `/${q.query}`
  const base = q.depth === 0 || q.depth === 1 ? given : given.replace(/\/$/, '')
  const below = path.startsWith(`${base}/`) ? path.slice(base.length + 1).split('/').length : path === base ? 0 : -1
  if (below < 0) return false
  if (kind === 'pathindex' || q.depth < 0) return true
  if (q.depth === 0) return below === 0
  if (q.depth === 1) return below === 1
  return below <= q.depth
}

/** DateIndex range records: minute resolution */
function rangeMatches (actual: unknown, record: ZRecord): boolean {
  if (typeof actual !== 'number') return false
  const query = record.attrs.query
  const at = query instanceof Date ? query.getTime() : Date.parse(String(query))
  if (Number.isNaN(at)) return true
  const range = String(record.attrs.range ?? '')
  if (range === 'min') return minute(actual) >= minute(at)
  if (range === 'max') return minute(actual) <= minute(at)
  return minute(actual) === minute(at)
}

const minute = (ms: number): number => Math.floor(ms / 60_000)

/** the objects a catalog holds, in index (insertion) order */
function members (site: Site, catalog: CatalogDef): SimObject[] {
  return [...site.objects.values()].filter((o) => site.catalogsHolding(o).includes(catalog.id))
}

const list = (v: FormValue | undefined): string[] => v === undefined || isRecord(v) ? [] : (Array.isArray(v) ? v : [v]).filter((x) => x !== '')

/** request.get_sort_order */
function sortOrder (v: string | undefined): string {
  if (v === undefined) return 'ascending'
  if (['ASC', 'ascending', 'a', 'asc', 'up', 'high'].includes(v)) return 'ascending'
  if (['DESC', 'descending', 'd', 'desc', 'down', 'low'].includes(v)) return 'descending'
  return v
}
