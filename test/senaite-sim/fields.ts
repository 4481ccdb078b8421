/**
 * Setting fields as senaite.jsonapi's data and field managers do
 * (`datamanagers.py`, `fieldmanagers.py`, `api.update_object_with_data`).
 * The distinction that decides what a failed create leaves behind: a
 * jsonapi APIError (an HTTP status other than 200 here) makes `create_object`
 * delete the new object; any other exception (status 200) leaves it.
 *
 * - AT UIDReferenceField: a single field takes a 32-char string or a
 *   one-item list; `{uid}` fails with a TypeError, `""`/`[]`/null with an
 *   IndexError (both HTTP 200); targets are not checked, dangling UIDs are
 *   stored (and read back as empty).
 * - AT ReferenceField (1.3): UIDs resolve through uid_catalog; an unknown one
 *   resolves to nothing and clears the field.
 * - AT file fields decode `str(value)` as base64 (Python 2 binascii): a dict
 *   fails "Incorrect padding"; filename/mimetype come from sibling keys.
 * - DX fields (2.6 setup types) validate with zope.schema and swallow every
 *   error: text fields need unicode (a JSON body), reference fields a list
 *   of byte strings (a form post with `name:list`); other keys — AT-era
 *   names included — are skipped silently.
 */
import { SimError } from './errors.js'
import { setAnalysesOf } from './analyses.js'
import { a2bBase64, guessContentType } from './files.js'
import type { Site, SimObject } from './site.js'
import type { RefSpec } from './types.js'

export interface WriteContext {
  /** how the body was sent: JSON strings are unicode, form values byte strings (Python 2) */
  readonly encoding: 'json' | 'form'
  /** may the caller set fields (Modify portal content) */
  readonly canWrite: boolean
  /** who writes (history entries of analyses the write adds) */
  readonly actor?: string
}

const DEFAULT_CONTEXT: WriteContext = { encoding: 'json', canWrite: true }

/** keys the record carries that are no field of any modelled type */
const NOT_FIELDS = new Set(['id', 'uid', 'UID', 'portal_type', 'parent_uid', 'parent_path', 'transition', 'modified', 'created', 'path', 'filename', 'mimetype', 'url', 'api_url', 'parent_id', 'parent_url', 'review_state', 'workflow_info', 'author', 'effective', 'tags'])

/** Person types compute Title() from first and last name: a `title` sent to them changes nothing the API shows */
const COMPUTED_TITLE = new Set(['Contact', 'LabContact'])

/** AT labels for required-field messages (SC content schemas) */
const LABELS: Readonly<Record<string, string>> = { DepartmentID: 'Department ID', Manager: 'Manager', Prefix: 'Sample Type Prefix', MinimumVolume: 'Minimum Volume', AdmittedStickerTemplates: 'Admitted sticker templates' }

export function setFields (site: Site, o: SimObject, record: Record<string, unknown>, ctx: WriteContext = DEFAULT_CONTEXT): void {
  const spec = site.spec(o.portalType)
  for (const [key, value] of Object.entries(record)) {
    if (key === 'id') continue // SKIP_UPDATE_FIELDS
    if (o.dexterity === true) {
      if (spec?.schema?.includes(key) !== true) continue // no such DX field
      if (!ctx.canWrite) throw new SimError(401, `Not allowed to set the field '${key}'`)
      setDexterity(o, key, value, spec.refs[key], ctx)
      continue
    }
    if (NOT_FIELDS.has(key) || spec?.notFields?.includes(key) === true) continue
    if (key === 'title' && COMPUTED_TITLE.has(o.portalType)) continue
    if (!ctx.canWrite) throw new SimError(401, `Not allowed to set the field '${key}'`)
    const ref = spec?.refs[key]
    if (ref !== undefined) o.fields[key] = atReference(site, key, value, ref)
    else if (spec?.files.includes(key) === true) o.fields[key] = fileValue(value, record)
    else if (key === 'Analyses' && o.portalType === 'AnalysisRequest') setSampleAnalyses(site, o, value, ctx.actor ?? 'labman')
    else o.fields[key] = value
  }
  o.modified = site.now()
}

/** `update_object_with_data` after the fields: AT `obj.validate()` → APIError 400 with `{field: message}` */
export function validate (site: Site, o: SimObject): void {
  if (o.dexterity === true) return
  const errors: Record<string, string> = {}
  for (const name of site.spec(o.portalType)?.required ?? []) {
    const v = o.fields[name]
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) errors[name] = `${LABELS[name] ?? name} is required, please correct.`
  }
  if (Object.keys(errors).length > 0) throw new SimError(400, JSON.stringify(errors))
}

