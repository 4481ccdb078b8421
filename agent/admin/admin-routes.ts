/**
 * Admin routes: agent and peer status, manual sync ("Get updates"),
 * conflicts (list with both versions and the differing fields, resolve),
 * the failed queue (list, grouped by reason code, retry one object or a
 * group) and the objects the echo-loop guard holds (list, release).
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { dataSchema } from '../../protocol/messages.js'
import type { ObjectVersion } from '../../protocol/object.js'
import type { StoredObject } from '../../store/types.js'
import { BadRequestError, NotFoundError } from '../errors.js'
import { readJson } from './body.js'
import type { AdminDeps } from './deps.js'

const resolveBody = z.union([
  z.strictObject({ pick: z.enum(['local', 'remote']) }),
  z.strictObject({ data: dataSchema })
])

/** Top-level fields and data keys whose values differ between two versions. */
export function differingFields (a: ObjectVersion, b: ObjectVersion): string[] {
  const out: string[] = []
  for (const field of ['type', 'id', 'parent', 'deleted'] as const) if (a[field] !== b[field]) out.push(field)
  if (JSON.stringify(a.refs) !== JSON.stringify(b.refs)) out.push('refs')
  const keys = new Set([...Object.keys(a.data), ...Object.keys(b.data)])
  for (const key of [...keys].sort()) {
    if (JSON.stringify(a.data[key]) !== JSON.stringify(b.data[key])) out.push(`data.${key}`)
  }
  return out
}

function versionView (v: ObjectVersion): Record<string, unknown> {
  return { type: v.type, id: v.id, parent: v.parent, refs: v.refs, data: v.data, vector: v.vector, origin: v.origin, deleted: v.deleted, at: v.at }
}

export function presentConflict (o: StoredObject): Record<string, unknown> {
  return {
    uid: o.uid,
    type: o.type,
    id: o.id,
    local: versionView(o),
    remote: versionView(o.conflicts[0]!),
    remotes: o.conflicts.map(versionView),
    differingFields: differingFields(o, o.conflicts[0]!)
  }
}

export function adminRoutes (deps: AdminDeps): Hono {
  const app = new Hono()

  app.get('/status', (c) => c.json(deps.status()))

  app.get('/peers/:name', (c) => c.json(deps.peerStatus(c.req.param('name'))))

  app.post('/peers/:name/plan', async (c) => c.json(await deps.plan(c.req.param('name'))))

  // pages in uid order: ?limit (1–1000, default 1000) and ?after=<the last uid of the page before>;
  // `count` is this page's, `total` the agent's, `next` the `after` of the next page (null at the end)
  app.get('/conflicts', async (c) => {
    const { limit, after } = pageQuery(c.req.query('limit'), c.req.query('after'))
    const items = await deps.conflicts.list({ limit, ...(after !== undefined ? { after } : {}) })
    return c.json({ ...pageOf(items, limit, deps.status().conflicts), items: items.map(presentConflict) })
  })

  app.get('/conflicts/:uid', async (c) => {
    const found = await deps.documents.get(c.req.param('uid'))
    if (found === undefined || found.conflicts.length === 0) throw new NotFoundError(`object ${c.req.param('uid')} has no conflict`)
    return c.json(presentConflict(found))
  })

  app.post('/conflicts/:uid/resolve', async (c) => {
    const body = await readJson(c, resolveBody)
    const stored = await deps.conflicts.resolve(c.req.param('uid'), body)
    return c.json({ uid: stored.uid, resolved: true, vector: stored.vector })
  })

  // ?code=CODE: only that group's entries (same paging; `total` is still the whole queue's)
  app.get('/failed', async (c) => {
    const { limit, after } = pageQuery(c.req.query('limit'), c.req.query('after'))
    const code = c.req.query('code')
    const items = await deps.failed.list({ limit, ...(after !== undefined ? { after } : {}), ...(code !== undefined && code !== '' ? { code } : {}) })
    return c.json({ ...pageOf(items, limit, deps.status().failed), items })
  })

  app.get('/failed/summary', async (c) => c.json(await deps.failed.summary()))

  app.post('/failed/:uid/retry', async (c) => {
    const result = await deps.failed.retry(c.req.param('uid'))
    return c.json({ uid: c.req.param('uid'), applied: result.applied, entry: result.entry ?? null })
  })

  app.post('/failed/groups/:code/retry', async (c) => c.json(await deps.failed.retryGroup(c.req.param('code'))))

  app.get('/echo-loops', (c) => {
    const items = deps.echoLoops.list()
    return c.json({ count: items.length, items })
  })

  app.post('/echo-loops/:uid/release', async (c) => c.json(await deps.echoLoops.release(c.req.param('uid'))))

  return app
}

function pageQuery (limitText: string | undefined, after: string | undefined): { limit: number, after: string | undefined } {
  const limit = limitText === undefined ? 1000 : Number(limitText)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new BadRequestError('limit must be a whole number from 1 to 1000')
  return { limit, after: after !== undefined && after !== '' ? after : undefined }
}

function pageOf (items: ReadonlyArray<{ uid: string }>, limit: number, total: number): { count: number, total: number, next: string | null } {
  return { count: items.length, total, next: items.length === limit ? items[items.length - 1]!.uid : null }
}
