/**
 * Past versions: the last few versions of each object that were current
 * here and were replaced by a version descending from them — the candidates
 * for the common ancestor of a later conflict (protocol/merge.ts findBase).
 * One row per object in sublevel `p`, oldest first, at most
 * PAST_VERSIONS_KEPT, written by putObject in the same transaction as the
 * object (level-write-tx.ts), so a row never names a version the store did
 * not hold.
 *
 * Only a replacement by a newer version adds one: a concurrent version that
 * takes over keeps the row as it was (the ancestor of both is further back),
 * and a write that changes only store-local fields adds nothing. History
 * switched off (`history.versions: 0`) keeps none: then no base is known.
 */
import type { PastVersion } from '../protocol/merge.js'
import { compare } from '../protocol/version-vector.js'
import type { StoredObject } from './types.js'

export type { PastVersion } from '../protocol/merge.js'

/**
 * Past versions kept per object. A conflict's base is usually one or two
 * versions back (the version both sides held when they last synced); each
 * kept version costs one more copy of the object's data, rewritten with the
 * row on every update of the object.
 */
export const PAST_VERSIONS_KEPT = 4

/** The row after a write from `prev` to `next`, or undefined when the write adds nothing to it. */
export function pastAfterWrite (row: readonly PastVersion[] | undefined, prev: StoredObject | undefined, next: StoredObject, keep: number): PastVersion[] | undefined {
  if (prev === undefined || keep === 0 || compare(next.vector, prev.vector) !== 'newer') return undefined
  const kept = (row ?? []).filter((p) => compare(p.vector, prev.vector) !== 'equal')
  kept.push(pastVersionOf(prev))
  return kept.length > keep ? kept.slice(kept.length - keep) : kept
}

function pastVersionOf (v: StoredObject): PastVersion {
  return { type: v.type, id: v.id, parent: v.parent, refs: v.refs, data: v.data, deleted: v.deleted, vector: v.vector, at: v.at }
}
