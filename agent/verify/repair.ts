/**
 * `verify --repair`: mend from our side what a verify found, with what the
 * peer holds — never by overwriting. What we lack or hold older is fetched
 * over the verify session and applied through the normal apply path (import
 * rules, vectors, conflicts: a concurrent version becomes a sibling, as in a
 * pull). A record of ours changed behind the store's back is restored from
 * the peer's copy only when that copy is exactly what our digest says we
 * held (its leaf hash equals our stored leaf): then the restore returns the
 * record to a version we had, and trusts the peer for nothing. Otherwise
 * the digest is first made to agree with the record (healDigest) and the
 * peer's version applied as any other.
 *
 * What a repair from this side cannot mend is listed with the reason: what
 * the peer lacks, a record changed behind the peer's store, and (without a
 * check) the same vector holding different content on both sides. Two
 * versions with one vector and other content that are both signed are two
 * writes (a restored agent reused the counter): the apply path keeps the
 * peer's as a conflict sibling (protocol/same-version.ts), so they are
 * shown and resolved like any conflict.
 */
import { holdingLeaf } from '../../protocol/digest.js'
import type { ObjectVersion, WireObject } from '../../protocol/object.js'
import type { DigestProblem, ObjectWrite, Store } from '../../store/types.js'
import type { ApplyStats } from '../apply/apply-context.js'
import type { Difference } from './compare.js'
import type { RepairReport } from './report.js'

export interface RepairDeps {
  readonly store: Store
  /** the peer's current objects of these uids */
  readonly get: (uids: readonly string[]) => Promise<{ objects: WireObject[], missing: string[] }>
  /** the normal apply path, as a batch from this peer */
  readonly applyFrom: (changes: readonly WireObject[]) => Promise<ApplyStats>
  /** we import from this peer (pull: true) */
  readonly pulls: boolean
  /** the verify rebuilt both digests from the records */
  readonly checked: boolean
}

export async function repair (differences: readonly Difference[], hereProblems: readonly DigestProblem[], deps: RepairDeps): Promise<RepairReport> {
  const notRepaired: Array<{ uid: string, reason: string }> = []
  const wanted: Difference[] = []
  for (const d of differences) {
    const reason = cannotRepair(d, deps)
    if (reason !== undefined) notRepaired.push({ uid: d.uid, reason })
    else wanted.push(d)
  }
  const { objects, missing } = wanted.length > 0 ? await deps.get(wanted.map((d) => d.uid)) : { objects: [], missing: [] }
  for (const uid of missing) notRepaired.push({ uid, reason: 'the peer no longer serves it' })
  const problems = new Map(hereProblems.map((p) => [p.uid, p]))
  const restore: Array<{ object: WireObject, problem: DigestProblem }> = []
  const heal: DigestProblem[] = []
  const apply: WireObject[] = []
  for (const object of objects) {
    const problem = problems.get(object.uid)
    if (problem === undefined) apply.push(object)
    else if (problem.actual !== undefined && problem.stored !== undefined && leafHash(object) === problem.stored.leaf.hash) restore.push({ object, problem })
    else {
      heal.push(problem)
      apply.push(object)
    }
  }
  if (heal.length > 0 || restore.length > 0) {
    await deps.store.write(async (tx) => {
      for (const p of heal) await tx.healDigest(p.uid, p.stored !== undefined ? [p.stored.key] : [])
      for (const { object, problem } of restore) {
        await tx.healDigest(problem.uid, [problem.stored!.key])
        const current = await tx.get(object.uid)
        if (current !== undefined) tx.putObject(restored(current, object))
      }
    })
  }
  const stats = apply.length > 0 ? await deps.applyFrom(apply) : undefined
  const byUid = new Map(differences.map((d) => [d.uid, d]))
  if (!deps.checked) {
    for (const o of apply) if (byUid.get(o.uid)?.kind === 'different-data') notRepaired.push({ uid: o.uid, reason: 'the same vector holds different content here and there: a record changed behind a store (run verify without --quick to find which side\'s), or a restored agent that reused the vector for another write (then the peer\'s version was kept as a conflict sibling: see /api/conflicts)' })
  }
  return {
    requested: wanted.length,
    received: objects.length,
    applied: stats?.applied ?? 0,
    unchanged: stats?.unchanged ?? 0,
    conflicts: stats?.conflicts ?? 0,
    ignored: stats?.ignored ?? 0,
    failed: stats?.failed ?? 0,
    restored: restore.length,
    notRepaired: notRepaired.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0))
  }
}

function cannotRepair (d: Difference, deps: RepairDeps): string | undefined {
  if (!deps.pulls) return 'this agent does not import from the peer (pull: false)'
  if (d.corrupt === 'there') return 'the peer\'s record was changed behind its store: repair from the peer (labmesh verify --repair there)'
  if (d.kind === 'missing-there') return 'the peer lacks it: it is mended from the peer\'s side (its pull, or a verify --repair there)'
  return undefined
}

function leafHash (object: WireObject): string {
  const versions: ObjectVersion[] = [object, ...(object.conflicts ?? [])]
  return holdingLeaf(versions).hash
}

/** Our record with the peer's copy of the same version(s): its local fields (id as presented here, via, seq) stay ours. */
function restored (current: ObjectWrite, object: WireObject): ObjectWrite {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { seq: _seq, sig: _sig, ...local } = current as ObjectWrite & { seq?: number }
  return {
    ...local,
    type: object.type,
    parent: object.parent,
    refs: object.refs,
    data: object.data,
    deleted: object.deleted,
    at: object.at,
    ...(object.sig !== undefined ? { sig: object.sig } : {}),
    conflicts: object.conflicts ?? []
  }
}
