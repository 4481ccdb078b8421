/**
 * What differs between the layouts, from the sources: where the setup
 * folders live and whether they are AT or Dexterity (SC structure/.objects,
 * 2.6 `add_senaite_setup_items`), which catalog a plain `search` and a
 * `/<type>` route query (JA `catalog.py` at 1.2.4 / 2.4.0 vs 2.5.0), which
 * indexes each catalog has (unknown ones ignored), what a query left with
 * no usable term answers (ZCatalog 4.4 `Catalog.search` vs 3.0), and the
 * shape of query that gives issue 12's observed answer.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { ALL, get, post, simOf, uidAt } from './contract-helpers.js'
import { seedSimulator } from './dataset.js'
import type { RealLayout } from './layouts.js'
import type { SenaiteSimulator } from './simulator.js'

const DEPARTMENTS: Record<RealLayout, string> = { '1.3': 'bika_setup/bika_departments', '2.0-2.4': 'bika_setup/bika_departments', '2.5': 'bika_setup/bika_departments', '2.6': 'setup/departments' }
const enc = encodeURIComponent

describe.each(ALL)('layout %s', (layout) => {
  let sim: SenaiteSimulator
  beforeAll(async () => {
    sim = simOf(layout)
    await seedSimulator(sim, { seed: 4, samples: 6, clients: 2 })
  })

  it('setup folders: departments live where the release puts them, AT before 2.6 and Dexterity in 2.6', async () => {
    const folder = sim.site.atPath(`/senaite/${DEPARTMENTS[layout]}`)!
    expect(folder.portalType).toBe('Departments')
    expect(folder.dexterity === true).toBe(layout === '2.6')
    const other = layout === '2.6' ? '/senaite/bika_setup/bika_departments' : '/senaite/setup/departments'
    expect(sim.site.atPath(other)).toBeUndefined()
    const dept = (await get(sim, 'department?limit=1')).json.items[0]
    expect(dept.parent_path).toBe(`/senaite/${DEPARTMENTS[layout]}`)
    // a traversal by parent_path is exact on every layout
    expect((await post(sim, 'create', { portal_type: 'Department', parent_path: `/senaite/${DEPARTMENTS[layout] === 'setup/departments' ? 'bika_setup/bika_departments' : 'setup/departments'}`, title: 'x' })).json).toMatchObject({ success: false, message: expect.stringMatching(/^No object could be found at /) })
  })

  it('a path-only search for the departments folder: exact where the queried catalog has `path`, nothing where it has not', async () => {
    const r = await get(sim, `search?path=${enc(`/senaite/${DEPARTMENTS[layout]}`)}&depth=0&limit=1`)
    if (layout === '2.5') {
      // jsonapi 2.5: plain search → uid_catalog, which has no path index before core 2.6; ZCatalog ≥4: no usable term, no result
      expect(r.json.count).toBe(0)
    } else {
      // ≤2.4: portal_catalog (has path, holds the AT folder); 2.6: uid_catalog with path, DX folders referenceable
      expect(r.json.count).toBe(1)
      expect(r.json.items[0]).toMatchObject({ path: `/senaite/${DEPARTMENTS[layout]}`, portal_type: 'Departments' })
    }
    // the 2.6 path asked of an older site (the connector's configured layout) finds nothing either
    if (layout !== '2.6') expect((await get(sim, `search?path=${enc('/senaite/setup/departments')}&depth=0&limit=1`)).json.count).toBe(0)
  })

  it('a plain search with no term the catalog can use: portal_catalog (≤2.4) lists everything the caller may view; uid_catalog (2.5, 2.6) nothing', async () => {
    const r = await get(sim, 'search?limit=1&no_such_index=1')
    if (layout === '1.3' || layout === '2.0-2.4') {
      expect(r.json.count).toBeGreaterThan(20)
      expect(r.json.items[0].path).toBe('/senaite/clients')
      // samples and analyses are not in portal_catalog
      const all = await get(sim, 'search?limit=500')
      expect(all.json.items.some((i: { portal_type: string }) => i.portal_type === 'AnalysisRequest' || i.portal_type === 'Analysis')).toBe(false)
    } else {
      expect(r.json.count).toBe(0)
    }
  })

  it('issue 12\'s observed answer — dozens of arbitrary objects, the clients folder first — comes from a search portal_catalog runs with no usable term; a create into items[0] is then refused with the clients folder\'s path', async () => {
    // ≤2.4 a plain search goes there; from 2.5 only `catalog=portal_catalog` does
    const query = layout === '1.3' || layout === '2.0-2.4' ? 'search?container=departments&limit=1' : 'search?catalog=portal_catalog&container=departments&limit=1'
    const r = await get(sim, query)
    expect(r.json.count).toBeGreaterThanOrEqual(12)
    expect(r.json.count).toBeLessThan(100)
    expect(r.json.items[0].path).toBe('/senaite/clients')
    const refused = await post(sim, `create/${r.json.items[0].uid as string}`, { portal_type: 'Department', title: 'Chemistry' })
    expect(refused).toMatchObject({ status: 401, json: { message: "Creation of 'Department' in '/senaite/clients' is not allowed" } })
  })

  it('portal types from several catalogs: ≤2.4 refuses the query (HTTP 200); 2.5+ falls back to uid_catalog, whose brains carry no review_state and ignore path before 2.6', async () => {
    const q = `search?portal_type=Client&portal_type=AnalysisRequest&path=${enc('/senaite/clients/client-1')}&depth=0`
    const r = await get(sim, q)
    if (layout === '1.3' || layout === '2.0-2.4') {
      expect(r).toMatchObject({ status: 200, json: { success: false, message: 'Multi Catalog Queries are not supported!' } })
      return
    }
    if (layout === '2.5') {
      expect(r.json.count).toBe((await get(sim, 'client')).json.count + (await get(sim, 'analysisrequest')).json.count)
    } else {
      expect(r.json.count).toBe(1)
    }
    expect(r.json.items[0].review_state).toBeNull()
    expect(r.json.items[0].created).toBeNull()
  })

  it('indexes: unknown parameters are ignored; ≤2.4 builds terms from portal_catalog\'s indexes, so a sample-catalog index is ignored there', async () => {
    const all = (await get(sim, 'analysisrequest')).json.count as number
    expect((await get(sim, 'analysisrequest?no_such_index=x')).json.count).toBe(all)
    const client = (await get(sim, 'client?limit=1')).json.items[0].uid as string
    const byClient = (await get(sim, `analysisrequest?getClientUID=${client}`)).json.count as number
    const theirs = sim.site.content().filter((o) => o.portalType === 'AnalysisRequest' && o.parentUid === client).length
    expect(byClient).toBe(layout === '2.0-2.4' || layout === '1.3' ? all : theirs)
    // BooleanIndex: bool("false") is True
    expect((await get(sim, 'client?is_active=false')).json.count).toBe((await get(sim, 'client')).json.count)
    // KeywordIndex: a repeated parameter is a list, and a list has no split()
    const kw = layout === '1.3' || layout === '2.0-2.4' ? 'search?object_provides=a&object_provides=b' : 'client?allowedRolesAndUsers=a&allowedRolesAndUsers=b'
    expect((await get(sim, kw)).json).toMatchObject({ success: false, message: "'list' object has no attribute 'split'" })
  })

  it('modified: only the sample catalog indexes it; a range query elsewhere filters nothing, and ≤2.4 cannot sort a setup type on it', async () => {
    const future = 'modified.query:record:date=2999-01-01T00:00:00&modified.range:record=min'
    expect((await get(sim, `analysisrequest?${future}`)).json.count).toBe(0)
    expect((await get(sim, `department?${future}`)).json.count).toBe((await get(sim, 'department')).json.count)
    const sorted = await get(sim, 'department?sort_on=modified')
    if (layout === '1.3' || layout === '2.0-2.4') expect(sorted.json).toMatchObject({ success: false, message: "Unknown sort_on index: 'modified'" })
    else expect(sorted.json.count).toBe((await get(sim, 'department')).json.count) // not an index there: sort_on dropped
    // modified_since exists in no jsonapi release the simulator models: an ignored parameter
    expect((await get(sim, 'analysisrequest?modified_since=2999-01-01')).json.count).toBeGreaterThan(0)
  })

  it('ExtendedPathIndex depth: 0 the object, 1 its children only, -1 the object and everything below', async () => {
    const client = '/senaite/clients/client-1'
    const children = sim.site.children(sim.site.atPath(client)!.uid).filter((o) => o.portalType === 'AnalysisRequest').length
    expect((await get(sim, `analysisrequest?path=${enc(client)}&depth=1`)).json.count).toBe(children)
    expect((await get(sim, `client?path=${enc(client)}&depth=-1`)).json.count).toBe(1)
    expect((await get(sim, `client?path=${enc(client)}&depth=1`)).json.count).toBe(0)
    expect((await get(sim, `client?path=${enc(client)}`)).json.count).toBe(1) // depth defaults to 0
  })

  it('uid_catalog decides what a uid can address: Dexterity folders only once they are referenceable (2.6)', async () => {
    if (layout === '1.3' || layout === '2.0-2.4') return // no DX setup folders here
    const labels = uidAt(sim, 'setup/labels')
    const r = await get(sim, labels)
    if (layout === '2.5') expect(r).toMatchObject({ status: 404, json: { message: 'No object found' } })
    else expect(r.json.path).toBe('/senaite/setup/labels')
  })
})
