/**
 * Content routes of a real layout (JA 2.5.0 `v1/routes/content.py` and
 * `api.py`): `<uid>` (a bare record), `<resource>`, `<resource>/<uid>`,
 * `search`, and create/update/delete in every URL form, with their error
 * texts and statuses. Listings page like plone.batching.
 */
import type { Context, Hono } from 'hono'
import { search } from './catalog-query.js'
import { answer, canWrite, count, fail, userOf, view, type RouteEnv } from './context.js'
import { createObject, isCreationAllowed, notAllowed } from './create.js'
import { readRecord } from './body.js'
import { SimError } from './errors.js'
import { setFields, validate } from './fields.js'
import { isTrue, parseForm, single, toInt, type Form } from './form.js'
import { brainItem, completeItem, objectData, type ItemOptions, type ViewContext } from './serialize.js'
import type { Site, SimObject } from './site.js'
import { FOLDERISH_TYPES, KNOWN_EMPTY_TYPES, MODELLED_TYPES } from './types.js'
import { transition } from './workflow.js'

/** `get_object_by_uid`: "0" is the portal; anything else must be in uid_catalog */
export function objectByUid (site: Site, uid: string | undefined): SimObject | undefined {
  if (uid === undefined || uid === '') return undefined
  if (uid === '0') return site.get(site.portalUid)
  const o = site.get(uid)
  return o !== undefined && site.catalogsHolding(o).includes('uid_catalog') ? o : undefined
}

/** `get_object_by_path`: exact traversal, 404 with the path below the portal */
export function objectByPath (site: Site, path: string): SimObject {
  const o = site.atPath(path.replace(/\/$/, ''))
  if (o === undefined) throw new SimError(404, `No object could be found at ${path.startsWith(`/${site.portalId}`) ? path.split('/').slice(2).join('/') : path}`)
  return o
}

/** `resource_to_portal_type`: every portal type of the site, lower-cased, spaces removed */
export function resourceType (site: Site, resource: string): string | undefined {
  const names = [...MODELLED_TYPES, ...KNOWN_EMPTY_TYPES, ...site.profile.folders.map((f) => f.type), 'Plone Site']
  return names.find((n) => n.toLowerCase().replace(/\s+/g, '') === resource.toLowerCase())
}

/** Fault injection for writes: test knobs, not SENAITE behaviour. */
export interface WriteFaults {
  /**
   * After a create made the object and set its fields: a message makes the
   * site answer HTTP 200 success:false and leave the object, as any error
   * that is no jsonapi APIError does ("Incorrect padding", a refused
   * transition).
   */
  readonly afterCreate?: (portalType: string, record: Record<string, unknown>) => string | undefined
  /** awaited once a write is done and before it is answered (a test kills the agent here) */
  readonly beforeAnswer?: (action: 'create' | 'update' | 'delete', portalType: string, uid: string) => Promise<void> | void
}

const param = (c: Context, name: string): string => (c.req.param as (n: string) => string | undefined)(name) ?? ''

