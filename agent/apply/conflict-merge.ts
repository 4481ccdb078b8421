/**
 * A conflict seen three ways: this agent's current version (`local`), the
 * sibling a resolution takes as `remote` (the same one `pick: remote`
 * takes), and their common ancestor (`base`), found among the versions the
 * object had here before (store/past-versions.ts). The comparison and the
 * merge themselves are pure (protocol/merge.ts); this module only picks the
 * three versions and turns a field-wise resolution into content.
 *
 * With more than two versions in conflict, the others are listed beside
 * (`remotes`) and, as with a pick, replaced by the resolution.
 */
import { compareThreeWay, findBase, mergeThreeWay, type MergeContent, type MergeSide, type PastVersion, type ThreeWayReport } from '../../protocol/merge.js'
import type { ObjectVersion } from '../../protocol/object.js'
import type { StoredObject } from '../../store/types.js'

/** `{merge: "auto"}`, optionally with picks; or `{fields}` alone (the same: unpicked fields merge as auto does). */
export type MergeResolution =
  | { readonly merge: 'auto', readonly fields?: Readonly<Record<string, MergeSide>> }
  | { readonly fields: Readonly<Record<string, MergeSide>> }

export interface ConflictMerge {
  readonly remote: ObjectVersion
  /** the common ancestor, when this agent still has it */
  readonly base: PastVersion | undefined
  readonly report: ThreeWayReport
}

/** A conflicted object with its three-way comparison (GET /api/conflicts/:uid). */
export type ConflictedObject = StoredObject & { readonly merge: ConflictMerge }

/**
 * The sibling `remote` means: newest wall-clock write first, ties by vector
 * text, so that every agent picks the same one.
 */
export function remoteSibling (siblings: readonly ObjectVersion[]): ObjectVersion {
  return [...siblings].sort((a, b) => b.at - a.at || JSON.stringify(b.vector).localeCompare(JSON.stringify(a.vector)))[0]!
}

export function describeConflict (object: StoredObject, past: readonly PastVersion[]): ConflictMerge {
  const remote = remoteSibling(object.conflicts)
  const base = findBase(past, object.vector, remote.vector)
  return { remote, base, report: compareThreeWay(base, object, remote) }
}

/** The content a field-wise resolution writes (MergeConflictError / MergeFieldError when it cannot). */
export function mergedContent (object: StoredObject, past: readonly PastVersion[], resolution: MergeResolution): MergeContent {
  const remote = remoteSibling(object.conflicts)
  return mergeThreeWay(findBase(past, object.vector, remote.vector), object, remote, resolution.fields ?? {})
}

export function isMergeResolution (resolution: object): resolution is MergeResolution {
  return 'merge' in resolution || 'fields' in resolution
}
