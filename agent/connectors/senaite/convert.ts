/**
 * Translation between SENAITE items and mesh objects (pure).
 *
 * Files: a file field (`{download, filename, content_type}`) reads as the
 * blob reference `{blob, size, name, mediaType}` the caller resolved for
 * its download URL (attachments.ts; the async pass before this one); an
 * unresolved one reads as `{filename, content_type, data?}` with the bytes
 * inline, as labmesh read files before blobs. Writing passes both shapes
 * through.
 *
 * Reading (item → mesh): references in any of SENAITE's shapes — AT dicts
 * `{uid, url, api_url}` (empty single ref `{}`), lists of them, Dexterity UID
 * strings, record fields whose keys end in `_uid` — become mesh uids and are
 * listed in `refs`. Volatile and site-local keys (URLs, paths, dates the
 * site sets, its creator) and catalog metadata columns (what a listing's
 * brain adds: `sortable_title`, `state_title`, `getClientTitle` … — never a
 * field of the object) are dropped, so the content hash changes only when
 * content does. A Dexterity item's snake-case fields take their AT names
 * (field-names.ts). Workflow state and history travel as data
 * (`review_state`, `review_history`).
 *
 * Writing (mesh → fields): every mesh uid that the version lists in `refs`
 * is replaced by the target site's own UID; a reference whose target is not
 * there yet is left out (and patched later: reference cycles). The fields
 * keep mesh (AT) names; payload.ts shapes them for the site.
 */
import { canonicalJson } from '../../../protocol/canonical.js'
import { createHash } from 'node:crypto'
import type { BlobRef } from '../../../protocol/blob-ref.js'
import type { ObjectVersion } from '../../../protocol/object.js'
import { atName } from './field-names.js'
import { isSenaiteUid } from './portal-types.js'

/** Keys of a complete item that are not content (or not portable between sites). */
const VOLATILE_KEYS = new Set([
  'uid', 'UID', 'url', 'api_url', 'path', 'parent_path', 'parent_url', 'parent_id', 'parent_uid', 'portal_type', 'id', 'getId',
  'modified', 'effective', 'created', 'author', 'creators', 'tags', '_runtime', 'workflow_info', 'children', 'children_count', 'review_state'
])

/**
 * Catalog metadata columns a listing item carries beside the object's
 * fields (senaite.core `catalog/*_catalog.py` COLUMNS, Plone's
 * portal_catalog, Archetypes' uid_catalog; notes §1.11): accessor columns
 * (`get…`) and these. No AT or DX field has any of these names.
 */
const CATALOG_COLUMNS = new Set([
  'allowedRolesAndUsers', 'sortable_title', 'state_title', 'listing_searchable_text', 'Creator', 'CreationDate', 'Date', 'Description', 'EffectiveDate',
  'ExpirationDate', 'ModificationDate', 'Subject', 'Title', 'Type', 'meta_type', 'is_folderish', 'expires', 'cmf_uid', 'in_response_to', 'assigned_state',
  'isRootAncestor', 'is_received', 'is_active', 'listCreators', 'exclude_from_nav', 'object_provides', 'review_state_title', 'Analyst'
])
const ACCESSOR_COLUMN = /^get[A-Z]/

/** Whether a key of a listing item is a catalog column rather than a field of the object. */
export function isCatalogColumn (key: string, item: Record<string, unknown>): boolean {
  // worksheets and analyses have an Analyst field; portal_catalog (≤2.4) shows an Analyst column on every item
  if (key === 'Analyst') return item.portal_type !== 'Worksheet' && item.portal_type !== 'Analysis'
  return CATALOG_COLUMNS.has(key) || ACCESSOR_COLUMN.test(key)
}

/** Fields the agent manages itself on write (workflow is replayed through transitions). */
export const WORKFLOW_KEYS = ['review_state', 'review_history'] as const

/** Fields SENAITE sets itself and a client cannot write (§2.6). */
const UNWRITABLE_KEYS = new Set(['created', 'modified', 'effective', 'author', 'creators', 'tags'])

/**
 * Fields that list an object's children: the children travel as objects of
 * their own (a sample's analyses are created inside it), so the field is
 * not written — on create SENAITE would read it as service UIDs.
 */
const CHILD_LIST_KEYS: Readonly<Record<string, readonly string[]>> = { AnalysisRequest: ['Analyses'] }

export interface ItemTranslation {
  /** SENAITE uid → mesh uid (undefined when the uid is not an object we know) */
  readonly meshUidOf: (senaiteUid: string) => string | undefined
  /** whether items of this type are Dexterity here (their fields then take AT names) */
  readonly dexterity?: (type: string) => boolean
  /** download URL → the blob the file is (attachments.ts `resolve`); a file not in it reads the old way, inline */
  readonly files?: ReadonlyMap<string, BlobRef>
}

export interface ReadResult {
  readonly parent: string | null
  readonly refs: string[]
  readonly data: Record<string, unknown>
  readonly reviewState: string | undefined
}

