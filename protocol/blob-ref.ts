/**
 * Blob references: how an object points at a file (an attachment) that
 * travels beside it as a content-addressed blob.
 *
 * The rule, one sentence: the key `blob` is reserved inside an object's
 * `data` — any JSON object there, at any depth (in arrays too), that has a
 * `blob` key IS a blob reference and must have exactly this shape:
 *
 *   { blob: "sha256:<64 lowercase hex>", size: <bytes>, name?: string, mediaType?: string }
 *
 * References live in `data`, never in `refs`: `refs` are uids of objects an
 * object needs to exist first, and mixing the two would change what every
 * dependency check means. A version holds at most MAX_BLOB_REFS references.
 * A malformed reference makes the whole object invalid at the edge (the
 * document API's 400, a peer's frame refused), so no agent ever stores one.
 *
 * Pure functions of values: no I/O, used by the wire validation, the store's
 * reference index, the apply path and local writes alike.
 */
import { MAX_DATA_DEPTH } from './constants.js'
import type { ObjectVersion } from './object.js'

/** sha-256 is the only algorithm; the prefix leaves room for another without ambiguity */
export const BLOB_HASH_PREFIX = 'sha256:'
/** the largest blob a reference may announce (64 GiB) */
export const MAX_BLOB_BYTES = 64 * 1024 ** 3
/** blob references in one version's data */
export const MAX_BLOB_REFS = 256
/** characters of a reference's `name` and `mediaType` */
export const MAX_BLOB_NAME_LENGTH = 1024
export const MAX_MEDIA_TYPE_LENGTH = 255

const HASH_RE = /^sha256:[0-9a-f]{64}$/
const REF_KEYS = new Set(['blob', 'size', 'name', 'mediaType'])
const hasOwn = Object.prototype.hasOwnProperty

/** One reference as it appears in data. */
export interface BlobRef {
  /** `sha256:<hex>` of the bytes */
  readonly blob: string
  readonly size: number
  readonly name?: string
  readonly mediaType?: string
}

/** Whether `value` is a well-formed blob hash (`sha256:` + 64 lowercase hex digits). */
export function isBlobHash (value: unknown): value is string {
  return typeof value === 'string' && value.length === 71 && HASH_RE.test(value)
}

/** What is wrong with one reference object, or undefined when it is well-formed. */
export function blobRefProblem (ref: Readonly<Record<string, unknown>>): string | undefined {
  for (const key in ref) if (hasOwn.call(ref, key) && !REF_KEYS.has(key)) return `a blob reference may hold only blob, size, name and mediaType, not "${key.slice(0, 64)}"`
  if (!isBlobHash(ref.blob)) return 'blob must be "sha256:" followed by 64 lowercase hex digits'
  const size = ref.size
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_BLOB_BYTES) return `size must be a whole number of bytes from 0 to ${MAX_BLOB_BYTES}`
  if (ref.name !== undefined && (typeof ref.name !== 'string' || ref.name.length > MAX_BLOB_NAME_LENGTH)) return `name must be a string of at most ${MAX_BLOB_NAME_LENGTH} characters`
  if (ref.mediaType !== undefined && (typeof ref.mediaType !== 'string' || ref.mediaType.length > MAX_MEDIA_TYPE_LENGTH)) return `mediaType must be a string of at most ${MAX_MEDIA_TYPE_LENGTH} characters`
  return undefined
}

/**
 * Every blob reference in `data`, in document order (duplicates kept), or
 * the first problem found. Recursive, but it gives up past MAX_DATA_DEPTH
 * (data that deep is refused anyway), so the stack stays shallow whatever
 * the input.
 */
export function scanBlobRefs (data: unknown): { refs: BlobRef[], problem?: string } {
  const refs: BlobRef[] = []
  const problem = typeof data === 'object' && data !== null ? walk(data, refs, 1) : undefined
  return problem !== undefined ? { refs, problem } : { refs }
}

// descends into objects only: a primitive holds no reference and nests no deeper (no call per primitive: this walks every applied object's data)
function walk (value: object, refs: BlobRef[], depth: number): string | undefined {
  if (depth > MAX_DATA_DEPTH) return `data may nest at most ${MAX_DATA_DEPTH} levels deep`
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i]
      if (typeof child !== 'object' || child === null) continue
      const p = walk(child, refs, depth + 1)
      if (p !== undefined) return p
    }
    return undefined
  }
  const rec = value as Record<string, unknown>
  if (hasOwn.call(rec, 'blob')) {
    const p = blobRefProblem(rec)
    if (p !== undefined) return p
    if (refs.length >= MAX_BLOB_REFS) return `an object may hold at most ${MAX_BLOB_REFS} blob references`
    refs.push(rec as unknown as BlobRef)
    return undefined
  }
  for (const key in rec) {
    const child = rec[key]
    if (typeof child !== 'object' || child === null) continue
    const p = walk(child, refs, depth + 1)
    if (p !== undefined) return p
  }
  return undefined
}

export function blobRefsOf (data: unknown): BlobRef[] {
  return scanBlobRefs(data).refs
}

/**
 * The blob references of versions an object holds (its current version and
 * its conflict siblings; tombstones hold none), one per hash: what must be
 * here before the object may be, and what the reference index records.
 */
export function blobRefsOfVersions (versions: readonly ObjectVersion[]): BlobRef[] {
  let out: Map<string, BlobRef> | undefined
  for (const v of versions) {
    if (v.deleted) continue
    for (const ref of blobRefsOf(v.data)) {
      out ??= new Map()
      if (!out.has(ref.blob)) out.set(ref.blob, ref)
    }
  }
  return out === undefined ? [] : [...out.values()]
}
