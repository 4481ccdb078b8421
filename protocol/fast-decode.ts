/**
 * A hand-written validator for the two bulk messages (`batch`, `objects`),
 * the hot path of every pull: zod cost ~12 µs per 1 KiB object and most of
 * the garbage of an initial sync; this costs ~1 µs.
 *
 * Contract: the zod schemas in messages.ts stay the specification. This
 * function either returns exactly what the zod schema would return for the
 * same input (same fields, unknown keys stripped, schema key order) or
 * `undefined` — meaning "not sure", after which the caller runs zod, which
 * accepts or produces the error text. So it can never be more lenient than
 * zod; being stricter only costs time. Anything unusual (a `__proto__` key,
 * a non-plain object, an `undefined` value) is left to zod.
 * test/unit/fast-decode.test.ts checks both directions on valid and mutated
 * messages.
 *
 * Arrays of uids and the `data` / `vector` records are returned as the very
 * objects parsed from the frame (zod returns copies with the same content);
 * nothing else holds them.
 */
import {
  HASH_TEXT_LENGTH, MAX_AUDIT_PATH_LENGTH, MAX_BATCH_OBJECTS, MAX_CONFLICT_SIBLINGS, MAX_DATA_DEPTH, MAX_DOMAIN_LENGTH,
  MAX_GET_UIDS, MAX_ID_LENGTH, MAX_PEER_ID_LENGTH, MAX_REFS, MAX_SEQ, MAX_SIGN_GROUP, MAX_TYPE_LENGTH, MAX_UID_LENGTH,
  MAX_VECTOR_ENTRIES, PROTOCOL_VERSION, PROTOCOL_VERSION_2, SIGNATURE_TEXT_LENGTH
} from './constants.js'
import { BASE64URL_RE, type BatchMessage, type ObjectsMessage } from './messages.js'
import type { ObjectVersion, VersionSignature, WireObject } from './object.js'

type Rec = Record<string, unknown>

const hasOwn = Object.prototype.hasOwnProperty

/** A plain data object as JSON.parse makes it, with no `__proto__` own key. */
function isPlain (value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && !hasOwn.call(value, '__proto__')
}

function isSeq (value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_SEQ
}

function isRequestId (value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 2 ** 31
}

function isString (value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max
}

function isUid (value: unknown): value is string {
  return isString(value, 1, MAX_UID_LENGTH)
}

function isUidArray (value: unknown, max: number): value is string[] {
  if (!Array.isArray(value) || value.length > max) return false
  for (let i = 0; i < value.length; i++) if (!isUid(value[i])) return false
  return true
}

function isVector (value: unknown): value is Record<string, number> {
  if (!isPlain(value)) return false
  let n = 0
  for (const key in value) {
    if (!hasOwn.call(value, key)) return false
    if (++n > MAX_VECTOR_ENTRIES || key.length < 1 || key.length > MAX_DOMAIN_LENGTH || !isSeq(value[key])) return false
  }
  return true
}

function isData (value: unknown): value is Rec {
  // nestsWithin(value, 1), with the own-key checks folded into its walk of the top level
  if (!isPlain(value) || hasOwn.call(value, 'blob')) return false
  for (const key in value) {
    if (!hasOwn.call(value, key)) return false
    const child = value[key]
    if (child === undefined) return false
    if (typeof child === 'object' && child !== null && !nestsWithin(child, 2)) return false
  }
  return true
}

/**
 * Whether object `value`, at `depth`, nests no deeper than MAX_DATA_DEPTH
 * (as zod's withinDepth decides) and holds no blob reference. Data with a
 * `blob` key anywhere is left to zod, whose schema checks every reference's
 * shape (protocol/blob-ref.ts): attachments are rare, and one rule in one
 * place cannot drift. Recursive: it gives up at that depth, so the stack
 * stays shallow whatever the input; it descends into objects only
 * (primitives nest no deeper), without a call per primitive.
 */
function nestsWithin (value: object, depth: number): boolean {
  if (depth > MAX_DATA_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i]
      if (typeof child === 'object' && child !== null && !nestsWithin(child, depth + 1)) return false
    }
    return true
  }
  if (hasOwn.call(value, 'blob')) return false
  for (const key in value) {
    const child = (value as Rec)[key]
    if (typeof child === 'object' && child !== null && !nestsWithin(child, depth + 1)) return false
  }
  return true
}

function isBase64url (value: unknown, min: number, max: number): value is string {
  return isString(value, min, max) && BASE64URL_RE.test(value)
}

function isOptionalInt (value: unknown, min: number, max: number): boolean {
  return value === undefined || (Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max)
}