/** A complete SENAITE item as mesh data. */
export function itemToData (item: Record<string, unknown>, t: ItemTranslation): ReadResult {
  const refs = new Set<string>()
  const translate = (value: unknown, key: string): unknown => {
    if (Array.isArray(value)) {
      if (value.length === 0) return null
      return value.map((v) => translate(v, key))
    }
    if (isPlainObject(value)) {
      const keys = Object.keys(value)
      if (keys.length === 0) return null // SENAITE's empty AT reference
      if (typeof value.uid === 'string' && keys.every((k) => k === 'uid' || k === 'url' || k === 'api_url')) {
        const mesh = t.meshUidOf(value.uid)
        if (mesh !== undefined) { refs.add(mesh); return mesh }
        return null // a reference to something outside what we replicate
      }
      if ('download' in value && 'filename' in value) {
        const ref = typeof value.download === 'string' ? t.files?.get(value.download) : undefined
        if (ref !== undefined) return { ...ref }
        return { filename: value.filename ?? null, content_type: value.content_type ?? null, ...(typeof value.data === 'string' ? { data: value.data } : {}) }
      }
      const out: Record<string, unknown> = {}
      for (const k of keys.sort()) {
        const v = value[k]
        if (k.endsWith('_uid') && isSenaiteUid(v)) {
          const mesh = t.meshUidOf(v)
          if (mesh !== undefined) refs.add(mesh)
          out[k] = mesh ?? null
        } else {
          out[k] = translate(v, `${key}.${k}`)
        }
      }
      return out
    }
    if (isSenaiteUid(value)) {
      const mesh = t.meshUidOf(value)
      if (mesh !== undefined) { refs.add(mesh); return mesh }
      return value
    }
    if (value === '' || value === false || value === 0) return null // SENAITE returns falsy values as null
    return value
  }

  const data: Record<string, unknown> = {}
  const type = typeof item.portal_type === 'string' ? item.portal_type : ''
  const dexterity = t.dexterity?.(type) === true
  for (const key of Object.keys(item).sort()) {
    if (VOLATILE_KEYS.has(key) || isCatalogColumn(key, item)) continue
    data[dexterity ? atName(type, key) : key] = translate(item[key], key)
  }
  // a sample's title is its site-local id: not content
  if (data.title === item.id) delete data.title
  const workflow = Array.isArray(item.workflow_info) ? item.workflow_info[0] as Record<string, unknown> | undefined : undefined
  const reviewState = typeof item.review_state === 'string' ? item.review_state : typeof workflow?.review_state === 'string' ? workflow.review_state : undefined
  if (reviewState !== undefined) data.review_state = reviewState
  if (Array.isArray(workflow?.review_history)) data.review_history = workflow.review_history
  const parentUid = typeof item.parent_uid === 'string' && item.parent_uid !== '' ? t.meshUidOf(item.parent_uid) : undefined
  if (parentUid !== undefined) refs.delete(parentUid)
  return { parent: parentUid ?? null, refs: [...refs].sort(), data, reviewState }
}

export interface WriteTranslation {
  /** mesh uid → this site's uid, when the target exists here */
  readonly localUidOf: (meshUid: string) => string | undefined
}

export interface WritePayload {
  readonly fields: Record<string, unknown>
  /** fields left out because a referenced object does not exist here yet */
  readonly deferred: string[]
  /** fields emptied on the other side that this site cannot empty through its API (single references) */
  readonly uncleared: string[]
  readonly reviewState: string | undefined
}

/**
 * The fields to send to SENAITE for a mesh version. `previous` is the version
 * this site was last given: a field it had a value in and `version` has
 * emptied (null: SENAITE reads every falsy value back as null) is sent as the
 * empty value of its kind — "" for text and numbers, false, [] for lists and
 * multi-valued references — since leaving it out would leave the old value
 * here. A single reference cannot be emptied through the JSON API: such a
 * field is listed in `uncleared` instead.
 */
export function versionToFields (version: ObjectVersion, t: WriteTranslation, previous?: ObjectVersion): WritePayload {
  const refs = new Set(version.refs)
  if (version.parent !== null) refs.add(version.parent)
  const deferred: string[] = []
  const uncleared: string[] = []
  let missing = false
  const translate = (value: unknown): unknown => {
    if (typeof value === 'string' && refs.has(value)) {
      const local = t.localUidOf(value)
      if (local === undefined) missing = true
      return local
    }
    if (Array.isArray(value)) return value.map(translate).filter((v) => v !== undefined)
    if (isPlainObject(value)) {
      if ('filename' in value && 'data' in value) return value // file upload: {filename, content_type, data (base64)}, as objects written before blobs hold it
      if (Object.prototype.hasOwnProperty.call(value, 'blob')) return value // a file as a blob reference: attachments.ts reads it for the site
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) out[k] = translate(v)
      return out
    }
    return value
  }
  const fields: Record<string, unknown> = {}
  const childLists = CHILD_LIST_KEYS[version.type] ?? []
  for (const [key, value] of Object.entries(version.data)) {
    if ((WORKFLOW_KEYS as readonly string[]).includes(key) || UNWRITABLE_KEYS.has(key) || childLists.includes(key)) continue
    if (value === null) {
      const before = previous?.data[key]
      if (before === null || before === undefined) continue // empty here and there: nothing to send
      const cleared = emptyValueLike(before, previous!)
      if (cleared === undefined) uncleared.push(key)
      else fields[key] = cleared
      continue
    }
    missing = false
    const translated = translate(value)
    if (missing) { deferred.push(key); continue }
    fields[key] = translated
  }
  const reviewState = typeof version.data.review_state === 'string' ? version.data.review_state : undefined
  return { fields, deferred, uncleared, reviewState }
}

/** What SENAITE takes as "empty" for a field that held `before`; undefined when it cannot be emptied. */
function emptyValueLike (before: unknown, previous: ObjectVersion): unknown {
  if (Array.isArray(before)) return []
  if (typeof before === 'boolean') return false
  if (typeof before === 'string' && (before === previous.parent || previous.refs.includes(before))) return undefined // a single reference
  if (typeof before === 'string' || typeof before === 'number') return ''
  return undefined // a file or a record: no empty form the API takes
}

/** Content hash of what a site shows for an object (echo detection). */
export function contentHash (read: Pick<ReadResult, 'parent' | 'refs' | 'data'>, type: string): string {
  return createHash('sha256').update(canonicalJson([type, read.parent, read.refs, read.data])).digest('hex')
}

export { canonicalJson }

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