export function registerContentRoutes (api: Hono, env: RouteEnv, faults: WriteFaults = {}): void {
  const { site } = env
  const formOf = (c: Context): Form => parseForm(new URL(c.req.url).searchParams)
  const options = (form: Form): ItemOptions => ({ workflow: isTrue(form.workflow), filedata: isTrue(form.filedata), children: isTrue(form.children) })

  /** get_batch: plone.batching paging, next/previous with the request's own parameters */
  const batch = (c: Context, items: SimObject[], render: (o: SimObject) => Record<string, unknown>, start: number): Response => {
    const form = formOf(c)
    const size = toInt(form.limit, 25)
    const bStart = toInt(form.b_start, 0)
    const pages = Math.max(1, Math.ceil(items.length / size))
    const page = Math.min(Math.floor(bStart / size) + 1, pages)
    const pageUrl = (b: number): string => {
      const u = new URL(c.req.url)
      const origin = new URL(env.origin())
      u.protocol = origin.protocol
      u.host = origin.host
      u.searchParams.set('b_start', String(b))
      return u.toString()
    }
    return answer(c, {
      pagesize: size,
      next: page < pages ? pageUrl(page * size) : null,
      previous: page > 1 ? pageUrl(Math.max(page - 2, 0) * size) : null,
      page,
      pages,
      count: items.length,
      items: items.slice(bStart, bStart + size).map(render)
    }, start)
  }

  const listing = (c: Context, forced: string[] | undefined, start: number): Response => {
    const form = formOf(c)
    const name = userOf(env, c)
    const v: ViewContext = { ...view(env, name, single(form.catalog)), ...(name !== undefined ? { viewer: name } : {}) }
    const { items, catalog } = search(site, form, forced, name)
    const complete = isTrue(form.complete)
    const opts = options(form)
    return batch(c, items, (o) => complete ? completeItem(v, o, opts, catalog) : withChildren(v, o, brainItem(v, o, catalog), opts), start)
  }

  const withChildren = (v: ViewContext, o: SimObject, item: Record<string, unknown>, opts: ItemOptions): Record<string, unknown> => {
    if (!opts.children || !(o.folder || FOLDERISH_TYPES.includes(o.portalType))) return item
    const children = site.children(o.uid).map((child) => completeItem(v, child, { ...opts, children: false }))
    return { ...item, children_count: children.length, children }
  }

  const guarded = (handler: (c: Context, start: number) => Response | Promise<Response>) => async (c: Context): Promise<Response> => {
    const start = performance.now()
    try {
      return await handler(c, start)
    } catch (err) {
      if (err instanceof SimError) return fail(env, c, err.status, err.message, start)
      throw err
    }
  }

  /** get_record: a bare record, complete unless complete=no; `{}` when the object has no brain */
  const record = (c: Context, uid: string, start: number): Response => {
    count(env, 'GET uid')
    const o = objectByUid(site, uid)
    if (o === undefined) return fail(env, c, 404, 'No object found', start)
    const form = formOf(c)
    const name = userOf(env, c)
    const v: ViewContext = { ...view(env, name), ...(name !== undefined ? { viewer: name } : {}) }
    return answer(c, completeItem(v, o, options(form)), start)
  }

  api.get('/search', guarded((c, start) => { count(env, 'GET search'); return listing(c, undefined, start) }))

  for (const action of ['create', 'update', 'delete'] as const) {
    api.post(`/${action}`, guarded(async (c, start) => await write(c, action, undefined, undefined, start)))
    api.post(`/${action}/:uid`, guarded(async (c, start) => await write(c, action, undefined, param(c, 'uid'), start)))
    api.post(`/:resource/${action}`, guarded(async (c, start) => await write(c, action, param(c, 'resource'), undefined, start)))
    api.post(`/:resource/${action}/:uid`, guarded(async (c, start) => await write(c, action, param(c, 'resource'), param(c, 'uid'), start)))
  }
  // POST <uid> / <resource>/<uid>: the action comes from X-HTTP-Method-Override
  const override = guarded(async (c, start) => {
    const header = c.req.header('x-http-method-override')
    const action = header === undefined ? 'None' : header.toLowerCase()
    const mapped = action === 'put' || action === 'patch' || action === 'update' ? 'update' : action === 'delete' ? 'delete' : action === 'create' ? 'create' : undefined
    if (mapped === undefined) throw new SimError(500, `API has no member named '${action}_items'`)
    return await write(c, mapped, param(c, 'resource'), param(c, 'uid'), start)
  })
  api.post('/:uid{[0-9A-Za-z]{32}}', override)
  api.post('/:resource/:uid{[0-9A-Za-z]{32}}', override)

  api.get('/:uid{[0-9A-Za-z]{32}}', guarded((c, start) => record(c, param(c, 'uid'), start)))
  api.get('/:resource/:uid{[0-9A-Za-z]{32}}', guarded((c, start) => {
    count(env, 'GET resource/uid')
    if (resourceType(site, param(c, 'resource')) === undefined) throw new SimError(404, 'Not Found')
    // the type is not checked; an unknown uid is an empty listing
    const o = objectByUid(site, param(c, 'uid'))
    const name = userOf(env, c)
    const v: ViewContext = { ...view(env, name), ...(name !== undefined ? { viewer: name } : {}) }
    const form = formOf(c)
    const complete = form.complete === undefined ? true : isTrue(form.complete)
    return batch(c, o !== undefined ? [o] : [], (x) => complete ? completeItem(v, x, options(form)) : objectData(v, x, options(form)), start)
  }))
  api.get('/:resource', guarded((c, start) => {
    const resource = param(c, 'resource')
    if (resource === '0') return record(c, '0', start) // api.is_uid("0")
    const type = resourceType(site, resource)
    if (type === undefined) throw new SimError(404, 'Not Found')
    count(env, `GET ${type}`)
    if (isTrue(formOf(c).complete)) count(env, `GET ${type} complete`)
    return listing(c, [type], start)
  }))
  // werkzeug's NotFound / MethodNotAllowed, caught by plone.jsonapi.core: HTTP 200
  api.all('*', (c) => fail(env, c, 200, c.req.method === 'GET' ? '404: Not Found' : '405: Method Not Allowed', performance.now()))

  async function write (c: Context, action: 'create' | 'update' | 'delete', resource: string | undefined, uid: string | undefined, start: number): Promise<Response> {
    count(env, `POST ${action}`)
    const name = userOf(env, c)
    const { record: body, encoding } = await readRecord(c)
    const ctx = { encoding, canWrite: canWrite(env, name), actor: name ?? 'Anonymous User' }
    const v: ViewContext = { ...view(env, name), ...(name !== undefined ? { viewer: name } : {}) }
    const render = (o: SimObject): Record<string, unknown> => completeItem(v, o, { workflow: isTrue(formOf(c).workflow), filedata: false, children: false })
    const url = `${env.origin()}${env.base}/${action}`
    const actor = name ?? 'Anonymous User'
    if (action === 'create') {
      let container = objectByUid(site, uid)
      const record = { ...body }
      let typeName = resource !== undefined ? resourceType(site, resource) : undefined
      if (typeName === undefined) { typeName = typeof record.portal_type === 'string' ? record.portal_type : undefined; delete record.portal_type }
      if (container === undefined) {
        const parentUid = record.parent_uid
        const parentPath = record.parent_path
        delete record.parent_uid
        delete record.parent_path
        if (typeof parentUid === 'string' && parentUid !== '') container = objectByUid(site, parentUid)
        else if (typeof parentPath === 'string' && parentPath !== '') container = objectByPath(site, parentPath)
        if (container === undefined) throw new SimError(404, 'No target container found')
      }
      if (typeName === undefined) throw new SimError(400, 'Please provide a container path/uid and portal_type')
      if (!isCreationAllowed(site, typeName, container)) throw notAllowed(typeName, container)
      const refusal = env.refuse?.(typeName, record)
      if (refusal !== undefined) throw new SimError(400, refusal)
      const created = createObject(site, typeName, container, record, actor, ctx)
      const failure = faults.afterCreate?.(typeName, record)
      if (failure !== undefined) throw new SimError(200, failure)
      await faults.beforeAnswer?.('create', typeName, created.uid)
      return answer(c, { count: 1, items: [render(created)], url }, start)
    }
    if (action === 'update') {
      const byUid = objectByUid(site, uid)
      const target = byUid ?? byRecord(body)
      if (target === undefined) throw new SimError(400, 'No Objects could be updated')
      const parent = target.parentUid !== null ? site.get(target.parentUid) : undefined
      if (target.uid === site.portalUid || parent?.uid === site.portalUid || parent?.path === `/${site.portalId}/bika_setup`) throw new SimError(401, `Update of ${target.path} is not allowed`)
      const refusal = env.refuse?.(target.portalType, body)
      if (refusal !== undefined) throw new SimError(400, refusal)
      // update_object_with_data: fields, then validation, then the transition; what was set stays
      setFields(site, target, body, ctx)
      validate(site, target)
      if (typeof body.transition === 'string' && body.transition !== '') transition(site, target, body.transition, actor)
      await faults.beforeAnswer?.('update', target.portalType, target.uid)
      return answer(c, { count: 1, items: [render(target)], url }, start)
    }
    // delete = deactivate; the folder rules of update do not apply
    const query = parseForm(new URL(c.req.url).searchParams)
    const found = objectByUid(site, uid) ?? byRecord({ uid: single(query.uid), path: single(query.path) }) ?? byRecord(body)
    const objects = found !== undefined ? [found] : []
    if (objects.some((o) => o.uid === site.portalUid)) throw new SimError(400, 'Can not delete the portal object')
    if (objects.length === 0) throw new SimError(404, 'No Objects could be found')
    for (const o of objects) {
      if (!ctx.canWrite) throw new SimError(401, `Not allowed to deactivate object '${o.id}'`)
      transition(site, o, 'deactivate', actor)
    }
    return answer(c, { count: objects.length, items: objects.map((o) => objectData(v, o, { filedata: false })), url }, start)
  }

  /** get_object_by_record: uid, else path, else parent_path + id */
  function byRecord (r: Record<string, unknown>): SimObject | undefined {
    if (typeof r.uid === 'string' && r.uid !== '') return objectByUid(site, r.uid)
    if (typeof r.path === 'string' && r.path !== '') return objectByPath(site, r.path)
    if (typeof r.parent_path === 'string' && r.parent_path !== '' && typeof r.id === 'string' && r.id !== '') return objectByPath(site, `${r.parent_path}/${r.id}`)
    return undefined
  }
}
