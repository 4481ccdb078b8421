/**
 * The CLI's client for a running agent's admin API: finds the URL and token
 * from the agent's config, and turns connection failures into advice.
 */
import type { LoadedConfig } from '../../config/load.js'
import { AgentError } from '../../protocol/errors.js'
import { loadAdminToken } from '../net/identity.js'

export interface AdminClient {
  readonly baseUrl: string
  get<T> (path: string): Promise<T>
  post<T> (path: string, body?: unknown): Promise<T>
  /** POST and read the answer as bytes, streamed (a backup); an error answer throws as post() does */
  postStream (path: string): Promise<AsyncIterable<Uint8Array>>
}

export async function adminClientFor (config: LoadedConfig): Promise<AdminClient> {
  const token = await loadAdminToken(config.paths.tokenFile)
  const hostPort = config.http.listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:')
  const baseUrl = `http://${hostPort}`
  const send = async (method: string, path: string, body?: unknown): Promise<Response> => {
    try {
      return await fetch(baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {})
      })
    } catch (err) {
      throw new AgentError('NOT_STARTED', `no labmesh agent answers at ${baseUrl} (${(err as Error).message}): start it with \`labmesh start --config ${config.configFile ?? 'FILE'}\``, { cause: err })
    }
  }
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await send(method, path, body)
    return await readJson<T>(response, baseUrl + path)
  }
  return {
    baseUrl,
    get: async <T>(path: string) => await call<T>('GET', path),
    post: async <T>(path: string, body?: unknown) => await call<T>('POST', path, body ?? {}),
    postStream: async (path: string) => {
      const response = await send('POST', path)
      if (!response.ok || response.body === null) return await readJson<never>(response, baseUrl + path)
      return response.body as unknown as AsyncIterable<Uint8Array>
    }
  }
}

async function readJson<T> (response: Response, url: string): Promise<T> {
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new AgentError('PROTOCOL_ERROR', `${url} answered ${response.status} with something that is not JSON: is another program listening there?`)
  }
  if (!response.ok) {
    const message = (json as { message?: string }).message ?? `HTTP ${response.status}`
    throw new AgentError(response.status === 401 ? 'UNAUTHORIZED' : response.status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', message)
  }
  return json as T
}
