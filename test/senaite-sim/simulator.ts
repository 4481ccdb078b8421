/**
 * A SENAITE JSON API simulator (Hono) for labmesh's tests. It answers as a
 * site of one layout (layouts.ts): '1.3', '2.0-2.4', '2.5' or '2.6', after
 * the sources of senaite.jsonapi / senaite.core. See README.md.
 *
 * `createSenaiteSimulator()` returns the app (testable with `app.request()`),
 * start/stop on 127.0.0.1 (HTTP or HTTPS), and the site for assertions.
 * Latency per call and fault injection (a create the site fails after making
 * the object, a hook before each write is answered) are test knobs, not
 * SENAITE behaviour.
 */
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import { count, userOf, type RouteEnv, type SimUser } from './context.js'
import { DEFAULT_LAYOUT, type RealLayout } from './layouts.js'
import { registerAccountRoutes } from './routes-account.js'
import { registerContentRoutes, type WriteFaults } from './routes-content.js'
import { registerSiteRoutes } from './routes-site.js'
import { Site } from './site.js'

export type { SimUser } from './context.js'
export type { WriteFaults } from './routes-content.js'

export interface SimulatorOptions {
  readonly portalId?: string
  /** '1.3' | '2.0-2.4' | '2.5' | '2.6' (default '2.6') */
  readonly layout?: RealLayout
  readonly users?: Readonly<Record<string, SimUser>>
  /** 'status' (default): an APIError answers with its status; 'always200': every error HTTP 200 + success:false */
  readonly errorStyle?: 'status' | 'always200'
  readonly now?: () => number
  /** the `version` route's version (default: the layout's jsonapi release) */
  readonly version?: string
  readonly registry?: Readonly<Record<string, unknown>>
  readonly settings?: Readonly<Record<string, Record<string, unknown>>>
  /** fault injection: a validation message for creates/updates this site refuses (400, or 200 with always200) */
  readonly refuse?: (portalType: string, fields: Record<string, unknown>) => string | undefined
  /** fault injection for writes (see WriteFaults) */
  readonly faults?: WriteFaults
  /** answer every GET this much later (a real site takes tens to hundreds of ms per listing) */
  readonly readLatencyMs?: number
  /** answer every POST this much later */
  readonly writeLatencyMs?: number
}

export interface SenaiteSimulator {
  readonly app: Hono
  readonly site: Site
  /** requests per route kind ("GET search", "POST create" …) */
  readonly calls: Map<string, number>
  /** change the latency of later calls (e.g. none while seeding, 25 ms while measuring) */
  setLatency (latency: { readMs?: number, writeMs?: number }): void
  start (options?: { port?: number, tls?: { key: string, cert: string } }): Promise<{ url: string }>
  stop (): Promise<void>
  url (): string
}

/** POSTs the simulator answered that may have changed the site (creates, updates, deletes). */
export function writeCalls (sim: SenaiteSimulator): number {
  return (sim.calls.get('POST create') ?? 0) + (sim.calls.get('POST update') ?? 0) + (sim.calls.get('POST delete') ?? 0)
}

export function createSenaiteSimulator (options: SimulatorOptions = {}): SenaiteSimulator {
  const portalId = options.portalId ?? 'senaite'
  const now = options.now ?? Date.now
  const site = new Site({ portalId, layout: options.layout ?? DEFAULT_LAYOUT, now })
  const calls = new Map<string, number>()
  const latency = { readMs: options.readLatencyMs ?? 0, writeMs: options.writeLatencyMs ?? 0 }
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
    version: { version: options.version ?? site.profile.jsonapi.version, date: site.profile.jsonapi.date },
    registry: options.registry ?? { 'senaite.core.show_partitions': true, 'bika.lims.sampling_workflow_enabled': false, 'plone.app.theming.enabled': true },
    settings: options.settings ?? { mail: { smtp_host: 'localhost', email_from_address: 'lab@example.org' }, language: { default_language: 'en' } },
    ...(options.refuse !== undefined ? { refuse: options.refuse } : {})
  }

  const app = new Hono()
  app.use('*', async (c, next) => {
    const ms = c.req.method === 'GET' ? latency.readMs : latency.writeMs
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
    await next()
  })
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
  registerSiteRoutes(api, env)
  registerAccountRoutes(api, env)
  registerContentRoutes(api, env, options.faults ?? {})
  app.route(env.base, api)

  return {
    app,
    site,
    calls,
    url: () => `${origin}/${portalId}`,
    setLatency (next) {
      if (next.readMs !== undefined) latency.readMs = next.readMs
      if (next.writeMs !== undefined) latency.writeMs = next.writeMs
    },
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
