/**
 * Past versions: recent versions of each object that were current here and
 * were replaced by a version descending from them — the candidates for the
 * common ancestor of a later conflict (protocol/merge.ts findBase). Kept in
 * sublevel `p`, one row per version, in a ring of PAST_VERSIONS_KEPT slots
 * per object (`uid \x00 slot`), written by putObject in the same transaction
 * as the object (level-write-tx.ts), so a row never holds a version the
 * store did not hold.
 *
 * Why slots: a write puts its row blindly — no read of what the object kept
 * before, no rewrite of the other kept versions — so an update costs one
 * more encoded version and one more put, not a read-modify-write of every
 * kept copy. The slot is the version's total edit count (the sum of its
 * vector) modulo the ring: versions along one chain of edits have strictly
 * growing totals, so the last PAST_VERSIONS_KEPT single-step edits land in
 * distinct slots; a version whose total jumps by a multiple of the ring
 * overwrites an older one early. That loses a candidate, never makes a
 * wrong base: findBase checks both vectors against each version it reads.
 *
 * Only a replacement by a newer version adds one: a concurrent version that
 * takes over adds nothing (the ancestor of both is further back), and a
 * write that changes only store-local fields adds nothing. History switched
 * off (`history.versions: 0`) keeps none: then no base is known.
 */
import type { PastVersion } from '../protocol/merge.js'
import { compare, totalEdits } from '../protocol/version-vector.js'
import type { StoredObject } from './types.js'

export type { PastVersion } from '../protocol/merge.js'

/**
 * Past versions kept per object. A conflict's base is usually one or two
 * versions back (the version both sides held when they last synced).
 */
export const PAST_VERSIONS_KEPT = 4

/** The slot row a write from `prev` to `next` puts, or undefined when it keeps nothing. */
export function pastWrite (prev: StoredObject | undefined, next: StoredObject, keep: number): { slot: number, version: PastVersion } | undefined {
  if (prev === undefined || keep === 0 || compare(next.vector, prev.vector) !== 'newer') return undefined
  return { slot: totalEdits(prev.vector) % keep, version: pastVersionOf(prev) }
}

/** Kept versions, oldest first (by total edits, then time): findBase takes the newest that fits. */
export function inPastOrder (versions: Iterable<PastVersion>): PastVersion[] {
  return [...versions].sort((a, b) => totalEdits(a.vector) - totalEdits(b.vector) || a.at - b.at)
}

function pastVersionOf (v: StoredObject): PastVersion {
  return { type: v.type, id: v.id, parent: v.parent, refs: v.refs, data: v.data, deleted: v.deleted, vector: v.vector, at: v.at }
}