function atReference (site: Site, key: string, value: unknown, ref: RefSpec): unknown {
  if (ref.kind === 'at-reference') return atReferenceField(site, value, ref.multi)
  // UIDReferenceFieldManager.set
  let uids: string[] | null = []
  if (isUid(value)) uids.push(value)
  if (isDict(value)) uids = null // `ref = ref.append(...)`: None
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isUid(item)) uids?.push(item)
      else if (isDict(item) && typeof item.uid === 'string' && item.uid !== '') uids?.push(item.uid)
    }
  }
  if (!ref.multi) {
    if (uids === null) throw new SimError(200, "object of type 'NoneType' has no len()")
    if (uids.length > 1) throw new SimError(400, `Multiple values given for single valued field <Field ${key}(uidreference:rw)>`)
    if (uids.length === 0) throw new SimError(200, 'list index out of range')
    return uids[0]
  }
  return uids ?? []
}

/** 1.3 Archetypes ReferenceField through ReferenceFieldManager.set */
function atReferenceField (site: Site, value: unknown, multi: boolean): unknown {
  const resolve = (v: unknown): SimObject | null => {
    if (isUid(v)) return site.get(v) ?? null
    if (isDict(v) && typeof v.uid === 'string') return site.get(v.uid) ?? null
    if (typeof v === 'string' && v.startsWith(`/${site.portalId}`)) {
      const found = site.atPath(v)
      if (found === undefined) throw new SimError(404, `No object could be found at ${v.split('/').slice(2).join('/')}`)
      return found
    }
    return null
  }
  const plainString = (v: unknown): v is string => typeof v === 'string' && v.length !== 32 && v !== '0' && !v.startsWith('/')
  let found: Array<SimObject | null> = []
  if (Array.isArray(value)) {
    for (const item of value) {
      if (plainString(item)) found.push(...site.content().filter((o) => o.fields.title === item)) // a plain string is a title query
      else found.push(resolve(item))
    }
  } else if (isDict(value) || (typeof value === 'string' && !plainString(value))) {
    found = [resolve(value)]
  }
  if (!multi) {
    if (found.length > 1) throw new SimError(400, 'Multiple values given for single valued field <Field (reference:rw)>')
    if (found.length === 0) throw new SimError(200, 'list index out of range')
    return found[0]?.uid ?? '' // an unknown UID resolves to None: the field is cleared
  }
  return found.filter((o): o is SimObject => o !== null).map((o) => o.uid)
}

function fileValue (value: unknown, record: Record<string, unknown>): unknown {
  // FileFieldManager.set: str(value).decode("base64"); str() of a dict is never valid base64 in practice
  if (typeof value !== 'string') throw new SimError(200, 'Incorrect padding')
  const bytes = a2bBase64(value)
  const filename = [record.filename, record.id, record.title].find((x): x is string => typeof x === 'string' && x !== '') ?? ''
  const contentType = typeof record.mimetype === 'string' ? record.mimetype : guessContentType(filename)
  return { data: bytes.toString('base64'), filename, content_type: contentType, size: bytes.length }
}

function setDexterity (o: SimObject, key: string, value: unknown, ref: RefSpec | undefined, ctx: WriteContext): void {
  if (ref !== undefined) {
    // zope.schema List of ASCIILine: a list of byte strings (form posts) only; errors are swallowed
    if (!Array.isArray(value) || ctx.encoding !== 'form') return
    if (!value.every(isHexUid)) return
    if (!ref.multi && value.length > 1) return
    o.fields[key] = ref.multi ? value : value[0]
    return
  }
  if (typeof value === 'string' && ctx.encoding !== 'json') return // TextLine wants unicode
  if (key === 'sort_key' && typeof value !== 'number') return
  if (key === 'hazardous' && typeof value !== 'boolean') return
  o.fields[key] = value
}

/**
 * ARAnalysesFieldManager.set (JA 2.5.0 fieldmanagers.py): `api.is_uid(value)` is tested on the whole
 * list, so plain UID strings are dropped and only `{uid}` items survive; ARAnalysesField.set then adds
 * an analysis per service named and removes every unsubmitted analysis whose service is not named.
 * With plain UIDs that is every unsubmitted analysis: never send them in a sample update.
 */
function setSampleAnalyses (site: Site, sample: SimObject, value: unknown, actor: string): void {
  const list = Array.isArray(value) ? value : [value]
  const uids = list.filter(isDict).map((d) => d.uid).filter((u): u is string => typeof u === 'string')
  setAnalysesOf(site, sample, uids, actor)
}

/** senaite.jsonapi `api.is_uid`: any 32-character string (or "0") */
export const isUid = (v: unknown): v is string => typeof v === 'string' && (v === '0' || v.length === 32)
/** bika.lims `api.is_uid`: 32 hexadecimal characters */
export const isHexUid = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v)
const isDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
