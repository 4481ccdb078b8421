/**
 * What changed between two versions of an object, field by field: the
 * object history's "changed fields" (store/history.ts). Pure.
 *
 * Top-level fields by name (`type`, `id`, `parent`, `refs`, `deleted`);
 * `data` key by key as dotted paths, descending into nested objects on both
 * sides (`data.result.value`), while arrays and scalars compare whole.
 */
import type { ObjectVersion } from './object.js'

type Rec = Record<string, unknown>

const TOP_FIELDS = ['type', 'id', 'parent', 'deleted'] as const

/** Paths that differ between `before` and `after`, sorted. */
export function changedFields (before: Pick<ObjectVersion, 'type' | 'id' | 'parent' | 'refs' | 'deleted' | 'data'>, after: Pick<ObjectVersion, 'type' | 'id' | 'parent' | 'refs' | 'deleted' | 'data'>): string[] {
  const out: string[] = []
  for (const field of TOP_FIELDS) if (before[field] !== after[field]) out.push(field)
  if (!sameValue(before.refs, after.refs)) out.push('refs')
  diffObjects(before.data, after.data, 'data', out)
  return out.sort()
}

function isRecord (value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const hasOwn = Object.prototype.hasOwnProperty

// the keys of `a`, then those of `b` that `a` has not: the union, without
// building it (an edit's data has dozens of keys, and this runs on every
// stored version); a key's path is made only when it is reported or descended into
function diffObjects (a: Rec, b: Rec, prefix: string, out: string[]): void {
  for (const key of Object.keys(a)) diffKey(a, b, key, prefix, out)
  for (const key of Object.keys(b)) if (!hasOwn.call(a, key)) diffKey(a, b, key, prefix, out)
}

function diffKey (a: Rec, b: Rec, key: string, prefix: string, out: string[]): void {
  const x = a[key]
  const y = b[key]
  if (isRecord(x) && isRecord(y)) diffObjects(x, y, `${prefix}.${key}`, out)
  else if (!sameValue(x, y)) out.push(`${prefix}.${key}`)
}

/** Deep equality of JSON values, key order ignored. */
export function sameValue (x: unknown, y: unknown): boolean {
  if (x === y) return true
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false
  if (Array.isArray(x) !== Array.isArray(y)) return false
  if (Array.isArray(x)) {
    const ys = y as unknown[]
    return x.length === ys.length && x.every((v, i) => sameValue(v, ys[i]))
  }
  const a = x as Rec
  const b = y as Rec
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue(a[k], b[k]))
}
