/**
 * HTTP client for a SENAITE site's JSON API (`<site>/@@API/senaite/v1`).
 *
 * Trust boundary and error contract (reference/senaite-jsonapi.md §2.8):
 * an HTTP error AND a 200 with `success: false` are both failures. Network
 * errors, 429 and 5xx are transient (retried with backoff); the rest are
 * permanent and carry SENAITE's own message. Calls are bounded by a
 * concurrency limit; HTTPS trusts `caFile` when given (self-signed LAN sites).
 */
import { readFile } from 'node:fs/promises'
import pLimit, { type LimitFunction } from 'p-limit'
import { Agent, request } from 'undici'
import { ConnectorError } from '../../errors.js'

export const API_PATH = '/@@API/senaite/v1'

export interface SenaiteClientOptions {
  /** site URL with the portal path, e.g. https://lims.local/senaite */
  readonly url: string
  readonly username: string
  readonly password: string
  /** PEM of a certificate (or CA) to trust for HTTPS */
  readonly ca?: string
  readonly concurrency: number
  readonly timeoutMs?: number
  readonly retries?: number
  readonly sleep?: (ms: number) => Promise<void>
}

/** A failed API call: HTTP status (200 for envelope errors) and SENAITE's message. */
export class SenaiteApiError extends ConnectorError {
  readonly status: number
  readonly path: string
  constructor (path: string, status: number, message: string, retryable: boolean) {
    super(`SENAITE ${path}: ${message}${status !== 200 ? ` (HTTP ${status})` : ''}`, retryable)
    this.status = status
    this.path = path
  }
}

export type Query = Record<string, string | number | boolean | ReadonlyArray<string> | undefined>

export interface SenaiteClient {
  readonly baseUrl: string
  get<T = Record<string, unknown>> (path: string, query?: Query): Promise<T>
  post<T = Record<string, unknown>> (path: string, body: unknown): Promise<T>
  /** raw bytes of a download URL (attachments) */
  download (url: string): Promise<Buffer>
  /** calls made, for throughput figures */
  readonly calls: number
  close (): Promise<void>
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED'])
const TLS_CODES = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED'])

export async function readSecret (file: string | undefined, envName: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (file !== undefined) {
    try {
      return (await readFile(file, 'utf8')).trim()
    } catch (err) {
      throw new ConnectorError(`instance.passwordFile ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check the path and permissions`, false, { cause: err })
    }
  }
  const value = envName !== undefined ? env[envName] : undefined
  if (value === undefined || value === '') throw new ConnectorError(`environment variable ${envName ?? '(none)'} named by instance.passwordEnv is not set: export it before starting labmesh`, false)
  return value
}

export function createSenaiteClient (options: SenaiteClientOptions): SenaiteClient {
  const site = options.url.replace(/\/+$/, '')
  const baseUrl = site + API_PATH
  const dispatcher = new Agent({
    connect: options.ca !== undefined ? { ca: options.ca } : {},
    keepAliveTimeout: 10_000,
    connections: Math.max(4, options.concurrency * 2)
  })
  const limit: LimitFunction = pLimit(options.concurrency)
  const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`
  const retries = options.retries ?? 4
  const sleep = options.sleep ?? (async (ms: number) => await new Promise((r) => setTimeout(r, ms)))
  const timeout = options.timeoutMs ?? 60_000
  let calls = 0

  const once = async (method: 'GET' | 'POST', path: string, url: string, body?: unknown): Promise<unknown> => {
    calls++
    let response
    try {
      response = await request(url, {
        method,
        dispatcher,
        headers: { authorization, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        headersTimeout: timeout,
        bodyTimeout: timeout
      })
    } catch (err) {
      throw networkError(path, site, err)
    }
    const text = await response.body.text()
    let json: unknown
    try {
      json = text === '' ? {} : JSON.parse(text)
    } catch {
      const status = response.statusCode
      throw new SenaiteApiError(path, status, status === 404
        ? `no JSON API here: check that instance.url (${site}) includes the portal path, e.g. https://host/senaite`
        : `answered with something that is not JSON (HTTP ${status})`, status >= 500)
    }
    const status = response.statusCode
    const envelope = json as { success?: unknown, message?: unknown }
    if (status >= 400 || envelope.success === false) {
      const message = typeof envelope.message === 'string' ? envelope.message : `HTTP ${status}`
      throw new SenaiteApiError(path, status, message, status === 429 || status >= 500)
    }
    return json
  }

  const call = async <T>(method: 'GET' | 'POST', path: string, url: string, body?: unknown): Promise<T> => await limit(async () => {
    let delay = 250
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(method, path, url, body) as T
      } catch (err) {
        const retryable = err instanceof ConnectorError && err.retryable
        if (!retryable || attempt >= retries) throw err
        await sleep(delay)
        delay = Math.min(4000, delay * 2)
      }
    }
  })

  return {
    baseUrl,
    get calls () { return calls },
    async get<T> (path: string, query: Query = {}) {
      return await call<T>('GET', path, `${baseUrl}/${path}${toQueryString(query)}`)
    },
    async post<T> (path: string, body: unknown) {
      return await call<T>('POST', path, `${baseUrl}/${path}`, body)
    },
    async download (url: string) {
      return await limit(async () => {
        calls++
        const response = await request(url, { method: 'GET', dispatcher, headers: { authorization }, maxRedirections: 0 } as Parameters<typeof request>[1]).catch((err: unknown) => { throw networkError(url, site, err) })
        if (response.statusCode >= 300) {
          await response.body.dump()
          throw new SenaiteApiError(url, response.statusCode, response.statusCode === 302 ? 'download redirected to the login form: the sync account may not view this file' : `download failed (HTTP ${response.statusCode})`, response.statusCode >= 500)
        }
        return Buffer.from(await response.body.arrayBuffer())
      })
    },
    async close () {
      await dispatcher.close()
    }
  }
}

function toQueryString (query: Query): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) params.append(key, v)
    else params.append(key, String(value))
  }
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}

function networkError (path: string, site: string, err: unknown): ConnectorError {
  const e = err as { code?: string, cause?: { code?: string }, message?: string }
  const code = e.code ?? e.cause?.code ?? ''
  if (TLS_CODES.has(code)) {
    return new ConnectorError(`SENAITE at ${site} presents a certificate this agent does not trust (${code}): set instance.caFile to the site's certificate (PEM), as the add-on's "Certificate Path"`, false, { cause: err })
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConnectorError(`cannot resolve the host of instance.url ${site} (${code}): check the URL`, code === 'EAI_AGAIN', { cause: err })
  }
  if (code === 'ECONNREFUSED') {
    return new ConnectorError(`nothing listens at instance.url ${site} (ECONNREFUSED): check the URL and that SENAITE is running`, true, { cause: err })
  }
  return new ConnectorError(`SENAITE ${path}: ${e.message ?? String(err)}${code !== '' ? ` (${code})` : ''}`, TRANSIENT_CODES.has(code) || code === '', { cause: err })
}
