/**
 * Site-level routes of a real layout (JA 2.5.0 `v1/routes/version.py`,
 * `catalogs.py`, `registry.py`, `settings.py`): `version` (also the empty
 * path), `catalogs` (batched, uid_catalog and reference_catalog hidden;
 * `catalogs/<id>` a bare dict that also works for uid_catalog, an unknown id
 * "No tool named '<id>' found." at HTTP 200), `registry` (one item holding
 * every matching record) and `settings` (one item per control panel; an
 * unknown key is a KeyError at HTTP 200).
 */
import type { Context, Hono } from 'hono'
import type { CatalogDef } from './catalogs.js'
import { answer, count, fail, type RouteEnv } from './context.js'
import { MODELLED_TYPES } from './types.js'

export function registerSiteRoutes (api: Hono, env: RouteEnv): void {
  const { site, base } = env

  const version = (c: Context): Response => {
    count(env, 'GET version')
    return answer(c, { url: `${env.origin()}${base}/version`, version: env.version.version, date: env.version.date }, performance.now())
  }
  api.get('/', version)
  api.get('/version', version)

  /** portal_types from archetype_tool.listCatalogs(): the AT types mapped to the catalog */
  const catalogInfo = (cat: CatalogDef): Record<string, unknown> => ({
    id: cat.id,
    indexes: Object.keys(cat.indexes).sort(),
    schema: [...cat.columns].sort(),
    portal_types: MODELLED_TYPES
      .filter((t) => site.spec(t)?.dexterity === false && site.spec(t)?.catalogs.includes(cat.id) === true)
      // the analysis types the simulator does not model, mapped there too (catalogs.rst)
      .concat(cat.id === 'senaite_catalog_analysis' || cat.id === 'bika_analysis_catalog' ? ['DuplicateAnalysis', 'ReferenceAnalysis', 'RejectAnalysis'] : [])
      .sort()
  })
  api.get('/catalogs', (c) => {
    const start = performance.now()
    const records = [...site.catalogs.values()].filter((cat) => cat.id !== 'uid_catalog').map(catalogInfo)
    return answer(c, { pagesize: 25, next: null, previous: null, page: 1, pages: 1, count: records.length, items: records, url: `${env.origin()}${base}/catalogs` }, start)
  })
  api.get('/catalogs/:id', (c) => {
    const start = performance.now()
    const cat = site.catalogs.get(c.req.param('id'))
    if (cat === undefined) return fail(env, c, 200, `No tool named '${c.req.param('id')}' found.`, start)
    return answer(c, catalogInfo(cat), start)
  })

  const registry = (c: Context, key: string | undefined): Response => {
    const records = Object.fromEntries(Object.entries(env.registry).filter(([k]) => key === undefined || k.toLowerCase().includes(key.toLowerCase())))
    const n = Object.keys(records).length
    return answer(c, { pagesize: 25, next: null, previous: null, page: 1, pages: 1, count: n, items: [records], url: `${env.origin()}${base}/registry${key !== undefined ? `/${key}` : ''}` }, performance.now())
  }
  api.get('/registry', (c) => registry(c, undefined))
  api.get('/registry/:key', (c) => registry(c, c.req.param('key')))

  const settings = (c: Context, key: string | undefined): Response => {
    const start = performance.now()
    if (key !== undefined && env.settings[key] === undefined) return fail(env, c, 200, `'${key}'`, start)
    const keys = key !== undefined ? [key] : Object.keys(env.settings)
    const items = keys.map((k) => ({ [k]: env.settings[k], api_url: `${env.origin()}${base}/settings/${k}` }))
    return answer(c, { pagesize: 25, next: null, previous: null, page: 1, pages: 1, count: items.length, items, url: `${env.origin()}${base}/settings${key !== undefined ? `/${key}` : ''}` }, start)
  }
  api.get('/settings', (c) => settings(c, undefined))
  api.get('/settings/:key', (c) => settings(c, c.req.param('key')))
}
