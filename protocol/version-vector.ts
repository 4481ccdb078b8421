/**
 * Version vectors: a pure, immutable value type (after syncthing's
 * lib/protocol/vector.go).
 *
 * A vector maps a domain (agent name) to the number of edits that domain has
 * made to an object. Comparing two vectors tells whether one version descends
 * from the other or whether they were made concurrently (a conflict).
 * Missing entries count as zero, so `{a: 1}` and `{a: 1, b: 0}` are equal.
 *
 * Invariants: counters are positive safe integers; functions never mutate
 * their arguments; results are frozen.
 */

export type VersionVector = Readonly<Record<string, number>>

/** How vector `a` relates to vector `b`. */
export type Ordering =
  | 'equal'
  /** `a` descends from `b`: every entry ≥, at least one > */
  | 'newer'
  /** `b` descends from `a` */
  | 'older'
  /**
   * Neither descends from the other. Split in two (as syncthing does) so that
   * a tie between concurrent versions always breaks the same way on every
   * agent: `concurrent-greater` means `a` wins the deterministic tie-break.
   */
  | 'concurrent-greater'
  | 'concurrent-lesser'

export const EMPTY_VECTOR: VersionVector = Object.freeze({})

/** The counter a domain has in a vector (0 when absent). */
export function counterOf (vector: VersionVector, domain: string): number {
  return Object.prototype.hasOwnProperty.call(vector, domain) ? (vector[domain] ?? 0) : 0
}

/** A copy of `vector` with `domain`'s counter raised by one. */
export function increment (vector: VersionVector, domain: string): VersionVector {
  return Object.freeze({ ...withoutZeros(vector), [domain]: counterOf(vector, domain) + 1 })
}

/** The pointwise maximum of the given vectors. */
export function merge (...vectors: VersionVector[]): VersionVector {
  const out: Record<string, number> = {}
  for (const vector of vectors) {
    for (const [domain, counter] of Object.entries(vector)) {
      if (counter > 0 && counter > (out[domain] ?? 0)) out[domain] = counter
    }
  }
  return Object.freeze(out)
}

/** Full ordering of `a` relative to `b`. */
export function compare (a: VersionVector, b: VersionVector): Ordering {
  let aAhead = false
  let bAhead = false
  for (const domain of Object.keys(a)) {
    const ca = counterOf(a, domain)
    const cb = counterOf(b, domain)
    if (ca > cb) aAhead = true
    else if (ca < cb) bAhead = true
  }
  for (const domain of Object.keys(b)) {
    if (Object.prototype.hasOwnProperty.call(a, domain)) continue
    if (counterOf(b, domain) > 0) bAhead = true
  }
  if (aAhead && bAhead) return tieBreak(a, b) > 0 ? 'concurrent-greater' : 'concurrent-lesser'
  if (aAhead) return 'newer'
  if (bAhead) return 'older'
  return 'equal'
}

export function isConcurrent (ordering: Ordering): boolean {
  return ordering === 'concurrent-greater' || ordering === 'concurrent-lesser'
}

/** True when `a` is equal to or descends from `b` (a already contains b). */
export function dominatesOrEquals (a: VersionVector, b: VersionVector): boolean {
  const o = compare(a, b)
  return o === 'equal' || o === 'newer'
}

/** Sum of all counters: a cheap size measure used in logs. */
export function totalEdits (vector: VersionVector): number {
  let sum = 0
  for (const counter of Object.values(vector)) sum += counter
  return sum
}

/** Compact log form: `a:3,b:1` with domains sorted. */
export function formatVector (vector: VersionVector): string {
  return Object.keys(vector).filter((d) => counterOf(vector, d) > 0).sort()
    .map((d) => `${d}:${counterOf(vector, d)}`).join(',')
}

/**
 * Deterministic order between two concurrent vectors: compares the canonical
 * string forms. Antisymmetric (tieBreak(a,b) === -tieBreak(b,a)) and never 0
 * for vectors that differ, which is all compare() needs.
 */
function tieBreak (a: VersionVector, b: VersionVector): number {
  const fa = formatVector(a)
  const fb = formatVector(b)
  return fa > fb ? 1 : fa < fb ? -1 : 0
}

function withoutZeros (vector: VersionVector): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [domain, counter] of Object.entries(vector)) if (counter > 0) out[domain] = counter
  return out
}
