/**
 * LEGACY (2.x-legacy-kind / 1.x-legacy-kind only; removed with them): how
 * today's kind simulator shows an object (§2.5 and corrections): brain items
 * (catalog metadata; `modified` null) in listings, complete items with every
 * field for `complete=yes` or UID routes; AT references as {uid, url,
 * api_url} (empty single or multi ref → `{}`), Dexterity references as UID
 * strings (empty → null); falsy values as null; files as
 * {content_type, filename, download} (+ base64 data with `filedata=yes`).
 */
import type { SimObject } from './site.js'
import { SIM_TYPE_BY_NAME } from './site-model.js'
import type { ViewContext } from './serialize.js'

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, '+00:00')

function objectUrl (ctx: ViewContext, o: SimObject): string {
  return ctx.siteUrl.replace(/\/[^/]+$/, '') + o.path
}

function apiUrlOf (ctx: ViewContext, o: SimObject): string {
  return `${ctx.apiUrl}/${o.portalType.toLowerCase().replace(/\s+/g, '')}/${o.uid}`
}

function base (ctx: ViewContext, o: SimObject): Record<string, unknown> {
  const parent = o.parentUid !== null ? ctx.site.get(o.parentUid) : undefined
  return {
    uid: o.uid,
    id: o.id,
    title: o.fields.title ?? o.id,
    description: o.fields.description ?? '',
    portal_type: o.portalType,
    path: o.path,
    url: objectUrl(ctx, o),
    api_url: apiUrlOf(ctx, o),
    created: iso(o.created),
    author: 'labman',
    tags: [],
    ...(parent !== undefined ? { parent_id: parent.id, parent_uid: parent.uid, parent_path: parent.path, parent_url: apiUrlOf(ctx, parent) } : {})
  }
}

/** A listing item: catalog metadata only (dates are not metadata: `modified` is null). */
export function legacyBrainItem (ctx: ViewContext, o: SimObject): Record<string, unknown> {
  return { ...base(ctx, o), modified: null, review_state: o.reviewState, getClientID: o.fields.ClientID ?? null }
}

export interface CompleteOptions { readonly workflow: boolean, readonly filedata: boolean }

export function legacyCompleteItem (ctx: ViewContext, o: SimObject, options: CompleteOptions): Record<string, unknown> {
  const type = SIM_TYPE_BY_NAME.get(o.portalType)
  const dexterity = type?.dexterity[ctx.site.layout] === true
  const out: Record<string, unknown> = { ...base(ctx, o), modified: iso(o.modified), review_state: o.reviewState }
  if (!(dexterity && !ctx.canModify)) {
    for (const [key, value] of Object.entries(o.fields)) {
      if (key === 'title' || key === 'description') { out[key] = nullIfFalsy(value); continue }
      const ref = type?.refs[key]
      if (ref !== undefined) { out[key] = referenceView(ctx, value, ref.multi, dexterity); continue }
      if (type?.files?.includes(key) === true) { out[key] = fileView(ctx, o, key, value, options.filedata); continue }
      out[key] = nullIfFalsy(value)
    }
    // every schema field appears in a complete item, set or not
    for (const [key, ref] of Object.entries(type?.refs ?? {})) {
      if (!(key in out)) out[key] = referenceView(ctx, undefined, ref.multi, dexterity)
    }
  }
  if (options.workflow) {
    out.workflow_info = [{
      workflow: `senaite_${type?.workflow ?? 'one_state'}_workflow`,
      status: o.reviewState,
      review_state: o.reviewState,
      transitions: [],
      review_history: [...o.history].reverse() // newest first, as SENAITE does
    }]
  }
  return out
}

function referenceView (ctx: ViewContext, value: unknown, multi: boolean, dexterity: boolean): unknown {
  const uids = (Array.isArray(value) ? value : value === undefined || value === null || value === '' ? [] : [value]) as string[]
  if (dexterity) return uids.length === 0 ? null : multi ? uids : uids[0]
  if (uids.length === 0) return {} // the field manager's default for an empty AT reference, single or multi
  const dicts = uids.map((uid) => {
    const target = ctx.site.get(uid)
    return { uid, url: target !== undefined ? objectUrl(ctx, target) : '', api_url: target !== undefined ? apiUrlOf(ctx, target) : '' }
  })
  return multi ? dicts : dicts[0]
}

function fileView (ctx: ViewContext, o: SimObject, field: string, value: unknown, withData: boolean): unknown {
  if (typeof value !== 'object' || value === null) return null
  const file = value as { filename?: string, content_type?: string, data?: string }
  return {
    content_type: file.content_type ?? 'application/octet-stream',
    filename: file.filename ?? 'file',
    download: `${objectUrl(ctx, o)}/at_download/${field}`,
    ...(withData ? { data: file.data ?? '' } : {})
  }
}

function nullIfFalsy (value: unknown): unknown {
  if (value === '' || value === false || value === 0 || (Array.isArray(value) && value.length === 0)) return null
  return value ?? null
}
