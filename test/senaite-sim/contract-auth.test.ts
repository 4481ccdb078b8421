/**
 * Contract: authentication and users. Encodes senaite.jsonapi's doctests
 * auth.rst and users.rst (tags 1.2.4 — which logs out via users/logout —
 * 2.4.0, 2.5.0) and `v1/routes/users.py` for what a caller without valid
 * credentials gets: PAS treats wrong credentials as anonymous, so nothing
 * answers 401 except `auth` (and `login` with wrong credentials).
 */
import { describe, expect, it } from 'vitest'
import { ALL, BASIC, clients, get, post, simOf } from './contract-helpers.js'

const USERS = { labman: { password: 'labman', roles: ['LabManager', 'Member'] }, test_analyst_0: { password: 'a', roles: ['Analyst', 'Member'], groups: ['Analysts'] } }
const WRONG = { authorization: `Basic ${Buffer.from('labman:nope').toString('base64')}` }

describe.each(ALL)('auth.rst / users.rst, layout %s', (layout) => {
  it('auth.rst "Login" / "Logout": login sets the session cookie and answers the user; auth is {} then; after logout auth is 401', async () => {
    const sim = simOf(layout, { users: USERS })
    const login = await sim.app.request('/senaite/@@API/senaite/v1/login?__ac_name=labman&__ac_password=labman')
    const body = await login.text()
    expect(body).toContain('"authenticated":true')
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
    expect(cookie).toMatch(/^__ac=/)
    const auth = await get(sim, 'auth', { cookie })
    expect(auth.status).toBe(200)
    expect(Object.keys(auth.json)).toEqual(['_runtime'])
    const logout = await get(sim, layout === '1.3' ? 'users/logout' : 'logout', { cookie })
    expect(logout.json).toMatchObject({ url: 'http://127.0.0.1/senaite/@@API/senaite/v1/users', authenticated: false, success: true })
    const after = await get(sim, 'auth', { cookie })
    expect(after.status).toBe(401)
    expect(after.headers.get('www-authenticate')).toBe('basic realm="JSONAPI AUTH"')
    expect(Object.keys(after.json)).toEqual(['_runtime'])
  })

  it('users.rst: users lists every user with roles and groups; users/current is one item; users/<name> that user', async () => {
    const sim = simOf(layout, { users: USERS })
    const all = await get(sim, 'users')
    expect(all.json.items.map((u: { username: string }) => u.username).sort()).toEqual(['labman', 'test_analyst_0'])
    const analyst = all.json.items.find((u: { username: string }) => u.username === 'test_analyst_0')
    expect([...analyst.roles].sort()).toEqual(['Analyst', 'Authenticated', 'Member'])
    expect([...analyst.groups].sort()).toEqual(['Analysts', 'AuthenticatedUsers'])
    expect(Object.keys(analyst)).toEqual(expect.arrayContaining(['api_url', 'authenticated', 'description', 'email']))
    const current = await get(sim, 'users/current')
    expect(current.json.count).toBe(1)
    expect(current.json.items[0]).toMatchObject({ username: 'labman', authenticated: true })
    expect((await get(sim, 'users/test_analyst_0')).text).toContain('"username":"test_analyst_0"')
    // a batched envelope, as `search`
    expect(Object.keys(current.json).sort()).toEqual(['_runtime', 'count', 'items', 'next', 'page', 'pages', 'pagesize', 'previous'])
  })

  it('users.py / PAS: wrong credentials are anonymous — users/current says so, content lists are empty, auth is 401; users/<other> collapses to current', async () => {
    const sim = simOf(layout, { users: USERS })
    await clients(sim, [['ACME', 'AC']])
    const me = await get(sim, 'users/current', WRONG)
    expect(me.status).toBe(200)
    expect(me.json.items[0]).toEqual({ username: 'Anonymous User', authenticated: false, roles: ['Anonymous'], api_url: 'http://127.0.0.1/senaite/@@API/senaite/v1/users/current' })
    expect((await get(sim, 'users/labman', WRONG)).json.items[0].username).toBe('Anonymous User')
    expect(await get(sim, 'client', WRONG)).toMatchObject({ status: 200, json: { count: 0 } })
    expect((await get(sim, 'auth', WRONG)).status).toBe(401)
    expect((await get(sim, 'client')).json.count).toBe(1) // and right ones see it
  })

  it('users.py login: missing parameters 400, wrong credentials 401 "Invalid Credentials"', async () => {
    const sim = simOf(layout, { users: USERS })
    expect(await get(sim, 'login?__ac_password=x', {})).toMatchObject({ status: 400, json: { message: '__ac_name is missing' } })
    expect(await get(sim, 'login?__ac_name=labman', {})).toMatchObject({ status: 400, json: { message: '__ac_password is missing' } })
    expect(await get(sim, 'login?__ac_name=labman&__ac_password=nope', {})).toMatchObject({ status: 401, json: { success: false, message: 'Invalid Credentials' } })
  })

  it('api.create_object / update_object_with_data: an anonymous write is refused by the first field it sets (401), and leaves nothing', async () => {
    const sim = simOf(layout, { users: USERS })
    const clientsFolder = sim.site.atPath('/senaite/clients')!.uid
    const r = await post(sim, `client/create/${clientsFolder}`, { title: 'Sneaky', ClientID: 'SN' }, WRONG)
    expect(r).toMatchObject({ status: 401, json: { success: false, message: "Not allowed to set the field 'title'" } })
    expect((await get(sim, 'client', { authorization: BASIC })).json.count).toBe(0)
  })
})
