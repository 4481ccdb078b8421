/**
 * Version vectors: a pure, immutable value type (after syncthing's
 * lib/protocol/vector.go).
 *
 * A vector maps a domain (agent name) to the number of edits that domain has
 * made to an object. Comparing two vectors tells whether one version descends
 * from the other or whether they were made concurrently (a conflict).
 * Missing entries count as zero, so `{a: 1}` and `{a: 1, b: 0}` are equal.
 *
 * Invariants: counters are non-negative safe integers, and only positive
 * ones count (a zero entry equals an absent one: `raise` writes one for older
 * peers, see there); functions never mutate their arguments; results are
 * frozen.
 *
 * Entries are domains, or — after a restore — a domain's restore entry
 * `<domain>~<tag>` (`restoreEntry`): a restored agent never raises its
 * domain's own entry again, whose counters the restore may have lost track
 * of (docs/architecture/backup-restore.md, "A vector entry per restore").
 * `~` cannot occur in a domain (config/schema.ts NAME_RE), so an entry names
 * its agent unambiguously: the part before the `~` (`domainOfEntry`).
 */
import { MAX_DOMAIN_LENGTH } from './constants.js'


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

/** Between a domain and its restore tag in a restore entry: a character no domain contains. */
export const RESTORE_ENTRY_MARK = '~'

/** hex characters of the new feed epoch that tag a restore entry (32 bits: two restores of one domain never meet in practice) */
export const RESTORE_TAG_LENGTH = 8

/**
 * The entry a store restored with feed epoch `epoch` raises instead of
 * `domain`: `<domain>~<first 8 hex of the epoch>`. Undefined when that would
 * not fit a vector entry on the wire (MAX_DOMAIN_LENGTH, which protocol 1
 * and 2 peers check: domains of more than 55 characters); such an agent
 * goes on raising its domain, and a counter it reuses is caught only where
 * the vectors meet exactly (same-version.ts).
 */
export function restoreEntry (domain: string, epoch: string): string | undefined {
  const entry = `${domain}${RESTORE_ENTRY_MARK}${epoch.slice(0, RESTORE_TAG_LENGTH)}`
  return epoch.length >= RESTORE_TAG_LENGTH && entry.length <= MAX_DOMAIN_LENGTH ? entry : undefined
}

/** The domain an entry belongs to: itself, or the part of a restore entry before its `~`. */
export function domainOfEntry (entry: string): string {
  const at = entry.indexOf(RESTORE_ENTRY_MARK)
  return at === -1 ? entry : entry.slice(0, at)
}

/** Whether `vector` holds a positive entry of `domain`'s own: `domain` itself or one of its restore entries. */
export function hasEntryOf (vector: VersionVector, domain: string): boolean {
  if (counterOf(vector, domain) > 0) return true
  const prefix = `${domain}${RESTORE_ENTRY_MARK}`
  for (const [entry, counter] of Object.entries(vector)) if (counter > 0 && entry.startsWith(prefix)) return true
  return false
}

/**
 * A local write's vector: `vector` with `entry` (this agent's: its domain, or
 * after a restore its restore entry) raised by one. When `entry` is a
 * restore entry and the vector has no entry of `domain` itself, it gets
 * `domain: 0`: peers running code from before restore entries accept a
 * signed version only if the signer's domain `sig.by` has an entry in its
 * vector (any counter), and a zero changes no comparison.
 */
export function raise (vector: VersionVector, entry: string, domain: string): VersionVector {
  const raised = increment(vector, entry)
  if (entry === domain || counterOf(raised, domain) > 0) return raised
  return Object.freeze({ ...raised, [domain]: 0 })
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
