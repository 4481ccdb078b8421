/**
 * A SENAITE JSON API simulator (Hono) for labmesh's tests. It answers as a
 * site of one layout (layouts.ts): '1.3', '2.0-2.4', '2.5', '2.6' after the
 * sources of senaite.jsonapi / senaite.core, or — for callers that pass the
 * old '2.x' / '1.x' or nothing — the legacy kind simulator, kept only until
 * the connector is fixed for issue 12. See README.md.
 *
 * `createSenaiteSimulator()` returns the app (testable with `app.request()`),
 * start/stop on 127.0.0.1 (HTTP or HTTPS), and the site for assertions.
 */
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import { count, userOf, type RouteEnv, type SimUser } from './context.js'
import { registerLegacyRoutes } from './legacy-routes.js'
import { resolveLayout, type LayoutOption } from './layouts.js'
import { registerAccountRoutes } from './routes-account.js'
import { registerContentRoutes } from './routes-content.js'
import { registerSiteRoutes } from './routes-site.js'
import { catalogIndexes } from './site-model.js'
import { Site } from './site.js'

export type { SimUser } from './context.js'

export interface SimulatorOptions {
  readonly portalId?: string
  /**
   * '1.3' | '2.0-2.4' | '2.5' | '2.6' (real), or '2.x' / '1.x' / nothing:
   * the legacy kind simulator ('2.x-legacy-kind' / '1.x-legacy-kind'),
   * unless SENAITE_SIM_LAYOUT_2X / SENAITE_SIM_LAYOUT_1X name a layout.
   */
  readonly layout?: LayoutOption
  readonly users?: Readonly<Record<string, SimUser>>
  /** newer jsonapi: `modified_since` and sort on modified (legacy layouts only; default true there) */
  readonly modifiedSince?: boolean
  /** LEGACY: core #2752, every catalog indexes `modified` (default false: only the sample catalog) */
  readonly modifiedIndexEverywhere?: boolean
  /** LEGACY: 'status' (default) or 'always200': every error HTTP 200 + success:false */
  readonly errorStyle?: 'status' | 'always200'
  readonly now?: () => number
  /** the `version` route's version (default: the layout's jsonapi release) */
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

/**
 * SENAITE_SIM_INSTANCE_LAYOUT=1.x|2.x: the `instance.layout` the simulated admin chose, which test
 * helpers read from `site.layout` — e.g. '1.x' (bika_setup containers) for a 2.0–2.5 site.
 */
function instanceLayoutOverride (): { instanceLayout?: '1.x' | '2.x' } {
  const v = process.env.SENAITE_SIM_INSTANCE_LAYOUT
  return v === '1.x' || v === '2.x' ? { instanceLayout: v } : {}
}

export function createSenaiteSimulator (options: SimulatorOptions = {}): SenaiteSimulator {
  const portalId = options.portalId ?? 'senaite'
  const now = options.now ?? Date.now
  const site = new Site({ portalId, layout: resolveLayout(options.layout), now, ...instanceLayoutOverride() })
  const legacy = site.profile.legacy
  const modifiedSince = legacy && (options.modifiedSince ?? true)
  const calls = new Map<string, number>()
  let origin = 'http://127.0.0.1'
  let server: ServerType | undefined

  const env: RouteEnv = {
    site,
    users: options.users ?? { labman: { password: 'labman', roles: ['LabManager', 'Member'], groups: ['LabManagers'] } },
    sessions: new Map(),
    calls,
    base: `/${portalId}/@@API/senaite/v1`,
    origin: () => origin,
    always200: options.errorStyle === 'always200',
    modifiedSince,
    version: legacy
      ? { version: options.version ?? (modifiedSince ? '2.6.0' : '2.5.0'), date: 'unreleased' }
      : { version: options.version ?? site.profile.jsonapi.version, date: site.profile.jsonapi.date },
    registry: options.registry ?? { 'senaite.core.show_partitions': true, 'bika.lims.sampling_workflow_enabled': false, 'plone.app.theming.enabled': true },
    settings: options.settings ?? { mail: { smtp_host: 'localhost', email_from_address: 'lab@example.org' }, language: { default_language: 'en' } },
    ...(options.refuse !== undefined ? { refuse: options.refuse } : {})
  }

  const app = new Hono()
  if ((options.readLatencyMs ?? 0) > 0) {
    app.use('*', async (c, next) => {
      if (c.req.method === 'GET') await new Promise((resolve) => setTimeout(resolve, options.readLatencyMs))
      await next()
    })
  }
  app.onError((err, c) => c.json({ success: false, message: err.message, _runtime: 0 }, env.always200 ? 200 : 500))

  // file downloads: <object url>/at_download/<field>; anonymous callers go to the login form
  app.get(`/${portalId}/*`, async (c, next) => {
    const match = /^(.*)\/at_download\/([^/]+)$/.exec(c.req.path)
    if (match === null) return await next()
    count(env, 'GET download')
    if (userOf(env, c) === undefined) return c.redirect(`${origin}/${portalId}/login?came_from=${encodeURIComponent(c.req.path)}`, 302)
    const o = site.atPath(match[1]!)
    const file = o?.fields[match[2]!] as { data?: string, content_type?: string } | undefined
    if (o === undefined || file?.data === undefined) return c.text('Not found', 404)
    return c.body(Buffer.from(file.data, 'base64'), 200, { 'content-type': file.content_type ?? 'application/octet-stream' })
  })

  const api = new Hono()
  if (legacy) {
    registerLegacyRoutes(api, env, catalogIndexes(options.modifiedIndexEverywhere ?? false))
  } else {
    registerSiteRoutes(api, env)
    registerAccountRoutes(api, env)
    registerContentRoutes(api, env)
  }
  app.route(env.base, api)

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
