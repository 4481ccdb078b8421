/**
 * Contract: reading. Encodes senaite.jsonapi's doctests version.rst and
 * read.rst (tags 1.2.4, 2.4.0, 2.5.0; branch 2.x 63b53377 = 2.5.0 code) and
 * the routes they rest on (`v1/routes/content.py`, `api.get_record`).
 */
import { describe, expect, it } from 'vitest'
import { ALL, clients, get, ids, simOf } from './contract-helpers.js'

const RELEASES = { '1.3': ['1.2.4', '2021-07-23'], '2.0-2.4': ['2.4.0', '2023-03-10'], '2.5': ['2.5.0', '2024-01-03'], '2.6': ['2.6.0', 'unreleased'] } as const

describe.each(ALL)('reading, layout %s', (layout) => {
  it('version.rst: `version` answers url, date, version and _runtime, to anonymous callers too', async () => {
    const sim = simOf(layout)
    for (const headers of [undefined, {}]) {
      const r = await get(sim, 'version', headers)
      expect(r.status).toBe(200)
      expect(Object.keys(r.json).sort()).toEqual(['_runtime', 'date', 'url', 'version'])
      expect(r.json).toMatchObject({ url: 'http://127.0.0.1/senaite/@@API/senaite/v1/version', version: RELEASES[layout][0], date: RELEASES[layout][1] })
    }
    // routes/version.py: the empty path is the same route
    expect((await get(sim, '')).json.version).toBe(RELEASES[layout][0])
  })

  it('read.rst "Get resource objects" / "Get by uid": a resource lists its objects; resource/uid is an envelope of one; a bare uid is the record without items', async () => {
    const sim = simOf(layout)
    await clients(sim, [['Happy Hills', 'HH'], ['ACME', 'AC'], ['Fill the gap', 'FG']])
    const listing = await get(sim, 'client')
    expect(listing.json.count).toBe(3)
    expect(ids(listing)).toEqual(['client-1', 'client-2', 'client-3'])
    const [uid] = await clients(sim, [['Woow', 'WO']])
    const one = await get(sim, `client/${uid!}`)
    expect(one.json.count).toBe(1)
    expect(one.json.items[0].title).toBe('Woow')
    const bare = await get(sim, uid!)
    expect(bare.json.title).toBe('Woow')
    expect(bare.json).not.toHaveProperty('items')
    // the record carries the schema fields by name, and plone.jsonapi.core's _runtime
    expect(bare.json).toMatchObject({ ClientID: 'WO', uid, portal_type: 'Client', path: '/senaite/clients/client-4' })
    expect(typeof bare.json._runtime).toBe('number')
  })

  it('api.get_record / get_search_results: an unknown uid is 404 "No object found" bare, an empty envelope under a resource; the resource is not checked against the type', async () => {
    const sim = simOf(layout)
    const [uid] = await clients(sim, [['ACME', 'AC']])
    const unknown = 'f'.repeat(32)
    expect(await get(sim, unknown)).toMatchObject({ status: 404, json: { success: false, message: 'No object found' } })
    expect((await get(sim, `client/${unknown}`)).json).toMatchObject({ count: 0, items: [] })
    // content.py get(): a client under another type's resource still comes back
    expect((await get(sim, `batch/${uid!}`)).json.items[0].uid).toBe(uid)
  })

  it('routes: an unknown resource is APIError 404 "Not Found"; an unmatched route or method is caught by plone.jsonapi.core at HTTP 200', async () => {
    const sim = simOf(layout)
    expect(await get(sim, 'nosuchtype')).toMatchObject({ status: 404, json: { success: false, message: 'Not Found' } })
    const deep = await get(sim, 'a/b/c')
    expect(deep.status).toBe(200)
    expect(deep.json.success).toBe(false)
    // "0" is the portal's uid (api.is_uid)
    expect((await get(sim, '0')).json).toMatchObject({ uid: '0', path: '/senaite' })
  })

  it('get_batch: plone.batching paging — default 25, next/previous absolute, pages ≥ 1, page capped, bad limit/b_start fall back', async () => {
    const sim = simOf(layout)
    await clients(sim, Array.from({ length: 7 }, (_, i): [string, string] => [`Client ${i}`, `C${i}`]))
    const all = await get(sim, 'client')
    expect(all.json).toMatchObject({ count: 7, pagesize: 25, page: 1, pages: 1, next: null, previous: null })
    const p1 = await get(sim, 'client?limit=3')
    expect(p1.json).toMatchObject({ pages: 3, page: 1, previous: null })
    expect(p1.json.next).toMatch(/^http:\/\/127\.0\.0\.1\/senaite\/@@API\/senaite\/v1\/client\?.*b_start=3/)
    expect((await get(sim, 'client?limit=3&b_start=3')).json.previous).toMatch(/b_start=0/)
    const beyond = await get(sim, 'client?limit=3&b_start=30')
    expect(beyond.json).toMatchObject({ items: [], page: 3, pages: 3 })
    expect((await get(sim, 'client?limit=abc&b_start=-2')).json).toMatchObject({ pagesize: 25, page: 1 })
    expect((await get(sim, `search?portal_type=Client&path=${encodeURIComponent('/senaite/nowhere')}`)).json).toMatchObject({ count: 0, pages: 1, page: 1 })
  })
})
