/**
 * How two agents' digests differ, uid by uid: pure functions over leaves
 * (protocol/digest.ts) and the problems each side's check found.
 *
 * Kinds: `missing-here` (the peer holds the uid, we do not), `missing-there`,
 * `different-version` (the vectors held differ), `different-data` (the same
 * vectors, different content: corruption, or a version altered on the way).
 * `corrupt` names the side(s) whose record disagrees with its own digest: a
 * write that bypassed the store. There the record, not the digest, is what
 * the side holds, so it is compared.
 */
import type { DigestGroup } from '../../protocol/digest.js'
import { compare, type VersionVector } from '../../protocol/version-vector.js'
import type { WireLeaf, WireProblem } from '../../protocol/verify-messages.js'

export type DifferenceKind = 'missing-here' | 'missing-there' | 'different-version' | 'different-data'

/** What one side holds of a uid, as the report shows it. */
export interface SideView {
  readonly vectors: readonly VersionVector[]
  readonly deleted: boolean
}

export interface Difference {
  readonly uid: string
  /** the digest type and origin it counts under (the side that holds it; ours when both do) */
  readonly type: string
  readonly origin: string
  readonly kind: DifferenceKind
  readonly here?: SideView
  readonly there?: SideView
  readonly corrupt?: 'here' | 'there' | 'both'
}

/** A uid both digests describe differently (from the tree walk): the leaf each side's digest holds, and its group. */
export interface LeafPair {
  readonly uid: string
  readonly group: DigestGroup
  readonly here?: WireLeaf
  readonly there?: WireLeaf
}

/** How `here` and `there` differ, or undefined when they hold the same. */
export function classify (here: WireLeaf | undefined, there: WireLeaf | undefined): DifferenceKind | undefined {
  if (here === undefined && there === undefined) return undefined
  if (here === undefined) return 'missing-here'
  if (there === undefined) return 'missing-there'
  if (!sameVectors(here.vectors, there.vectors)) return 'different-version'
  return here.hash === there.hash ? undefined : 'different-data'
}

/** Vectors in canonical order, compared as vectors (a zero entry is no entry). */
export function sameVectors (a: readonly VersionVector[], b: readonly VersionVector[]): boolean {
  return a.length === b.length && a.every((v, i) => compare(v, b[i]!) === 'equal')
}

/** The uids whose leaves differ between two lists of one range (either may lack a uid). */
export function diffLeaves (group: DigestGroup, here: readonly WireLeaf[], there: readonly WireLeaf[]): LeafPair[] {
  const theirs = new Map(there.map((l) => [l.uid, l]))
  const out: LeafPair[] = []
  for (const leaf of here) {
    const other = theirs.get(leaf.uid)
    theirs.delete(leaf.uid)
    if (other === undefined || other.hash !== leaf.hash || !sameVectors(leaf.vectors, other.vectors)) out.push({ uid: leaf.uid, group, here: leaf, ...(other !== undefined ? { there: other } : {}) })
  }
  for (const leaf of theirs.values()) out.push({ uid: leaf.uid, group, there: leaf })
  return out
}

/**
 * The differences: every uid the digests describe differently, and every uid
 * a side's check found, each compared as what the side really holds (its
 * record where its check found one that disagrees with its digest). A uid a
 * check found but the digests agree on held the same stored leaf on both
 * sides. Sorted by uid.
 */
export function differences (pairs: readonly LeafPair[], hereProblems: readonly WireProblem[], thereProblems: readonly WireProblem[]): Difference[] {
  const byUid = new Map(pairs.map((p) => [p.uid, p]))
  const here = new Map(hereProblems.map((p) => [p.uid, p]))
  const there = new Map(thereProblems.map((p) => [p.uid, p]))
  const out: Difference[] = []
  for (const uid of new Set([...byUid.keys(), ...here.keys(), ...there.keys()])) {
    const pair = byUid.get(uid)
    const hp = here.get(uid)
    const tp = there.get(uid)
    // not in the walk: both digests hold the same stored leaf (or none)
    const agreed = pair === undefined ? (hp?.stored ?? tp?.stored)?.leaf : undefined
    const storedHere = pair !== undefined ? pair.here : agreed
    const storedThere = pair !== undefined ? pair.there : agreed
    const effectiveHere = hp !== undefined ? hp.actual?.leaf : storedHere
    const effectiveThere = tp !== undefined ? tp.actual?.leaf : storedThere
    const kind = classify(effectiveHere, effectiveThere)
    if (kind === undefined) continue
    const group = (hp?.actual ?? hp?.stored ?? pair?.group ?? tp?.actual ?? tp?.stored)!
    const corrupt = hp !== undefined && tp !== undefined ? 'both' : hp !== undefined ? 'here' : tp !== undefined ? 'there' : undefined
    out.push({
      uid,
      type: group.type,
      origin: group.origin,
      kind,
      ...(effectiveHere !== undefined ? { here: view(effectiveHere) } : {}),
      ...(effectiveThere !== undefined ? { there: view(effectiveThere) } : {}),
      ...(corrupt !== undefined ? { corrupt } : {})
    })
  }
  return out.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0))
}

function view (leaf: WireLeaf): SideView {
  return { vectors: leaf.vectors, deleted: leaf.deleted }
}
