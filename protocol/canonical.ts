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
 * A copy of a JSON value whose objects enumerate their keys in canonical
 * order (arrays and scalars as they are), so that JSON.stringify of it is
 * its canonical text — except under integer-like keys, which no key order
 * can put last.
 */
export function canonicalize<T> (value: T): T {
  if (Array.isArray(value)) return value.map(canonicalize) as T
  if (typeof value === 'object' && value !== null) {
    const rec = value as Rec
    const out: Rec = {}
    for (const k of Object.keys(rec).sort()) out[k] = canonicalize(rec[k])
    return out as T
  }
  return value
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
