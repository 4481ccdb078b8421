/**
 * A SENAITE JSON API simulator (Hono) for labmesh's tests: the contract of
 * reference/senaite-jsonapi.md §2, with its quirks — see README.md for what
 * is covered. `createSenaiteSimulator()` returns the app (testable with
 * `app.request()`), start/stop on 127.0.0.1 (HTTP or HTTPS), and direct access
 * to the site for assertions.
 */
import { randomBytes } from 'node:crypto'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { runQuery, isTrue } from './query.js'
import { brainItem, completeItem, type ViewContext } from './serialize.js'
import { Site, SimError, type SimObject } from './site.js'
import { SIM_TYPE_BY_NAME, SIM_TYPE_BY_RESOURCE, catalogIndexes, type Layout } from './site-model.js'

export interface SimUser { readonly password: string, readonly roles: readonly string[], readonly groups?: readonly string[], readonly email?: string }

export interface SimulatorOptions {
  readonly portalId?: string
  readonly layout?: Layout
  readonly users?: Readonly<Record<string, SimUser>>
  /** newer jsonapi: `modified_since` and sort on modified (default true) */
  readonly modifiedSince?: boolean
  /** core #2752: every catalog indexes `modified` (default false: only the sample catalog, as in 2.6) */
  readonly modifiedIndexEverywhere?: boolean
  /** 'status': APIError sets the HTTP status; 'always200': every error is HTTP 200 + success:false */
  readonly errorStyle?: 'status' | 'always200'
  readonly now?: () => number
  readonly version?: string
  readonly registry?: Readonly<Record<string, unknown>>
  readonly settings?: Readonly<Record<string, Record<string, unknown>>>
  /** fault injection: a validation message for creates/updates this site refuses (400, or 200 with always200) */
  readonly refuse?: (portalType: string, fields: Record<string, unknown>) => string | undefined
  /** answer every GET this much later (a real site takes tens to hundreds of ms per listing) */
  readonly readLatencyMs?: number
}

export interface SenaiteSimulator {
  readonly app: Hono
  readonly site: Site
  /** requests per route kind ("GET search", "POST create" …) */
  readonly calls: Map<string, number>
  start (options?: { port?: number, tls?: { key: string, cert: string } }): Promise<{ url: string }>
  stop (): Promise<void>
  url (): string
}

const WRITER_ROLES = new Set(['Manager', 'LabManager'])

