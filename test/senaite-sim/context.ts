/**
 * What every route of the simulated API shares: the site, the users and who
 * is calling, the request counters, and the envelopes plone.jsonapi.core
 * wraps answers in (`_runtime` on every dict answer; errors as
 * `{success:false, message}` with the status an APIError set, else 200).
 */
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import type { Site } from './site.js'
import type { ViewContext } from './serialize.js'

export interface SimUser { readonly password: string, readonly roles: readonly string[], readonly groups?: readonly string[], readonly email?: string }

export interface RouteEnv {
  readonly site: Site
  readonly users: Readonly<Record<string, SimUser>>
  readonly sessions: Map<string, string>
  readonly calls: Map<string, number>
  /** '/<portal>/@@API/senaite/v1' */
  readonly base: string
  origin (): string
  /** every error at HTTP 200 (SimulatorOptions.errorStyle) */
  readonly always200: boolean
  readonly version: { readonly version: string, readonly date: string }
  readonly registry: Readonly<Record<string, unknown>>
  readonly settings: Readonly<Record<string, Record<string, unknown>>>
  readonly refuse?: (portalType: string, fields: Record<string, unknown>) => string | undefined
}

const WRITER_ROLES = new Set(['Manager', 'LabManager'])

/** Basic auth or the `__ac` cookie; wrong credentials are silently anonymous (PAS), never a 401 here */
export function userOf (env: RouteEnv, c: Context): string | undefined {
  const header = c.req.header('authorization')
  if (header?.startsWith('Basic ') === true) {
    const [name, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')
    const user = name !== undefined ? env.users[name] : undefined
    return user !== undefined && user.password === rest.join(':') ? name : undefined
  }
  const ticket = getCookie(c, '__ac')
  return ticket !== undefined ? env.sessions.get(ticket) : undefined
}

export const rolesOf = (env: RouteEnv, name: string | undefined): readonly string[] => name !== undefined ? env.users[name]?.roles ?? [] : []
export const canWrite = (env: RouteEnv, name: string | undefined): boolean => rolesOf(env, name).some((r) => WRITER_ROLES.has(r))

export function view (env: RouteEnv, name: string | undefined, catalogParam?: string): ViewContext {
  return { site: env.site, siteUrl: `${env.origin()}/${env.site.portalId}`, apiUrl: `${env.origin()}${env.base}`, canModify: canWrite(env, name), ...(catalogParam !== undefined ? { catalogParam } : {}) }
}

export const count = (env: RouteEnv, kind: string): void => { env.calls.set(kind, (env.calls.get(kind) ?? 0) + 1) }

export const runtime = (start: number): number => Math.round((performance.now() - start) * 1000) / 1e6

export function fail (env: RouteEnv, c: Context, status: number, message: string, start: number): Response {
  const code = env.always200 ? 200 : status
  return c.json({ success: false, message, _runtime: runtime(start) }, code as 200)
}

/** a dict answer with `_runtime` (plone.jsonapi.core's `runtime` decorator) */
export function answer (c: Context, body: Record<string, unknown>, start: number, status = 200): Response {
  return c.json({ ...body, _runtime: runtime(start) }, status as 200)
}
