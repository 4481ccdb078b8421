/**
 * LEGACY (2.x-legacy-kind / 1.x-legacy-kind only): the routes of today's
 * kind simulator, unchanged in behaviour — kept so the connector's
 * integration tests pass until the connector is fixed for issue 12, then
 * removed with these layouts. Real layouts use routes-*.ts.
 */
import { randomBytes } from 'node:crypto'
import type { Context, Hono } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { canWrite, count, fail, runtime, userOf, view, type RouteEnv } from './context.js'
import { SimError } from './errors.js'
import { isTrue } from './form.js'
import { runLegacyQuery } from './legacy-query.js'
import { legacyBrainItem, legacyCompleteItem } from './legacy-serialize.js'
import { SIM_TYPE_BY_NAME, SIM_TYPE_BY_RESOURCE } from './site-model.js'
import type { SimObject } from './site.js'

export function registerLegacyRoutes (api: Hono, env: RouteEnv, indexes: Record<string, string[]>): void {
  const { site, users, base } = env
  const q = (c: Context, key: string): string | undefined => c.req.query(key)

  const envelope = (c: Context, items: SimObject[], render: (o: SimObject) => Record<string, unknown>, start: number): Response => {
    const params = new URL(c.req.url).searchParams
    const limitRaw = Number(params.get('limit') ?? '25')
    const limit = Number.isInteger(limitRaw) && limitRaw > 0 ? limitRaw : 25
    const startRaw = Number(params.get('b_start') ?? '0')
    const bStart = Number.isInteger(startRaw) && startRaw > 0 ? startRaw : 0
    const page = Math.floor(bStart / limit) + 1
    const origin = env.origin()
    const pageUrl = (b: number): string => { const u = new URL(c.req.url); u.protocol = new URL(origin).protocol; u.host = new URL(origin).host; u.searchParams.set('b_start', String(b)); return u.toString() }
    return c.json({
      count: items.length,
      pagesize: limit,
      page,
      pages: Math.max(1, Math.ceil(items.length / limit)),
      next: bStart + limit < items.length ? pageUrl(page * limit) : null,
      previous: bStart > 0 ? pageUrl(Math.max(0, bStart - limit)) : null,
      items: items.slice(bStart, bStart + limit).map(render),
      _runtime: runtime(start)
    })
  }

  const listing = (c: Context, forcedTypes: string[] | undefined, start: number): Response => {
    const name = userOf(env, c)
    if (name === undefined) return envelope(c, [], () => ({}), start) // anonymous callers see nothing
    const params = new URL(c.req.url).searchParams
    const items = runLegacyQuery(site, params, forcedTypes, { modifiedSince: env.modifiedSince, indexes, now: site.now(), layout: site.layout })
    const complete = isTrue(q(c, 'complete'))
    const options = { workflow: isTrue(q(c, 'workflow')), filedata: isTrue(q(c, 'filedata')) }
    const v = view(env, name)
    return envelope(c, items, (o) => complete ? legacyCompleteItem(v, o, options) : legacyBrainItem(v, o), start)
  }

  const readBody = async (c: Context): Promise<Record<string, unknown>> => {
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      throw new SimError(400, 'Request body is not valid JSON')
    }
    if (Array.isArray(body)) throw new SimError(200, "'list' object has no attribute 'update'") // one object per request
    if (typeof body !== 'object' || body === null) throw new SimError(400, 'Request body must be a JSON object')
    return body as Record<string, unknown>
  }

  const write = async (c: Context, action: 'create' | 'update' | 'delete', resource: string | undefined, uid: string | undefined): Promise<Response> => {
    const start = performance.now()
    count(env, `POST ${action}`)
    const name = userOf(env, c)
    if (!canWrite(env, name)) return fail(env, c, 401, 'You are not allowed to access this resource', start)
    try {
      const body = await readBody(c)
      const render = (o: SimObject): Record<string, unknown> => legacyCompleteItem(view(env, name), o, { workflow: isTrue(q(c, 'workflow')), filedata: false })
      const origin = env.origin()
      if (action === 'create') {
        const typeName = resource !== undefined ? SIM_TYPE_BY_RESOURCE.get(resource)?.type : typeof body.portal_type === 'string' ? body.portal_type : undefined
        const type = typeName !== undefined ? SIM_TYPE_BY_NAME.get(typeName) : undefined
        if (type === undefined) throw new SimError(400, `No portal type given or unknown: ${String(typeName ?? resource)}`)
        const container = uid !== undefined ? site.get(uid)
          : typeof body.parent_uid === 'string' ? site.get(body.parent_uid)
            : typeof body.parent_path === 'string' ? site.atPath(body.parent_path) : undefined
        if (container === undefined) throw new SimError(404, 'No object found')
        const refusal = env.refuse?.(type.type, body)
        if (refusal !== undefined) throw new SimError(400, refusal)
        const created = site.create(type, container, body, name!)
        return c.json({ count: 1, items: [render(created)], url: `${origin}${base}/create`, _runtime: runtime(start) })
      }
      const target = uid !== undefined ? site.get(uid)
        : typeof body.uid === 'string' ? site.get(body.uid)
          : typeof body.path === 'string' ? site.atPath(body.path) : undefined
      if (target === undefined) throw new SimError(action === 'update' ? 400 : 404, action === 'update' ? 'No Objects could be updated' : 'No object found')
      const parent = target.parentUid !== null ? site.get(target.parentUid) : undefined
      if (target.folder || target.uid === site.portalUid || parent?.uid === site.portalUid || parent?.path === `/${site.portalId}/bika_setup`) {
        throw new SimError(401, `You are not allowed to modify '${target.id}'`)
      }
      if (action === 'delete') {
        site.deactivate(target, name!)
        return c.json({ count: 1, items: [render(target)], url: `${origin}${base}/delete`, _runtime: runtime(start) })
      }
      const type = SIM_TYPE_BY_NAME.get(target.portalType)!
      const refusal = env.refuse?.(type.type, body)
      if (refusal !== undefined) throw new SimError(400, refusal)
      site.setFields(target, type, body) // a failed update keeps what it set: fields first, transition last
      if (typeof body.transition === 'string') site.transition(target, body.transition, name!)
      return c.json({ count: 1, items: [render(target)], url: `${origin}${base}/update`, _runtime: runtime(start) })
    } catch (err) {
      if (err instanceof SimError) return fail(env, c, err.status, err.message, start)
      throw err
    }
  }

  const versionInfo = (c: Context): Response => { count(env, 'GET version'); return c.json({ url: `${env.origin()}${base}/version`, version: env.version.version, date: 'unreleased', _runtime: 0.001 }) }
  api.get('/', versionInfo)
  api.get('/version', versionInfo)
  for (const path of ['/auth', '/users/auth']) {
    api.get(path, (c) => userOf(env, c) === undefined ? c.json({ success: false, message: 'Unauthorized', _runtime: 0 }, 401, { 'WWW-Authenticate': 'basic realm="Zope"' }) : c.json({ url: `${env.origin()}${base}/auth`, success: true }))
  }
  for (const path of ['/login', '/users/login']) {
    api.on(['GET', 'POST'], path, async (c) => {
      const form = c.req.method === 'POST' ? await c.req.parseBody().catch(() => ({})) as Record<string, string> : {}
      const nameParam = c.req.query('__ac_name') ?? form.__ac_name
      const password = c.req.query('__ac_password') ?? form.__ac_password
      const user = nameParam !== undefined ? users[nameParam] : undefined
      if (user === undefined || user.password !== password) return c.json({ count: 0, items: [], url: `${env.origin()}${base}/login` })
      const ticket = randomBytes(16).toString('hex')
      env.sessions.set(ticket, nameParam!)
      setCookie(c, '__ac', ticket, { path: '/', httpOnly: true })
      return c.json({ count: 1, items: [userItem(nameParam!, true)], url: `${env.origin()}${base}/login` })
    })
  }
  api.get('/logout', (c) => {
    const ticket = getCookie(c, '__ac')
    if (ticket !== undefined) env.sessions.delete(ticket)
    return c.json({ url: `${env.origin()}${base}/logout`, authenticated: false, success: true })
  })
  const userItem = (name: string, me: boolean): Record<string, unknown> => {
    const u = users[name]!
    return { username: name, roles: u.roles, groups: u.groups ?? [], authenticated: me, email: u.email ?? `${name}@lab.example`, fullname: name, api_url: `${env.origin()}${base}/users/${name}` }
  }
  api.get('/users/current', (c) => {
    count(env, 'GET users/current')
    const name = userOf(env, c)
    return c.json({ count: 1, items: [name !== undefined ? userItem(name, true) : { username: 'Anonymous User', roles: ['Anonymous'], groups: [], authenticated: false }] })
  })
  api.get('/users', (c) => {
    const name = userOf(env, c)
    const list = name === undefined ? [{ username: 'Anonymous User', authenticated: false }] : Object.keys(users).map((u) => userItem(u, u === name))
    return c.json({ count: list.length, pagesize: 25, page: 1, pages: 1, next: null, previous: null, items: list, _runtime: 0 })
  })
  api.get('/users/:username', (c) => {
    const name = userOf(env, c)
    const wanted = c.req.param('username')
    if (name === undefined || users[wanted] === undefined) return fail(env, c, 404, 'No user found', performance.now())
    return c.json({ count: 1, items: [userItem(wanted, wanted === name)] })
  })
  api.get('/catalogs', (c) => c.json({ count: 0, items: Object.entries(indexes).filter(([id]) => id !== 'uid_catalog').map(([id, idx]) => ({ id, indexes: idx })) }))
  api.get('/catalogs/:id', (c) => {
    const idx = indexes[c.req.param('id')]
    return idx === undefined ? fail(env, c, 200, `No catalog '${c.req.param('id')}'`, performance.now()) : c.json({ id: c.req.param('id'), indexes: idx, schema: [], portal_types: [] })
  })
  api.get('/registry', (c) => c.json({ ...env.registry, url: `${env.origin()}${base}/registry` }))
  api.get('/registry/:key', (c) => c.json({ ...Object.fromEntries(Object.entries(env.registry).filter(([k]) => k.includes(c.req.param('key')))), url: `${env.origin()}${base}/registry` }))
  api.get('/settings', (c) => c.json({ ...env.settings, url: `${env.origin()}${base}/settings` }))
  api.get('/settings/:key', (c) => {
    const value = env.settings[c.req.param('key')]
    return value === undefined ? fail(env, c, 200, `No settings for '${c.req.param('key')}'`, performance.now()) : c.json({ ...value, url: `${env.origin()}${base}/settings/${c.req.param('key')}` })
  })
  api.get('/search', (c) => { count(env, 'GET search'); return listing(c, undefined, performance.now()) })

  for (const action of ['create', 'update', 'delete'] as const) {
    api.post(`/${action}`, async (c) => await write(c, action, undefined, undefined))
    api.post(`/${action}/:uid`, async (c) => await write(c, action, undefined, c.req.param('uid')))
    api.post(`/:resource/${action}`, async (c) => await write(c, action, c.req.param('resource'), undefined))
    api.post(`/:resource/${action}/:uid`, async (c) => await write(c, action, c.req.param('resource'), c.req.param('uid')))
  }
  const overrideRoute = async (c: Context): Promise<Response> => {
    const method = (c.req.header('x-http-method-override') ?? '').toLowerCase()
    const action = method === 'put' || method === 'patch' ? 'update' : method === 'delete' ? 'delete' : undefined
    if (action === undefined) return fail(env, c, 500, `No such action: ${method || 'POST'}`, performance.now())
    return await write(c, action, c.req.param('resource'), c.req.param('uid'))
  }
  api.post('/:uid{[0-9a-f]{32}}', overrideRoute)
  api.post('/:resource/:uid{[0-9a-f]{32}}', overrideRoute)

  api.get('/:uid{[0-9a-f]{32}}', (c) => {
    count(env, 'GET uid')
    const name = userOf(env, c)
    const o = site.get(c.req.param('uid'))
    if (o === undefined || name === undefined) return fail(env, c, 404, 'No object found', performance.now())
    return c.json(legacyCompleteItem(view(env, name), o, { workflow: isTrue(q(c, 'workflow')), filedata: isTrue(q(c, 'filedata')) }))
  })
  api.get('/:resource/:uid{[0-9a-f]{32}}', (c) => {
    count(env, 'GET resource/uid')
    const start = performance.now()
    const type = SIM_TYPE_BY_RESOURCE.get(c.req.param('resource'))
    const o = site.get(c.req.param('uid'))
    const name = userOf(env, c)
    if (type === undefined || o === undefined || o.portalType !== type.type || name === undefined) return fail(env, c, 404, 'No object found', start)
    return envelope(c, [o], (x) => legacyCompleteItem(view(env, name), x, { workflow: isTrue(q(c, 'workflow')), filedata: isTrue(q(c, 'filedata')) }), start)
  })
  api.get('/:resource', (c) => {
    const start = performance.now()
    const type = SIM_TYPE_BY_RESOURCE.get(c.req.param('resource'))
    if (type === undefined) return fail(env, c, 200, `Unknown resource '${c.req.param('resource')}'`, start) // unknown routes: HTTP 200, success false
    count(env, `GET ${type.type}`)
    if (isTrue(q(c, 'complete'))) count(env, `GET ${type.type} complete`)
    return listing(c, [type.type], start)
  })
  api.all('*', (c) => fail(env, c, 200, `No route for ${c.req.method} ${c.req.path}`, performance.now()))
}