export function createSenaiteSimulator (options: SimulatorOptions = {}): SenaiteSimulator {
  const portalId = options.portalId ?? 'senaite'
  const now = options.now ?? Date.now
  const site = new Site({ portalId, layout: options.layout ?? '2.x', now })
  const users = options.users ?? { labman: { password: 'labman', roles: ['LabManager', 'Member'], groups: ['LabManagers'] } }
  const errorStyle = options.errorStyle ?? 'status'
  const modifiedSince = options.modifiedSince ?? true
  const indexes = catalogIndexes(options.modifiedIndexEverywhere ?? false)
  const version = options.version ?? (modifiedSince ? '2.6.0' : '2.5.0')
  const sessions = new Map<string, string>()
  const calls = new Map<string, number>()
  let origin = 'http://127.0.0.1'
  let server: ServerType | undefined

  const base = `/${portalId}/@@API/senaite/v1`
  const app = new Hono()
  if ((options.readLatencyMs ?? 0) > 0) {
    app.use('*', async (c, next) => {
      if (c.req.method === 'GET') await new Promise((resolve) => setTimeout(resolve, options.readLatencyMs))
      await next()
    })
  }

  const userOf = (c: Context): string | undefined => {
    const header = c.req.header('authorization')
    if (header?.startsWith('Basic ') === true) {
      const [name, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')
      const user = name !== undefined ? users[name] : undefined
      return user !== undefined && user.password === rest.join(':') ? name : undefined // wrong credentials: silently anonymous
    }
    const ticket = getCookie(c, '__ac')
    return ticket !== undefined ? sessions.get(ticket) : undefined
  }
  const rolesOf = (name: string | undefined): readonly string[] => name !== undefined ? users[name]?.roles ?? [] : []
  const canWrite = (name: string | undefined): boolean => rolesOf(name).some((r) => WRITER_ROLES.has(r))

  const view = (c: Context, name: string | undefined): ViewContext => ({
    site, siteUrl: `${origin}/${portalId}`, apiUrl: `${origin}${base}`, canModify: canWrite(name)
  })
  const count = (kind: string): void => { calls.set(kind, (calls.get(kind) ?? 0) + 1) }
  const runtime = (start: number): number => Math.round((performance.now() - start) * 1000) / 1e6

  const fail = (c: Context, status: number, message: string, start: number): Response => {
    const code = errorStyle === 'always200' ? 200 : status
    return c.json({ success: false, message, _runtime: runtime(start) }, code as 200)
  }

  const envelope = (c: Context, items: SimObject[], render: (o: SimObject) => Record<string, unknown>, start: number): Response => {
    const params = new URL(c.req.url).searchParams
    const limitRaw = Number(params.get('limit') ?? '25')
    const limit = Number.isInteger(limitRaw) && limitRaw > 0 ? limitRaw : 25
    const startRaw = Number(params.get('b_start') ?? '0')
    const bStart = Number.isInteger(startRaw) && startRaw > 0 ? startRaw : 0
    const page = Math.floor(bStart / limit) + 1
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
    const name = userOf(c)
    if (name === undefined) return envelope(c, [], () => ({}), start) // anonymous callers see nothing
    const params = new URL(c.req.url).searchParams
    const items = runQuery(site, params, forcedTypes, { modifiedSince, indexes, now: now(), layout: site.layout })
    const complete = isTrue(params.get('complete') ?? undefined)
    const options = { workflow: isTrue(params.get('workflow') ?? undefined), filedata: isTrue(params.get('filedata') ?? undefined) }
    const v = view(c, name)
    return envelope(c, items, (o) => complete ? completeItem(v, o, options) : brainItem(v, o), start)
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
    count(`POST ${action}`)
    const name = userOf(c)
    if (!canWrite(name)) return fail(c, 401, 'You are not allowed to access this resource', start)
    try {
      const body = await readBody(c)
      const opts = new URL(c.req.url).searchParams
      const render = (o: SimObject): Record<string, unknown> => completeItem(view(c, name), o, { workflow: isTrue(opts.get('workflow') ?? undefined), filedata: false })
      if (action === 'create') {
        const typeName = resource !== undefined ? SIM_TYPE_BY_RESOURCE.get(resource)?.type : typeof body.portal_type === 'string' ? body.portal_type : undefined
        const type = typeName !== undefined ? SIM_TYPE_BY_NAME.get(typeName) : undefined
        if (type === undefined) throw new SimError(400, `No portal type given or unknown: ${String(typeName ?? resource)}`)
        const container = uid !== undefined ? site.get(uid)
          : typeof body.parent_uid === 'string' ? site.get(body.parent_uid)
            : typeof body.parent_path === 'string' ? site.atPath(body.parent_path) : undefined
        if (container === undefined) throw new SimError(404, 'No object found')
        const refusal = options.refuse?.(type.type, body)
        if (refusal !== undefined) throw new SimError(400, refusal)
        const created = site.create(type, container, body, name!)
        return c.json({ count: 1, items: [render(created)], url: `${origin}${base}/create`, _runtime: runtime(start) })
      }
      const target = uid !== undefined ? site.get(uid)
        : typeof body.uid === 'string' ? site.get(body.uid)
          : typeof body.path === 'string' ? site.atPath(body.path) : undefined
      if (target === undefined) throw new SimError(action === 'update' ? 400 : 404, action === 'update' ? 'No Objects could be updated' : 'No object found')
      const parent = target.parentUid !== null ? site.get(target.parentUid) : undefined
      if (target.folder || target.uid === site.portalUid || parent?.uid === site.portalUid || parent?.path === `/${portalId}/bika_setup`) {
        throw new SimError(401, `You are not allowed to modify '${target.id}'`)
      }
      if (action === 'delete') {
        site.deactivate(target, name!)
        return c.json({ count: 1, items: [render(target)], url: `${origin}${base}/delete`, _runtime: runtime(start) })
      }
      const type = SIM_TYPE_BY_NAME.get(target.portalType)!
      const refusal = options.refuse?.(type.type, body)
      if (refusal !== undefined) throw new SimError(400, refusal)
      site.setFields(target, type, body) // a failed update keeps what it set: fields first, transition last
      if (typeof body.transition === 'string') site.transition(target, body.transition, name!)
      return c.json({ count: 1, items: [render(target)], url: `${origin}${base}/update`, _runtime: runtime(start) })
    } catch (err) {
      if (err instanceof SimError) return fail(c, err.status, err.message, start)
      throw err
    }
  }

  app.onError((err, c) => c.json({ success: false, message: err.message, _runtime: 0 }, errorStyle === 'always200' ? 200 : 500))

  // --- site-level: file downloads --------------------------------------------------------
  app.get(`/${portalId}/*`, async (c, next) => {
    const match = /^(.*)\/at_download\/([^/]+)$/.exec(c.req.path)
    if (match === null) return await next()
    count('GET download')
    const name = userOf(c)
    if (name === undefined) return c.redirect(`${origin}/${portalId}/login?came_from=${encodeURIComponent(c.req.path)}`, 302)
    const o = site.atPath(match[1]!)
    const file = o?.fields[match[2]!] as { data?: string, content_type?: string } | undefined
    if (o === undefined || file?.data === undefined) return c.text('Not found', 404)
    return c.body(Buffer.from(file.data, 'base64'), 200, { 'content-type': file.content_type ?? 'application/octet-stream' })
  })

  // --- API ---------------------------------------------------------------------------------
  const api = new Hono()
  const versionInfo = (c: Context): Response => { count('GET version'); return c.json({ url: `${origin}${base}/version`, version, date: 'unreleased', _runtime: 0.001 }) }
  api.get('/', versionInfo)
  api.get('/version', versionInfo)
  for (const path of ['/auth', '/users/auth']) {
    api.get(path, (c) => userOf(c) === undefined ? c.json({ success: false, message: 'Unauthorized', _runtime: 0 }, 401, { 'WWW-Authenticate': 'basic realm="Zope"' }) : c.json({ url: `${origin}${base}/auth`, success: true }))
  }
  for (const path of ['/login', '/users/login']) {
    api.on(['GET', 'POST'], path, async (c) => {
      const form = c.req.method === 'POST' ? await c.req.parseBody().catch(() => ({})) as Record<string, string> : {}
      const nameParam = c.req.query('__ac_name') ?? form.__ac_name
      const password = c.req.query('__ac_password') ?? form.__ac_password
      const user = nameParam !== undefined ? users[nameParam] : undefined
      if (user === undefined || user.password !== password) return c.json({ count: 0, items: [], url: `${origin}${base}/login` })
      const ticket = randomBytes(16).toString('hex')
      sessions.set(ticket, nameParam!)
      setCookie(c, '__ac', ticket, { path: '/', httpOnly: true })
      return c.json({ count: 1, items: [userItem(nameParam!, true)], url: `${origin}${base}/login` })
    })
  }
  api.get('/logout', (c) => {
    const ticket = getCookie(c, '__ac')
    if (ticket !== undefined) sessions.delete(ticket)
    return c.json({ url: `${origin}${base}/logout`, authenticated: false, success: true })
  })
  const userItem = (name: string, me: boolean): Record<string, unknown> => {
    const u = users[name]!
    return { username: name, roles: u.roles, groups: u.groups ?? [], authenticated: me, email: u.email ?? `${name}@lab.example`, fullname: name, api_url: `${origin}${base}/users/${name}` }
  }
  api.get('/users/current', (c) => {
    count('GET users/current')
    const name = userOf(c)
    return c.json({ count: 1, items: [name !== undefined ? userItem(name, true) : { username: 'Anonymous User', roles: ['Anonymous'], groups: [], authenticated: false }] })
  })
  api.get('/users', (c) => {
    const name = userOf(c)
    const list = name === undefined ? [{ username: 'Anonymous User', authenticated: false }] : Object.keys(users).map((u) => userItem(u, u === name))
    return c.json({ count: list.length, pagesize: 25, page: 1, pages: 1, next: null, previous: null, items: list, _runtime: 0 })
  })
  api.get('/users/:username', (c) => {
    const name = userOf(c)
    const wanted = c.req.param('username')
    if (name === undefined || users[wanted] === undefined) return fail(c, 404, 'No user found', performance.now())
    return c.json({ count: 1, items: [userItem(wanted, wanted === name)] })
  })
  api.get('/catalogs', (c) => c.json({ count: 0, items: Object.entries(indexes).filter(([id]) => id !== 'uid_catalog').map(([id, idx]) => ({ id, indexes: idx })) }))
  api.get('/catalogs/:id', (c) => {
    const idx = indexes[c.req.param('id')]
    return idx === undefined ? fail(c, 200, `No catalog '${c.req.param('id')}'`, performance.now()) : c.json({ id: c.req.param('id'), indexes: idx, schema: [], portal_types: [] })
  })
  const registry = options.registry ?? { 'senaite.core.show_partitions': true, 'bika.lims.sampling_workflow_enabled': false, 'plone.app.theming.enabled': true }
  api.get('/registry', (c) => c.json({ ...registry, url: `${origin}${base}/registry` }))
  api.get('/registry/:key', (c) => c.json({ ...Object.fromEntries(Object.entries(registry).filter(([k]) => k.includes(c.req.param('key')))), url: `${origin}${base}/registry` }))
  const settings = options.settings ?? { mail: { smtp_host: 'localhost', email_from_address: 'lab@example.org' }, language: { default_language: 'en' } }
  api.get('/settings', (c) => c.json({ ...settings, url: `${origin}${base}/settings` }))
  api.get('/settings/:key', (c) => {
    const value = settings[c.req.param('key')]
    return value === undefined ? fail(c, 200, `No settings for '${c.req.param('key')}'`, performance.now()) : c.json({ ...value, url: `${origin}${base}/settings/${c.req.param('key')}` })
  })
  api.get('/search', (c) => { count('GET search'); return listing(c, undefined, performance.now()) })

  for (const action of ['create', 'update', 'delete'] as const) {
    api.post(`/${action}`, async (c) => await write(c, action, undefined, undefined))
    api.post(`/${action}/:uid`, async (c) => await write(c, action, undefined, c.req.param('uid')))
    api.post(`/:resource/${action}`, async (c) => await write(c, action, c.req.param('resource'), undefined))
    api.post(`/:resource/${action}/:uid`, async (c) => await write(c, action, c.req.param('resource'), c.req.param('uid')))
  }
  const overrideRoute = async (c: Context): Promise<Response> => {
    const method = (c.req.header('x-http-method-override') ?? '').toLowerCase()
    const action = method === 'put' || method === 'patch' ? 'update' : method === 'delete' ? 'delete' : undefined
    if (action === undefined) return fail(c, 500, `No such action: ${method || 'POST'}`, performance.now())
    return await write(c, action, c.req.param('resource'), c.req.param('uid'))
  }
  api.post('/:uid{[0-9a-f]{32}}', overrideRoute)
  api.post('/:resource/:uid{[0-9a-f]{32}}', overrideRoute)

  api.get('/:uid{[0-9a-f]{32}}', (c) => {
    count('GET uid')
    const name = userOf(c)
    const o = site.get(c.req.param('uid'))
    if (o === undefined || name === undefined) return fail(c, 404, 'No object found', performance.now())
    return c.json(completeItem(view(c, name), o, { workflow: isTrue(c.req.query('workflow')), filedata: isTrue(c.req.query('filedata')) }))
  })
  api.get('/:resource/:uid{[0-9a-f]{32}}', (c) => {
    count('GET resource/uid')
    const start = performance.now()
    const type = SIM_TYPE_BY_RESOURCE.get(c.req.param('resource'))
    const o = site.get(c.req.param('uid'))
    const name = userOf(c)
    if (type === undefined || o === undefined || o.portalType !== type.type || name === undefined) return fail(c, 404, 'No object found', start)
    return envelope(c, [o], (x) => completeItem(view(c, name), x, { workflow: isTrue(c.req.query('workflow')), filedata: isTrue(c.req.query('filedata')) }), start)
  })
  api.get('/:resource', (c) => {
    const start = performance.now()
    const type = SIM_TYPE_BY_RESOURCE.get(c.req.param('resource'))
    if (type === undefined) return fail(c, 200, `Unknown resource '${c.req.param('resource')}'`, start) // unknown routes: HTTP 200, success false
    count(`GET ${type.type}`)
    if (isTrue(c.req.query('complete'))) count(`GET ${type.type} complete`)
    return listing(c, [type.type], start)
  })
  api.all('*', (c) => fail(c, 200, `No route for ${c.req.method} ${c.req.path}`, performance.now()))
  app.route(base, api)

  return {
    app,
    site,
    calls,
    url: () => `${origin}/${portalId}`,
    async start (startOptions = {}) {
      const tls = startOptions.tls
      server = await new Promise<ServerType>((resolve) => {
        const s = serve({
          fetch: app.fetch,
          hostname: '127.0.0.1',
          port: startOptions.port ?? 0,
          ...(tls !== undefined ? { createServer: createHttpsServer, serverOptions: { key: tls.key, cert: tls.cert } } : {})
        }, (info: AddressInfo) => {
          origin = `${tls !== undefined ? 'https' : 'http'}://127.0.0.1:${info.port}`
          resolve(s)
        })
      })
      return { url: `${origin}/${portalId}` }
    },
    async stop () {
      const s = server
      server = undefined
      if (s === undefined) return
      await new Promise<void>((resolve) => {
        s.close(() => resolve())
        if ('closeAllConnections' in s && typeof s.closeAllConnections === 'function') s.closeAllConnections()
      })
    }
  }
}
