/**
 * HTTP client for a SENAITE site's JSON API (`<site>/@@API/senaite/v1`).
 *
 * Trust boundary and error contract (reference/senaite-jsonapi.md §2.8,
 * api-errors.ts): an HTTP error AND a 200 with `success: false` are both
 * failures. Network errors, 429 and 5xx are transient (retried with
 * backoff); the rest are permanent and carry SENAITE's own message. Calls
 * are bounded by a concurrency limit; HTTPS trusts `caFile` when given
 * (self-signed LAN sites).
 */
import { Readable } from 'node:stream'
import pLimit, { type LimitFunction } from 'p-limit'
import { Agent, request } from 'undici'
import { ConnectorError } from '../../errors.js'
import { answerOf, networkError, SenaiteApiError } from './api-errors.js'
import { jsonBody, type StreamedJson } from './file-body.js'

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

export type Query = Record<string, string | number | boolean | ReadonlyArray<string> | undefined>

/** a request body, encoded: text, or a JSON body with files streamed into it (file-body.ts) */
type Body = { readonly type: string, readonly text: string } | { readonly type: string, readonly streamed: StreamedJson }

export interface PostOptions {
  /**
   * false: a transient failure is not retried here. A create is not
   * idempotent: whether a lost answer made an object only a look at the
   * site can tell (create.ts does it before trying again).
   */
  readonly retry?: boolean
}

/** One page of a senaite.jsonapi listing (a type route or `search`). */
export interface Listing { count?: number, items?: Array<Record<string, unknown>>, next?: string | null }

export interface SenaiteClient {
  readonly baseUrl: string
  get<T = Record<string, unknown>> (path: string, query?: Query): Promise<T>
  /** a JSON POST; FileBody values in `body` are sent as their base64 text, streamed from the blob store */
  post<T = Record<string, unknown>> (path: string, body: unknown, options?: PostOptions): Promise<T>
  /** a form-encoded POST (`name:list` values: how a Dexterity reference is set) */
  postForm<T = Record<string, unknown>> (path: string, entries: ReadonlyArray<readonly [string, string]>): Promise<T>
  /**
   * A download URL's bytes (attachments), streamed into `consume` as they
   * arrive — never held whole. A 302 (the login form: the account may not
   * view the file) fails for good, 5xx and network errors are retried with
   * backoff; a retry calls `consume` again from the first byte, so it must
   * start over (blobs.put does: a failed put leaves nothing).
   */
  download<T> (url: string, consume: (body: AsyncIterable<Uint8Array>, length: number | undefined) => Promise<T>): Promise<T>
  /** calls made, for throughput figures */
  readonly calls: number
  /** idempotent */
  close (): Promise<void>
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
  let closing: Promise<void> | undefined

  const once = async (method: 'GET' | 'POST', path: string, url: string, body?: Body): Promise<unknown> => {
    calls++
    let response
    try {
      response = await request(url, {
        method,
        dispatcher,
        headers: {
          authorization,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': body.type } : {}),
          ...(body !== undefined && 'streamed' in body ? { 'content-length': String(body.streamed.length) } : {})
        },
        ...(body !== undefined ? { body: 'streamed' in body ? Readable.from(body.streamed.bytes(), { objectMode: false }) : body.text } : {}),
        headersTimeout: timeout,
        bodyTimeout: timeout
      })
    } catch (err) {
      throw networkError(path, site, err)
    }
    return answerOf(path, site, response.statusCode, await response.body.text())
  }

  const call = async <T>(method: 'GET' | 'POST', path: string, url: string, body?: Body, retry = true): Promise<T> =>
    await limit(async () => await withRetries(async () => await once(method, path, url, body) as T, retry ? retries : 0, sleep))

  return {
    baseUrl,
    get calls () { return calls },
    async get<T> (path: string, query: Query = {}) {
      return await call<T>('GET', path, `${baseUrl}/${path}${toQueryString(query)}`)
    },
    async post<T> (path: string, body: unknown, postOptions: PostOptions = {}) {
      // files (FileBody values) are streamed into the body, not held in it
      const json = jsonBody(body)
      const encoded: Body = typeof json === 'string' ? { type: 'application/json', text: json } : { type: 'application/json', streamed: json }
      return await call<T>('POST', path, `${baseUrl}/${path}`, encoded, postOptions.retry ?? true)
    },
    async postForm<T> (path: string, entries: ReadonlyArray<readonly [string, string]>) {
      const form = new URLSearchParams()
      for (const [name, value] of entries) form.append(name, value)
      return await call<T>('POST', path, `${baseUrl}/${path}`, { type: 'application/x-www-form-urlencoded', text: form.toString() })
    },
    async download<T> (url: string, consume: (body: AsyncIterable<Uint8Array>, length: number | undefined) => Promise<T>) {
      return await limit(async () => await withRetries(async () => {
        calls++
        const response = await request(url, { method: 'GET', dispatcher, headers: { authorization }, maxRedirections: 0, headersTimeout: timeout, bodyTimeout: timeout } as Parameters<typeof request>[1]).catch((err: unknown) => { throw networkError(url, site, err) })
        if (response.statusCode >= 300) {
          await response.body.dump()
          throw new SenaiteApiError(url, response.statusCode, response.statusCode === 302 ? 'download redirected to the login form: the sync account may not view this file' : `download failed (HTTP ${response.statusCode})`, response.statusCode >= 500)
        }
        try {
          const length = Number(response.headers['content-length'])
          return await consume(bodyChunks(response.body, url, site), Number.isSafeInteger(length) && length >= 0 ? length : undefined)
        } finally {
          // a consumer that gave up early (a file over the limit) leaves the rest unread: drop the connection's body
          if (!response.body.destroyed) response.body.destroy()
        }
      }, retries, sleep))
    },
    async close () {
      // undici refuses to close a dispatcher twice; a failed start closes it before the agent's unwind stops the connector
      closing ??= dispatcher.close()
      await closing
    }
  }
}

/** A response body as chunks; a connection cut mid-way is a network error (retryable), as before the first byte. */
async function * bodyChunks (body: AsyncIterable<Uint8Array>, url: string, site: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk
  } catch (err) {
    throw networkError(url, site, err)
  }
}

/** `run`, again after a backoff while it fails with a retryable ConnectorError, at most `retries` times more. */
async function withRetries<T> (run: () => Promise<T>, retries: number, sleep: (ms: number) => Promise<void>): Promise<T> {
  let delay = 250
  for (let attempt = 0; ; attempt++) {
    try {
      return await run()
    } catch (err) {
      const retryable = err instanceof ConnectorError && err.retryable
      if (!retryable || attempt >= retries) throw err
      await sleep(delay)
      delay = Math.min(4000, delay * 2)
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
