/**
 * The embedded instance's document API: create/update, delete (tombstone),
 * read one, list a page in uid order.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { MAX_ID_LENGTH, MAX_REFS, MAX_TYPE_LENGTH, MAX_UID_LENGTH } from '../../protocol/constants.js'
import { dataSchema } from '../../protocol/messages.js'
import { toVersion } from '../../protocol/object.js'
import type { StoredObject } from '../../store/types.js'
import { BadRequestError, NotFoundError } from '../errors.js'
import { readJson } from './body.js'
import type { AdminDeps } from './deps.js'
import { totalEdits } from '../../protocol/version-vector.js'

const UID_RE = /^[A-Za-z0-9._:-]+$/
const uid = z.string().min(1).max(MAX_UID_LENGTH).regex(UID_RE, { message: 'may contain only letters, digits, ".", "_", ":" and "-"' })

const documentBody = z.strictObject({
  type: z.string().min(1).max(MAX_TYPE_LENGTH),
  id: z.string().max(MAX_ID_LENGTH),
  parent: uid.nullable().optional(),
  refs: z.array(uid).max(MAX_REFS).optional(),
  data: dataSchema
})

const bulkBody = z.strictObject({
  items: z.array(documentBody.extend({ uid })).min(1).max(10_000)
})

/** The public shape of an object (no store-internal fields but seq and conflicts). */
export function presentObject (o: StoredObject): Record<string, unknown> {
  return {
    ...toVersion(o),
    seq: o.seq,
    conflicts: o.conflicts.length
  }
}

function checkUid (value: string): string {
  const parsed = uid.safeParse(value)
  if (!parsed.success) throw new BadRequestError(`uid "${value}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`)
  return parsed.data
}

export function documentRoutes (deps: AdminDeps): Hono {
  const app = new Hono()

  app.get('/', async (c) => {
    const limitText = c.req.query('limit')
    const limit = limitText === undefined ? 100 : Number(limitText)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new BadRequestError('limit must be a whole number from 1 to 1000')
    const type = c.req.query('type')
    const after = c.req.query('after')
    const page = await deps.documents.list({ limit, ...(type !== undefined && type !== '' ? { type } : {}), ...(after !== undefined && after !== '' ? { after } : {}) })
    return c.json({ items: page.items.map(presentObject), next: page.next })
  })

  // Many objects in one atomic write (imports, bulk edits): all or nothing.
  app.post('/', async (c) => {
    const body = await readJson(c, bulkBody)
    const stored = await deps.documents.putMany(body.items.map((i) => ({ uid: i.uid, type: i.type, id: i.id, parent: i.parent ?? null, refs: i.refs ?? [], data: i.data })))
    return c.json({ written: stored.length, feedHead: stored.reduce((m, o) => Math.max(m, o.seq), 0) })
  })

  app.get('/:uid', async (c) => {
    const object = await deps.documents.get(checkUid(c.req.param('uid')))
    if (object === undefined) throw new NotFoundError(`object ${c.req.param('uid')} does not exist`)
    return c.json(presentObject(object))
  })

  // the versions this agent has seen of the object: origin, relay, changed fields, signature state, conflicts
  app.get('/:uid/history', async (c) => {
    const history = await deps.documents.history(checkUid(c.req.param('uid')))
    if (history === undefined) throw new NotFoundError(`this agent has seen no version of object ${c.req.param('uid')}`)
    return c.json(history)
  })

  app.put('/:uid', async (c) => {
    const id = checkUid(c.req.param('uid'))
    const body = await readJson(c, documentBody)
    const stored = await deps.documents.put({ uid: id, type: body.type, id: body.id, parent: body.parent ?? null, refs: body.refs ?? [], data: body.data })
    return c.json(presentObject(stored), totalEdits(stored.vector) === 1 ? 201 : 200)
  })

  app.delete('/:uid', async (c) => {
    const stored = await deps.documents.delete(checkUid(c.req.param('uid')))
    return c.json(presentObject(stored))
  })

  return app
}
