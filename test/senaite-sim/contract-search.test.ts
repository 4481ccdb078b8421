/**
 * Contract: searching. Encodes senaite.jsonapi's doctest search.rst (tags
 * 1.2.4 for the 1.3 layout, 2.4.0 for 2.0–2.4, 2.5.0 for 2.5 and 2.6) —
 * three clients and two sample types, filters, sorting, limits and the
 * `catalog=` parameter.
 */
import { describe, expect, it } from 'vitest'
import { ALL, clients, get, ids, post, sampleTypeRecord, simOf, uidAt, containerOf } from './contract-helpers.js'
import type { RealLayout } from './layouts.js'
import type { SenaiteSimulator } from './simulator.js'

async function initData (layout: RealLayout): Promise<SenaiteSimulator> {
  const sim = simOf(layout)
  await clients(sim, [['Happy Hills', 'HH'], ['ACME', 'AC'], ['Fill the gap', 'FG']])
  for (const [title, prefix] of [['Water', 'W'], ['Dust', 'D']] as const) {
    const r = await post(sim, `sampletype/create/${uidAt(sim, containerOf(sim, 'SampleType'))}`, sampleTypeRecord(layout, title, prefix))
    expect(r.json.items?.[0]?.uid, JSON.stringify(r.json)).toBeDefined()
  }
  return sim
}

describe.each(ALL)('search.rst, layout %s', (layout) => {
  it('"Basic search": a resource lists its type; index parameters filter (id, getName)', async () => {
    const sim = await initData(layout)
    const all = await get(sim, 'client')
    expect(all.json.count).toBe(3)
    expect(ids(all)).toEqual(['client-1', 'client-2', 'client-3'])
    expect(ids(await get(sim, 'client?id=client-1'))).toEqual(['client-1'])
    const acme = await get(sim, 'client?getName=ACME')
    expect(acme.json.count).toBe(1)
    expect(ids(acme)).toEqual(['client-2'])
  })

  it('"Sort and limit": sort_on an index, sort_order asc/desc, limit', async () => {
    const sim = await initData(layout)
    expect(ids(await get(sim, 'client?sort_on=id&sort_order=asc'), false)).toEqual(['client-1', 'client-2', 'client-3'])
    expect(ids(await get(sim, 'client?sort_on=id&sort_order=desc'), false)).toEqual(['client-3', 'client-2', 'client-1'])
    expect(ids(await get(sim, 'client?sort_on=id&sort_order=desc&limit=2'), false)).toEqual(['client-3', 'client-2'])
  })

  it('"Search without resource": search?portal_type= with filters and sorting', async () => {
    const sim = await initData(layout)
    expect(ids(await get(sim, 'search?portal_type=Client'))).toEqual(['client-1', 'client-2', 'client-3'])
    expect(ids(await get(sim, 'search?portal_type=Client&getName=ACME'))).toEqual(['client-2'])
    expect(ids(await get(sim, 'search?portal_type=Client&sort_on=id&sort_order=desc&limit=2'), false)).toEqual(['client-3', 'client-2'])
  })

  it('"Catalog search": catalog= picks the catalog; one that does not hold the type answers an empty list, not an error', async () => {
    const sim = await initData(layout)
    expect(ids(await get(sim, 'sampletype'))).toEqual(['sampletype-1', 'sampletype-2'])
    if (layout === '1.3') {
      // 1.2.4 doctest: SampleTypes are in portal_catalog and bika_setup_catalog, not in bika_catalog
      expect(ids(await get(sim, 'sampletype?catalog=portal_catalog'))).toEqual(['sampletype-1', 'sampletype-2'])
      expect(ids(await get(sim, 'sampletype?catalog=bika_setup_catalog'))).toEqual(['sampletype-1', 'sampletype-2'])
      expect(ids(await get(sim, 'sampletype?catalog=bika_catalog'))).toEqual([])
      return
    }
    // 2.4.0 doctest: also in portal_catalog; 2.5.0 dropped that line (core #2368 stops indexing setup types there)
    if (layout === '2.0-2.4') expect(ids(await get(sim, 'sampletype?catalog=portal_catalog'))).toEqual(['sampletype-1', 'sampletype-2'])
    else expect(ids(await get(sim, 'sampletype?catalog=portal_catalog'))).toEqual([])
    expect(ids(await get(sim, 'sampletype?catalog=senaite_catalog_setup'))).toEqual(['sampletype-1', 'sampletype-2'])
    expect(ids(await get(sim, 'sampletype?catalog=senaite_catalog'))).toEqual([])
  })
})
