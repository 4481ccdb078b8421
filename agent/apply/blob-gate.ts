/**
 * The blob gate of the apply path: an object is written only once every
 * blob its holding references is here. Per batch:
 *
 * 1. before the transaction, the references of every candidate and which
 *    of those blobs are here (one stat per distinct hash; batches without
 *    references cost one walk of each object's data and nothing else);
 * 2. inside it, the blobs found here are looked at again — garbage
 *    collection removes blobs inside a transaction of its own, so only a
 *    look from inside ours is sure — and the candidates that would be
 *    written but miss a blob are parked as MISSING_BLOB (their dependents
 *    wait for them as for any missing dependency);
 * 3. after it, the missing blobs are asked of the peer the batch came from.
 */
import { blobRefsOfVersions, type BlobRef } from '../../protocol/blob-ref.js'
import type { StoredObject } from '../../store/types.js'
import type { ApplyContext } from './apply-context.js'
import type { Candidate } from './dependencies.js'
import { verdictOn } from './verdict.js'

export interface BlobGate {
  /** every blob a candidate references, by hash */
  readonly refs: ReadonlyMap<string, BlobRef>
  /** hashes not here (as of the last look) */
  readonly missing: Set<string>
}

/** The batch's references and which are missing, or undefined when it references none. */
export async function blobGate (ctx: ApplyContext, candidates: readonly Candidate[]): Promise<BlobGate | undefined> {
  let refs: Map<string, BlobRef> | undefined
  for (const c of candidates) {
    for (const ref of blobRefsOfVersions(c.versions)) (refs ??= new Map()).set(ref.blob, ref)
  }
  if (refs === undefined) return undefined
  const hashes = [...refs.keys()]
  const sizes = await ctx.blobs.sizes(hashes)
  return { refs, missing: new Set(hashes.filter((_, i) => sizes[i] === undefined)) }
}

/** Look again, from inside the transaction, at the blobs found here before it. */
export async function recheckBlobs (ctx: ApplyContext, gate: BlobGate): Promise<void> {
  const present = [...gate.refs.keys()].filter((h) => !gate.missing.has(h))
  if (present.length === 0) return
  const sizes = await ctx.blobs.sizes(present)
  present.forEach((h, i) => { if (sizes[i] === undefined) gate.missing.add(h) })
}

/**
 * The candidates that would be written (their holding changes) but whose
 * new holding references a missing blob: uid → those hashes. Candidates we
 * hold already, or would not write, need nothing.
 */
export function blobParkings (ctx: ApplyContext, gate: BlobGate, all: readonly Candidate[], locals: ReadonlyArray<StoredObject | undefined>): Map<string, string[]> {
  const parked = new Map<string, string[]>()
  if (gate.missing.size === 0) return parked
  for (let i = 0; i < all.length; i++) {
    const candidate = all[i]!
    if (!blobRefsOfVersions(candidate.versions).some((r) => gate.missing.has(r.blob))) continue
    const verdict = verdictOn(ctx, candidate, locals[i], undefined)
    if (verdict.kind !== 'write') continue
    const held = [verdict.holding.current, ...verdict.holding.conflicts]
    const missing = blobRefsOfVersions(held).map((r) => r.blob).filter((h) => gate.missing.has(h))
    if (missing.length > 0) parked.set(candidate.wire.uid, missing)
  }
  return parked
}

/** Ask the batch's peer for the blobs the parked objects miss (in the background). */
export function requestMissingBlobs (ctx: ApplyContext, gate: BlobGate, parked: ReadonlyMap<string, readonly string[]>): void {
  const wanted = new Map<string, BlobRef>()
  for (const hashes of parked.values()) for (const h of hashes) wanted.set(h, gate.refs.get(h)!)
  if (wanted.size > 0) ctx.blobs.request(ctx.rules.peerName, [...wanted.values()])
}
