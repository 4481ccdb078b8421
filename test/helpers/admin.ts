/**
 * The admin API of a test agent, in process (`agent.request`, no socket),
 * with the agent's own token unless a test says otherwise: the set-up every
 * API test would otherwise write again.
 */
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'

export interface AdminCallOptions {
  /** sent as JSON (a string is sent as it is, to send what is not JSON) */
  readonly body?: unknown
  /** the bearer token to send instead of the agent's; null sends no Authorization header */
  readonly token?: string | null
}

/** `Authorization: Bearer <the agent's admin token>` */
export function authHeader (agent: Agent): { authorization: string } {
  return { authorization: `Bearer ${agentInternals(agent).token}` }
}

export async function adminRequest (agent: Agent, method: string, path: string, options: AdminCallOptions = {}): Promise<Response> {
  const { body, token } = options
  const headers: Record<string, string> = {
    ...(token === undefined ? authHeader(agent) : token !== null ? { authorization: `Bearer ${token}` } : {}),
    ...(body !== undefined ? { 'content-type': 'application/json' } : {})
  }
  return await agent.request(path, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) })
}

/** The status and the JSON answer of one admin request. */
export async function adminCall<T = Record<string, unknown>> (agent: Agent, method: string, path: string, options: AdminCallOptions = {}): Promise<{ status: number, json: T }> {
  const response = await adminRequest(agent, method, path, options)
  return { status: response.status, json: await response.json() as T }
}

/** Every /api route (and /metrics) the agent's app declares, once per method, with `:name` filled in as `peer`. */
export function apiRoutes (agent: Agent, peer: string): Array<{ method: string, path: string }> {
  const routes = agentInternals(agent).app.routes
    .filter((r) => (r.path.startsWith('/api') || r.path === '/metrics') && r.method !== 'ALL')
    .map((r) => ({ method: r.method, path: r.path.replace(':uid', 'o-1').replace(':name', peer).replace(':id', '1').replace('/*', '/x') }))
  return [...new Map(routes.map((r) => [`${r.method} ${r.path}`, r])).values()]
}