/** A version's `sig` in schema order (optional keys only when present), or undefined. */
function signature (s: unknown): VersionSignature | undefined {
  if (!isPlain(s)) return undefined
  const { by, peer, h, sig, i, n, p, id } = s
  if (!isString(by, 1, MAX_DOMAIN_LENGTH) || !isString(peer, 1, MAX_PEER_ID_LENGTH)) return undefined
  if (!isBase64url(h, HASH_TEXT_LENGTH, HASH_TEXT_LENGTH) || !isBase64url(sig, SIGNATURE_TEXT_LENGTH, SIGNATURE_TEXT_LENGTH)) return undefined
  if (!isOptionalInt(i, 0, MAX_SIGN_GROUP) || !isOptionalInt(n, 2, MAX_SIGN_GROUP)) return undefined
  if ((p !== undefined && !isBase64url(p, 0, MAX_AUDIT_PATH_LENGTH)) || (id !== undefined && !isString(id, 0, MAX_ID_LENGTH))) return undefined
  // an own key holding undefined is zod's to judge (JSON never makes one)
  if ((hasOwn.call(s, 'i') && i === undefined) || (hasOwn.call(s, 'n') && n === undefined) || (hasOwn.call(s, 'p') && p === undefined) || (hasOwn.call(s, 'id') && id === undefined)) return undefined
  return {
    by, peer, h, sig,
    ...(i !== undefined ? { i: i as number } : {}),
    ...(n !== undefined ? { n: n as number } : {}),
    ...(p !== undefined ? { p } : {}),
    ...(id !== undefined ? { id } : {})
  }
}

/** The version fields of `o` in schema order, or undefined. */
function version (o: unknown): ObjectVersion | undefined {
  if (!isPlain(o)) return undefined
  const { uid, type, id, parent, refs, data, vector, origin, deleted, at } = o
  if (!isUid(uid) || !isString(type, 1, MAX_TYPE_LENGTH) || !isString(id, 0, MAX_ID_LENGTH)) return undefined
  if (parent !== null && !isUid(parent)) return undefined
  if (!isUidArray(refs, MAX_REFS) || !isData(data) || !isVector(vector) || !isString(origin, 1, MAX_DOMAIN_LENGTH)) return undefined
  if (typeof deleted !== 'boolean' || typeof at !== 'number' || !Number.isFinite(at) || at < 0) return undefined
  if (!hasOwn.call(o, 'sig')) return { uid, type, id, parent, refs, data, vector, origin, deleted, at }
  const sig = signature(o.sig)
  if (sig === undefined) return undefined
  return { uid, type, id, parent, refs, data, vector, origin, deleted, at, sig }
}

/** One wire object (a version plus optional siblings), or undefined. */
export function fastWireObject (o: unknown): WireObject | undefined {
  const current = version(o)
  if (current === undefined) return undefined
  if (!hasOwn.call(o, 'conflicts')) return current
  const list = (o as Rec).conflicts
  if (!Array.isArray(list) || list.length > MAX_CONFLICT_SIBLINGS) return undefined
  const conflicts: ObjectVersion[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const sibling = version(list[i])
    if (sibling === undefined) return undefined
    conflicts[i] = sibling
  }
  return { ...current, conflicts }
}

function wireObjects (list: unknown, max: number): WireObject[] | undefined {
  if (!Array.isArray(list) || list.length > max) return undefined
  const out: WireObject[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const w = fastWireObject(list[i])
    if (w === undefined) return undefined
    out[i] = w
  }
  return out
}

/** A valid `batch` message, or undefined (then zod decides). */
export function fastBatch (m: Rec, version: number = PROTOCOL_VERSION): BatchMessage | undefined {
  const { type, v, id, lastSeq, last, more, remaining, from } = m
  if (type !== 'batch' || v !== version || !isRequestId(id) || !isSeq(lastSeq) || typeof last !== 'boolean' || typeof more !== 'boolean' || !isSeq(remaining)) return undefined
  // `from` (pushed batches) is a field of version 2 only; elsewhere it is stripped, as zod does
  const pushed = version === PROTOCOL_VERSION_2 && hasOwn.call(m, 'from')
  if (pushed && !isSeq(from)) return undefined
  const changes = wireObjects(m.changes, MAX_BATCH_OBJECTS)
  if (changes === undefined) return undefined
  return pushed ? { type, v, id, changes, lastSeq, last, more, remaining, from: from as number } : { type, v, id, changes, lastSeq, last, more, remaining }
}

/** A valid `objects` message, or undefined (then zod decides). */
export function fastObjects (m: Rec, version: number = PROTOCOL_VERSION): ObjectsMessage | undefined {
  const { type, v, id, missing, last } = m
  if (type !== 'objects' || v !== version || !isRequestId(id) || !isUidArray(missing, MAX_GET_UIDS) || typeof last !== 'boolean') return undefined
  const objects = wireObjects(m.objects, MAX_GET_UIDS)
  if (objects === undefined) return undefined
  return { type, v, id, objects, missing, last }
}

/** The fast path for server messages: batch and objects, else undefined. */
export function fastServerMessage (value: unknown, version: number = PROTOCOL_VERSION): BatchMessage | ObjectsMessage | undefined {
  if (!isPlain(value)) return undefined
  if (value.type === 'batch') return fastBatch(value, version)
  if (value.type === 'objects') return fastObjects(value, version)
  return undefined
}
