/**
 * The error contract of a SENAITE site's JSON API (reference/senaite-jsonapi.md
 * §2.8), the trust boundary of the connector: an HTTP error AND a 200 with
 * `success: false` are both failures. Network errors, 429 and 5xx are
 * transient (the client retries them with backoff); the rest are permanent
 * and carry SENAITE's own message. Failures a user can fix (a certificate,
 * a host name, a URL without the portal path) say what to do.
 */
import { ConnectorError } from '../../errors.js'

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

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED'])
const TLS_CODES = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED'])

/** The parsed answer of an API call, or the SenaiteApiError it stands for. */
export function answerOf (path: string, site: string, status: number, text: string): unknown {
  let json: unknown
  try {
    json = text === '' ? {} : JSON.parse(text)
  } catch {
    throw new SenaiteApiError(path, status, status === 404
      ? `no JSON API here: check that instance.url (${site}) includes the portal path, e.g. https://host/senaite`
      : `answered with something that is not JSON (HTTP ${status})`, status >= 500)
  }
  const envelope = json as { success?: unknown, message?: unknown }
  if (status >= 400 || envelope.success === false) {
    const message = typeof envelope.message === 'string' ? envelope.message : `HTTP ${status}`
    throw new SenaiteApiError(path, status, message, status === 429 || status >= 500)
  }
  return json
}

/** A request that got no answer, as a ConnectorError that says what to check. */
export function networkError (path: string, site: string, err: unknown): ConnectorError {
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
