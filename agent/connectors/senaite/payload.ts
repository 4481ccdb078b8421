/**
 * Fields (mesh names, references already this site's UIDs: convert.ts) in
 * the shape the site's JSON API takes them (pure; notes §5, §7):
 *
 * - File fields as the base64 string itself, with `filename` and `mimetype`
 *   beside it in the same record: senaite.jsonapi decodes `str(value)` as
 *   base64, so a `{filename, content_type, data}` dict fails "Incorrect
 *   padding" — and on a create leaves the object half-made. One record has
 *   one `filename`, so a second file field goes in a request of its own.
 * - On a Dexterity type (2.6 setup types) fields take their DX names, and
 *   references leave the JSON body: a DX UIDReferenceField takes only a list
 *   of byte strings, which a JSON body never is, so they are posted
 *   form-encoded as `name:list=<uid>` (as the jsonapi doctests post).
 * - `title` first: should a create fail half-way, the object it leaves has
 *   its title, which is how the next attempt finds it (leftovers.ts).
 */
import { dexterityField } from './field-names.js'
import { FileBody } from './file-body.js'

export interface SitePayload {
  /** the JSON record of the create or update */
  readonly body: Record<string, unknown>
  /** Dexterity references, posted form-encoded after the body */
  readonly formRefs: ReadonlyArray<readonly [string, readonly string[]]>
  /** more file fields, each a record of its own (posted after the body) */
  readonly files: ReadonlyArray<Record<string, unknown>>
  /** fields the site cannot be given in this shape (a Dexterity reference emptied): left as they are there */
  readonly uncleared: readonly string[]
}

/** A file as the mesh carries it (convert.ts reads files so): base64 text, or a blob's bytes streamed as it (file-body.ts). */
interface MeshFile { filename?: unknown, content_type?: unknown, data: string | FileBody }

export function isMeshFile (value: unknown): value is MeshFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('filename' in value)) return false
  const data = (value as { data?: unknown }).data
  return typeof data === 'string' || data instanceof FileBody
}

export function sitePayload (type: string, fields: Readonly<Record<string, unknown>>, dexterity: boolean): SitePayload {
  const body: Record<string, unknown> = {}
  const formRefs: Array<[string, string[]]> = []
  const files: Array<Record<string, unknown>> = []
  const uncleared: string[] = []
  const keys = Object.keys(fields).sort((a, b) => rank(a) - rank(b))
  for (const key of keys) {
    const value = fields[key]
    const dx = dexterity ? dexterityField(type, key) : undefined
    const name = dx?.name ?? key
    if (isMeshFile(value)) {
      const record = { [name]: value.data, ...(typeof value.filename === 'string' ? { filename: value.filename } : {}), ...(typeof value.content_type === 'string' ? { mimetype: value.content_type } : {}) }
      if (files.length === 0 && !('filename' in body)) Object.assign(body, record)
      else files.push(record)
      continue
    }
    if (dx?.reference !== undefined) {
      const uids = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '')
      if (uids.length === 0) uncleared.push(key)
      else formRefs.push([name, uids])
      continue
    }
    body[name] = value
  }
  return { body, formRefs, files, uncleared }
}

/** title, then description, then the rest in their order */
function rank (key: string): number {
  return key === 'title' ? 0 : key === 'description' ? 1 : 2
}
