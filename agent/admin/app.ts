/**
 * The local HTTP app (Hono): the embedded document API and the admin API on
 * one server. Exported as a factory returning the app value; only the agent's
 * process wiring binds a port.
 *
 * Security: every /api route needs `Authorization: Bearer <token>`; a wrong
 * or missing token is a 401 and a log line. `http.publicStatus` opens the
 * status reads the page makes (GET of status, peers, jobs, events, conflicts,
 * failed and its summary, echo loops) — never writes, and never the
 * document API's reads of lab data.
 * `/metrics` needs the token too (Prometheus sends it with
 * `authorization.credentials_file`) unless `http.publicMetrics` is on. The
 * event stream alone also takes `?token=`, because EventSource cannot send
 * headers. No CORS headers are ever sent, so pages on other origins can read
 * nothing. The status page itself (`/`, `/app.js`, `/style.css`) holds no
 * data and is public. Every request must be addressed to a host name this
 * agent answers to (host-check.ts: the DNS-rebinding guard).
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { MAX_LOCAL_OBJECT_BYTES } from '../../protocol/constants.js'
import { AgentError, ObjectTooLargeError } from '../../protocol/errors.js'
import { MergeConflictError, MergeFieldError } from '../../protocol/merge.js'
import { BadRequestError, BlobMissingError } from '../errors.js'
import { tokenMatches } from '../net/identity.js'
import type { AdminDeps } from './deps.js'
import { documentRoutes } from './documents.js'
import { adminRoutes } from './admin-routes.js'
import { blobRoutes } from './blobs.js'
import { membershipRoutes } from './membership-routes.js'
import { verifyRoutes } from './verify-routes.js'
import { createJobRegistry } from './jobs.js'
import { backupRoutes } from './backup-route.js'
import { ConfigError } from '../../config/errors.js'
import { requireKnownHost } from './host-check.js'
import { eventRoutes, jobRoutes, metricsRoute } from './live-routes.js'
import { pageRoutes } from './page.js'

/** GET routes that http.publicStatus opens: what the status page reads */
const STATUS_READS = /^\/api\/(status|events|conflicts|failed|failed\/summary|echo-loops|peers\/[^/]+|jobs\/[^/]+|conflicts\/[^/]+)$/

export function createAdminApp (deps: AdminDeps): Hono {
  const app = new Hono()

  const requireToken = (open: (method: string, path: string) => boolean): MiddlewareHandler => async (c, next) => {
    if (open(c.req.method, c.req.path)) return await next()
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(.+)$/i.exec(header)
    // EventSource cannot send headers: the event stream alone also takes ?token=
    const presented = match?.[1]?.trim() ?? (c.req.path === '/api/events' ? c.req.query('token') : undefined)
    if (presented === undefined || !tokenMatches(presented, deps.token)) {
      deps.log.warn({ method: c.req.method, path: c.req.path, reason: presented === undefined ? 'no token' : 'wrong token' }, 'admin API: unauthorized request refused')
      return c.json({ error: 'UNAUTHORIZED', message: 'a valid admin token is required: send Authorization: Bearer <token> (the token is in the agent\'s admin.token file)' }, 401)
    }
    await next()
  }
  app.use('*', requireKnownHost(deps.allowedHosts, deps.log))
  app.use('/api/*', requireToken((method, path) => deps.publicStatus && method === 'GET' && STATUS_READS.test(path)))
  app.use('/metrics', requireToken(() => deps.publicMetrics))

  // The body cap (http.maxBodyBytes, 4 MiB by default) and the object size
  // limit (MAX_LOCAL_OBJECT_BYTES, ~7.9 MiB) are separate: whichever a
  // request meets first answers 413, and each message says which one it was.
  // Blob uploads stream to disk under their own cap (http.maxBlobBytes): the
  // body limit, which buffers what it counts, never sees them.
  const limit = bodyLimit({
    maxSize: deps.maxBodyBytes,
    onError: (c) => c.json({ error: 'BAD_REQUEST', message: `request body larger than ${deps.maxBodyBytes} bytes (http.maxBodyBytes): send less in one request (split a bulk write into several), or raise http.maxBodyBytes; one object may take up to ${MAX_LOCAL_OBJECT_BYTES} bytes as JSON in any case` }, 413)
  })
  app.use('/api/*', async (c, next) => (c.req.path === '/api/blobs' || c.req.path.startsWith('/api/blobs/')) ? await next() : await limit(c, next))

  app.route('/api/blobs', blobRoutes(deps))
  app.route('/api/objects', documentRoutes(deps))
  const jobs = createJobRegistry(deps.now)
  app.route('/api', jobRoutes(deps, jobs))
  app.route('/api', eventRoutes(deps))
  app.route('/api', adminRoutes(deps))
  app.route('/api', membershipRoutes(deps))
  app.route('/api', verifyRoutes(deps, jobs))
  app.route('/api', backupRoutes(deps))
  app.route('/', metricsRoute(deps))
  app.route('/', pageRoutes())

  app.notFound((c) => c.json({ error: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` }, 404))

  app.onError((err, c) => {
    const status = statusFor(err)
    if (status >= 500) deps.log.error({ err: err.message, path: c.req.path }, 'admin API error')
    const body: Record<string, unknown> = { error: err instanceof AgentError ? err.code : 'INTERNAL', message: err.message }
    if (err instanceof BadRequestError && err.details !== undefined) body.details = err.details
    if (err instanceof ObjectTooLargeError) body.details = { uid: err.uid, bytes: err.bytes, limit: err.limit }
    if (err instanceof BlobMissingError) body.details = { missing: err.hashes }
    if (err instanceof ConfigError) body.details = { file: err.file ?? null, issues: err.issues }
    if (err instanceof MergeConflictError || err instanceof MergeFieldError) body.details = { fields: err.fields }
    return c.json(body, status)
  })

  return app
}

function statusFor (err: Error): ContentfulStatusCode {
  if (!(err instanceof AgentError)) return 500
  switch (err.code) {
    case 'BAD_REQUEST': case 'CONFIG_INVALID': case 'BACKUP_INVALID': case 'BACKUP_INCOMPATIBLE': case 'OBJECT_INVALID': case 'INVITE_MALFORMED': case 'INVITE_DAMAGED': case 'MERGE_FIELD_INVALID': return 400
    case 'UNAUTHORIZED': return 401
    case 'RULE_VIOLATION': case 'INVITE_UNKNOWN': case 'BLOB_NOT_SERVED': return 403
    case 'CONFIG_RESTART_REQUIRED': case 'BACKUP_CONFLICT': case 'INVITE_USED': case 'INVITE_REFUSED': case 'BLOB_MISSING': case 'MERGE_CONFLICT': return 409
    case 'INVITE_EXPIRED': return 410
    case 'INVITE_UNREACHABLE': case 'PEER_CLOSED': return 502
    case 'OBJECT_TOO_LARGE': case 'BLOB_TOO_LARGE': return 413
    case 'BLOB_MISMATCH': return 400
    case 'NOT_FOUND': return 404
    case 'TIMEOUT': return 504
    case 'STORE_CLOSED': case 'STORE_WRITE_FAILED': case 'STORE_LOCKED': case 'NOT_STARTED': return 503
    default: return 500
  }
}
