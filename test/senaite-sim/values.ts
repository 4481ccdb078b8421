/**
 * Field values in a complete item, as senaite.jsonapi's field managers
 * render them (`fieldmanagers.py` `json_data`, `api.to_json_value`,
 * `api.get_file_info`):
 *
 * - AT fields return `value or default`: "", 0, false and [] read null.
 * - AT UIDReferenceField: {uid,url,api_url} / a list of them; empty → {}
 *   (its default); a dangling UID resolves to nothing and reads as empty.
 * - AT ReferenceField (1.3): the same dicts; empty → null.
 * - DX UIDReferenceField (inference, JA ≤2.5 has no field manager for it):
 *   single → {uid,url,api_url}; multi → null (a list of objects is not JSON
 *   serialisable); empty → null.
 * - A sample's Analyses: the analyses inside it as {uid,url,api_url}; [].
 * - Files: null when empty, else {content_type, filename, download} (+ data
 *   with filedata=yes); AT download = <url>/at_download/<field>.
 * - DX fields are all dropped for a caller without Modify permission.
 */
import type { Site, SimObject } from './site.js'
import { objectUrl, urlInfo, type ViewContext } from './serialize.js'
import type { RefSpec } from './types.js'

export function fieldValues (ctx: ViewContext, o: SimObject, filedata: boolean): Record<string, unknown> {
  const { site } = ctx
  const spec = site.spec(o.portalType)
  const out: Record<string, unknown> = {}
  if (o.dexterity === true) {
    if (!ctx.canModify) return out // DexterityDataManager.json_data: Unauthorized → field skipped
    for (const name of spec?.schema ?? []) {
      const ref = spec?.refs[name]
      out[name] = ref !== undefined ? dxReference(ctx, o.fields[name], ref) : falsyNull(o.fields[name])
    }
    return out
  }
  for (const [key, value] of Object.entries(o.fields)) {
    const ref = spec?.refs[key]
    if (ref !== undefined) out[key] = atReference(ctx, value, ref)
    else if (spec?.files.includes(key) === true) out[key] = fileInfo(ctx, o, key, value, filedata)
    else out[key] = falsyNull(value)
  }
  // every reference and file field of the schema shows, set or not
  for (const [key, ref] of Object.entries(spec?.refs ?? {})) if (!(key in out)) out[key] = atReference(ctx, undefined, ref)
  for (const key of spec?.files ?? []) if (!(key in out)) out[key] = null
  if (o.portalType === 'AnalysisRequest') {
    out.Analyses = site.children(o.uid).filter((a) => a.portalType === 'Analysis' && a.temporary !== true).map((a) => urlInfo(ctx, a))
  }
  return out
}

function targets (site: Site, value: unknown): SimObject[] {
  const uids = Array.isArray(value) ? value : value === undefined || value === null || value === '' ? [] : [value]
  return uids.map((u) => typeof u === 'string' ? site.get(u) : undefined).filter((t): t is SimObject => t !== undefined && t.temporary !== true)
}

function atReference (ctx: ViewContext, value: unknown, ref: RefSpec): unknown {
  const found = targets(ctx.site, value).map((t) => urlInfo(ctx, t))
  const empty = ref.kind === 'at-reference' ? null : {}
  if (found.length === 0) return empty
  return ref.multi ? found : found[0]
}

function dxReference (ctx: ViewContext, value: unknown, ref: RefSpec): unknown {
  const found = targets(ctx.site, value)
  if (found.length === 0 || ref.multi) return null
  return urlInfo(ctx, found[0]!)
}

function fileInfo (ctx: ViewContext, o: SimObject, field: string, value: unknown, withData: boolean): unknown {
  const file = value as { data?: string, filename?: string, content_type?: string, size?: number } | undefined
  if (file === undefined || file === null || typeof file !== 'object' || (file.size ?? 0) === 0) return null
  return {
    content_type: file.content_type ?? 'application/octet-stream',
    filename: file.filename !== undefined && file.filename !== '' ? file.filename : `${field}.bin`,
    download: `${objectUrl(ctx, o)}/at_download/${field}`,
    ...(withData ? { data: file.data ?? '' } : {})
  }
}

function falsyNull (value: unknown): unknown {
  if (value === '' || value === false || value === 0 || (Array.isArray(value) && value.length === 0)) return null
  return value ?? null
}
