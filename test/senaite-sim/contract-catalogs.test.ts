/**
 * Contract: the catalogs route. Encodes senaite.jsonapi's doctest
 * catalogs.rst (tag 1.2.4 shows portal_catalog, 2.5.0
 * senaite_catalog_analysis) and `v1/routes/catalogs.py` (uid_catalog and
 * reference_catalog hidden from the list but reachable by id; an unknown id
 * fails in bika.lims.api.get_tool at HTTP 200).
 */
import { describe, expect, it } from 'vitest'
import { ALL, get, simOf } from './contract-helpers.js'

describe.each(ALL)('catalogs.rst, layout %s', (layout) => {
  it('"Get all catalogs": a batched list with indexes, schema and portal_types; internal catalogs left out', async () => {
    const sim = simOf(layout)
    const r = await get(sim, 'catalogs')
    const ids = r.json.items.map((c: { id: string }) => c.id)
    expect(ids).toContain('portal_catalog')
    expect(ids).not.toContain('uid_catalog')
    expect(ids).not.toContain('reference_catalog')
    expect(r.json).toMatchObject({ count: ids.length, url: 'http://127.0.0.1/senaite/@@API/senaite/v1/catalogs' })
    if (layout === '1.3') {
      const portal = r.json.items.find((c: { id: string }) => c.id === 'portal_catalog')
      // 1.2.4: sorted(indexes) starts [Analyst, Creator, Date, ...]; sorted(schema) [Analyst, CreationDate, Creator, ...]
      expect(portal.indexes.slice(0, 3)).toEqual(['Analyst', 'Creator', 'Date'])
      expect(portal.schema.slice(0, 3)).toEqual(['Analyst', 'CreationDate', 'Creator'])
      expect(ids).toEqual(expect.arrayContaining(['bika_setup_catalog', 'bika_catalog', 'bika_analysis_catalog']))
      return
    }
    const analysis = r.json.items.find((c: { id: string }) => c.id === 'senaite_catalog_analysis')
    expect(analysis.portal_types).toEqual(['Analysis', 'DuplicateAnalysis', 'ReferenceAnalysis', 'RejectAnalysis'])
  })

  it('"Get a single catalog": a bare dict by id, uid_catalog included; an unknown id is "No tool named … found." at HTTP 200', async () => {
    const sim = simOf(layout)
    const id = layout === '1.3' ? 'portal_catalog' : 'senaite_catalog_analysis'
    const one = await get(sim, `catalogs/${id}`)
    expect(Object.keys(one.json).sort()).toEqual(['_runtime', 'id', 'indexes', 'portal_types', 'schema'])
    if (layout !== '1.3') expect(one.json.portal_types).toEqual(['Analysis', 'DuplicateAnalysis', 'ReferenceAnalysis', 'RejectAnalysis'])
    const uid = await get(sim, 'catalogs/uid_catalog')
    // Archetypes install_uidcatalog: UID, Type, id, Title, portal_type; core 2.6 (upgrade 2609) adds path
    expect(uid.json.indexes).toEqual(layout === '2.6' ? ['Title', 'Type', 'UID', 'id', 'path', 'portal_type'] : ['Title', 'Type', 'UID', 'id', 'portal_type'])
    expect(await get(sim, 'catalogs/no_such_catalog')).toMatchObject({ status: 200, json: { success: false, message: "No tool named 'no_such_catalog' found." } })
  })
})
