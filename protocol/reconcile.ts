/**
 * How incoming versions merge into what an agent holds for one uid
 * (DESIGN.md, "Version vectors and conflicts"). Pure: no I/O, no clock.
 *
 * The agent holds a set of mutually concurrent versions: the current one and
 * its conflict siblings. An incoming version that is equal to or older than
 * any held version is already known and changes nothing. Otherwise it joins
 * the set and evicts every held version it descends from. The current version
 * stays current unless an incoming version descends from it (fast-forward);
 * a concurrent one is kept as a sibling, never applied over it.
 *
 * Equal vectors are one version only when they say the same (sameVersion:
 * the signed content hash, or the content of unsigned versions). Two
 * versions with one vector and different content are two writes that
 * reused a counter (a restored agent: docs/architecture/backup-restore.md, "Version
 * counters reused"); neither descends from the other, so both are kept, as
 * siblings, like concurrent versions. Which of them is current here is the
 * local one's, as for any conflict.
 */
import type { ObjectVersion } from './object.js'
import { sameVersion } from './same-version.js'
import { compare, isConcurrent } from './version-vector.js'

export interface Holding {
  readonly current: ObjectVersion
  readonly conflicts: readonly ObjectVersion[]
}

export type ReconcileResult =
  | { readonly changed: false }
  | {
    readonly changed: true
    readonly holding: Holding
    /** the current version was replaced by a newer one */
    readonly currentReplaced: boolean
    /** siblings that were not held before */
    readonly newConflicts: number
  }

/**
 * Merge `incoming` (a sender's current version first, then its siblings) into
 * `local` (undefined when the uid is new here).
 */
export function reconcile (local: Holding | undefined, incoming: readonly ObjectVersion[]): ReconcileResult {
  // The two common cases, answered without the general set arithmetic (same
  // results): a uid new here, and one version against a holding without siblings.
  if (incoming.length === 1 && (local === undefined || local.conflicts.length === 0)) {
    const version = incoming[0]!
    if (local === undefined) return { changed: true, holding: { current: version, conflicts: NO_SIBLINGS }, currentReplaced: true, newConflicts: 0 }
    const o = compare(version.vector, local.current.vector)
    if (o === 'newer') return { changed: true, holding: { current: version, conflicts: NO_SIBLINGS }, currentReplaced: true, newConflicts: 0 }
    if (o === 'older' || (o === 'equal' && sameVersion(version, local.current))) return UNCHANGED
    // an equal vector with other content falls through: it becomes a sibling
  }
  let held: ObjectVersion[] = local !== undefined ? [local.current, ...local.conflicts] : []
  const before = new Set(held)
  let added = false

  for (const version of incoming) {
    if (held.some((h) => knownAlready(h, version))) continue
    held = held.filter((h) => compare(version.vector, h.vector) !== 'newer')
    held.push(version)
    added = true
  }
  if (!added) return { changed: false }

  const current = chooseCurrent(local?.current, held)
  const conflicts = held.filter((h) => h !== current)
  const newConflicts = conflicts.filter((c) => !before.has(c)).length
  return {
    changed: true,
    holding: { current, conflicts },
    currentReplaced: local === undefined || current !== local.current,
    newConflicts
  }
}

const NO_SIBLINGS: readonly ObjectVersion[] = Object.freeze([])
const UNCHANGED: ReconcileResult = Object.freeze({ changed: false })

/** `held` already contains `version`: it is that version, or descends from it. */
function knownAlready (held: ObjectVersion, version: ObjectVersion): boolean {
  const o = compare(held.vector, version.vector)
  return o === 'newer' || (o === 'equal' && sameVersion(held, version))
}

/**
 * Keep the local current version if it survived; otherwise prefer a version
 * that descends from it, then the first incoming one, breaking ties between
 * concurrent candidates the same way on every agent.
 */
function chooseCurrent (localCurrent: ObjectVersion | undefined, held: readonly ObjectVersion[]): ObjectVersion {
  if (localCurrent !== undefined && held.includes(localCurrent)) return localCurrent
  const descendants = localCurrent !== undefined
    ? held.filter((h) => compare(h.vector, localCurrent.vector) === 'newer')
    : []
  const candidates = descendants.length > 0 ? descendants : held
  if (localCurrent === undefined) return candidates[0] as ObjectVersion
  let best = candidates[0] as ObjectVersion
  for (const c of candidates.slice(1)) {
    const o = compare(c.vector, best.vector)
    if (o === 'newer' || o === 'concurrent-greater') best = c
  }
  return best
}

/** Whether a holding shows a conflict: a sibling concurrent with the current version, or one with its vector and other content. */
export function holdsConflict (h: Holding): boolean {
  return h.conflicts.some((c) => {
    const o = compare(c.vector, h.current.vector)
    return isConcurrent(o) || (o === 'equal' && !sameVersion(c, h.current))
  })
}
