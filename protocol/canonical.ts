/**
 * Canonical JSON: the one serialisation of a JSON value that every agent
 * computes alike, so a hash of it can be signed (provenance.ts) and compared
 * (content hashes). It is JSON.stringify's text — no whitespace, ECMAScript
 * number and string forms — with the members of every object in ascending
 * order of their keys by UTF-16 code units (RFC 8785, JCS, for the values
 * labmesh carries: JSON from a parser, no `undefined`, no `toJSON`).
 *
 * Why a fast path: local writes store `data` already in canonical order
 * (canonicalize), and JSON.parse keeps member order, so on a receiver
 * JSON.stringify almost always IS the canonical text. `canonicalText` checks
 * that order with one walk (~1 µs for 1 KiB) before trusting it, and builds
 * the text explicitly otherwise (integer-like keys, which JavaScript objects
 * always enumerate first in numeric order, take that slow path).
 */

type Rec = Record<string, unknown>

/** The canonical JSON text of `value`. */
export function canonicalText (value: unknown): string {
  return inCanonicalOrder(value) ? JSON.stringify(value) : canonicalJson(value)
}

/** The canonical JSON text, built explicitly (sorting every object's keys). */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const rec = value as Rec
    return `{${Object.keys(rec).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(rec[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * A JSON value whose objects enumerate their keys in canonical order (arrays
 * and scalars as they are), so that JSON.stringify of it is its canonical
 * text — except under integer-like keys, which no key order can put last.
 * Objects already in that order, and arrays holding nothing to reorder, are
 * returned as they are, not copied: an edit mostly keeps the order of the
 * stored version it came from, and copying every object of it was a
 * measurable share of a local write's allocations (bench/README.md, round
 * four). The result is the same JSON as a full copy's.
 */
export function canonicalize<T> (value: T): T {
  return canonicalIn(value, { exact: true })
}

/**
 * `canonicalize(value)`, and whether JSON.stringify of the result is its
 * canonical text (false only when an object with integer-like keys had to
 * be reordered): what canonicalText would find by walking the result again.
 */
export function canonicalForm<T> (value: T): { readonly value: T, readonly exact: boolean } {
  const state = { exact: true }
  return { value: canonicalIn(value, state), exact: state.exact }
}

/** `exact` turns false when a reordered object enumerates its keys in another order than the sorted one */
function canonicalIn<T> (value: T, state: { exact: boolean }): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const c = canonicalIn(item, state)
      if (c !== item) (out ??= value.slice())[i] = c
    }
    return (out ?? value) as T
  }
  const rec = value as Rec
  const keys = Object.keys(rec)
  if (inOrder(keys)) {
    let out: Rec | undefined
    for (const k of keys) {
      const item = rec[k]
      const c = canonicalIn(item, state)
      if (c !== item) (out ??= { ...rec })[k] = c
    }
    return (out ?? value) as T
  }
  keys.sort()
  const out: Rec = {}
  for (const k of keys) out[k] = canonicalIn(rec[k], state)
  // integer-like keys enumerate first, in numeric order, whatever the insertion order
  if (state.exact && !inOrder(Object.keys(out))) state.exact = false
  return out as T
}

/** strictly ascending, and no `__proto__` (a copy cannot hold it as an own key: such an object takes the copying path) */
function inOrder (keys: readonly string[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] === '__proto__' || (i > 0 && !(keys[i - 1]! < keys[i]!))) return false
  }
  return true
}

/** Whether every object in `value` enumerates its keys in canonical order. */
export function inCanonicalOrder (value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inCanonicalOrder(value[i])) return false
    return true
  }
  const keys = Object.keys(value)
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && !(keys[i - 1]! < keys[i]!)) return false
    if (!inCanonicalOrder((value as Rec)[keys[i]!])) return false
  }
  return true
}
