/**
 * Applying a batch pulled from a remote: rules, dependencies, vectors, the
 * instance, and the checkpoint — committed as one store transaction.
 *
 * 1. Rules decide per object: apply (id presented the local way) or ignore.
 * 2. Dependencies (parent and refs) that we do not hold and the batch does not
 *    bring are fetched from the same remote first, whatever the type filters
 *    say; reference cycles are fine because everything lands in one batch. An
 *    object whose dependency cannot be had is parked in the failed queue —
 *    never written half-made — while the rest of the batch flows on. So is
 *    one whose blobs (attachments) are not here yet (MISSING_BLOB,
 *    blob-gate.ts): they are fetched from the same remote in the background,
 *    and the failed queue applies it once they are here.
 * 2b. Provenance: every version's signature is checked (provenance.ts); an
 *    object with a version that fails is parked as BAD_SIGNATURE (its
 *    history records the refusal) and what we hold of it stays; its blobs
 *    are not fetched. A blob reference sits inside `data`, which the
 *    signature covers, so a blob's hash is signed with the version.
 * 3. Vectors decide per object (store/reconcile): fast-forward, nothing, or a
 *    conflict sibling kept beside the current version (verdict.ts; what
 *    cannot be stored whole is parked, park.ts).
 * 4. The instance is written (connector), then objects, failed entries and the
 *    advanced checkpoint are committed in ONE LevelDB batch.
 *
 * This is the hot path of an initial sync: the phases below each run once per
 * batch, and per object they add no await, no store read and no JSON work
 * beyond what the object needs.
 */
import type { ObjectVersion, WireObject } from '../../protocol/object.js'
import type { Checkpoint, ObjectWrite, StoredObject, WriteTx } from '../../store/types.js'
import type { RemoteWrite } from '../connectors/connector.js'
import { blobGate, blobParkings, recheckBlobs, requestMissingBlobs } from './blob-gate.js'
import { blockedBy, present, resolveDependencies, type Candidate } from './dependencies.js'
import { ObjectTooLargeError } from '../../protocol/errors.js'
import { decideInbound } from '../rules/inbound.js'
import { emptyStats, type ApplyContext, type ApplyStats } from './apply-context.js'
import { badSignatureReason, missingBlobReason, park, tooLargeReason } from './park.js'
import type { ProvenanceResult } from './provenance.js'
import { verdictOn, type PendingWrite } from './verdict.js'
import { rejectedEntry } from '../../store/history.js'

export { emptyStats, type ApplyContext, type ApplyStats } from './apply-context.js'
export { FAILED_RETRY_MAX_MS, FAILED_RETRY_MIN_MS, retryDelay } from './park.js'

/** Where the batch leaves the remote's feed: its checkpoint after this batch. */
type Next = { seq: number, epoch: string, servesHash?: string | undefined }

/**
 * Apply `changes` from the remote and advance its checkpoint to `next`, in one
 * transaction. `next` undefined applies without touching the checkpoint
 * (retries of parked objects).
 */
export async function applyRemoteBatch (
  ctx: ApplyContext,
  changes: readonly WireObject[],
  next: Next | undefined,
  /** called when the transaction is prepared and queued for commit (Store.write's onPrepared) */
  onPrepared?: () => void
): Promise<ApplyStats> {
  const stats = emptyStats()
  stats.received = changes.length
  const candidates = triage(ctx, changes, stats)

  const { dependencies, unavailable, heldHere } = await resolveDependencies({
    rules: ctx.rules,
    fetch: ctx.fetch,
    held: async (uids) => await ctx.store.holds(uids)
  }, candidates)
  stats.dependencies = dependencies.length
  const all = [...dependencies, ...candidates]
  const provenance = await ctx.provenance.check(all.map((c) => c.wire))
  stats.unsigned = provenance.unsigned
  // what needs a refused version waits for it, as for any dependency that cannot be had
  for (const uid of provenance.bad.keys()) unavailable.add(uid)
  // a refused version's blobs are neither looked for nor fetched
  const gate = await blobGate(ctx, provenance.bad.size === 0 ? all : all.filter((c) => !provenance.bad.has(c.wire.uid)))
  let blobParked: Map<string, string[]> | undefined

  let refusals: RefusedVersion[] = []
  await ctx.store.write(async (tx) => {
    const locals = await tx.getMany(all.map((c) => c.wire.uid))
    // a dependency found held before the transaction may have been in a write
    // that then failed: what is not here now is unavailable, never assumed
    if (heldHere.length > 0) {
      const stillHeld = await tx.holds(heldHere)
      for (let i = 0; i < heldHere.length; i++) if (!stillHeld[i]!) unavailable.add(heldHere[i]!)
    }
    if (gate !== undefined) {
      await recheckBlobs(ctx, gate)
      blobParked = blobParkings(ctx, gate, all, locals)
      // what waits for a blob is not here for its dependents either
      for (const uid of blobParked.keys()) unavailable.add(uid)
    }
    const blocked = blockedBy(all, unavailable)
    const writes: PendingWrite[] = []
    for (let i = 0; i < all.length; i++) {
      const candidate = all[i]!
      const uid = candidate.wire.uid
      const problem = provenance.bad.get(uid)
      if (problem !== undefined) {
        await refuse(tx, ctx, candidate, locals[i], problem)
        stats.failed++
        stats.badSignatures++
        continue
      }
      const blobs = blobParked?.get(uid)
      if (blobs !== undefined && !blocked.has(uid)) {
        await park(tx, ctx, candidate.wire, 'MISSING_BLOB', missingBlobReason(ctx.rules.peerName, blobs), blobs)
        stats.failed++
        continue
      }
      const verdict = verdictOn(ctx, candidate, locals[i], blocked.get(uid))
      if (verdict.kind === 'write') {
        writes.push(verdict)
      } else if (verdict.kind === 'unchanged') {
        // we hold this version or a newer one: whatever was parked for it is moot
        tx.deleteFailed(candidate.wire.uid)
        stats.unchanged++
      } else {
        await park(tx, ctx, candidate.wire, verdict.code, verdict.reason, verdict.missing)
        stats.failed++
      }
    }
    const refused = await writeInstance(tx, ctx, writes)
    refusals = await storeWrites(tx, ctx, writes, refused, next, stats, provenance)
    if (next !== undefined) await advanceCheckpoint(tx, ctx, next, changes.length)
  }, { source: ctx.rules.peerName, ...(onPrepared !== undefined ? { onPrepared } : {}) })
  if (gate !== undefined && blobParked !== undefined) requestMissingBlobs(ctx, gate, blobParked)
  logRefusals(ctx, refusals)
  return stats
}

/** The rules' verdict per object: the ones to apply, presented the local way; the rest counted as ignored. */
function triage (ctx: ApplyContext, changes: readonly WireObject[], stats: ApplyStats): Candidate[] {
  const candidates: Candidate[] = []
  for (const wire of changes) {
    const decision = decideInbound(ctx.rules, wire)
    if (decision.action === 'ignore') {
      stats.ignored++
      stats.ignoredBy[decision.reason] = (stats.ignoredBy[decision.reason] ?? 0) + 1
      continue
    }
    candidates.push(present(ctx.rules, wire, false))
  }
  return candidates
}

/** An instance's refusal: why, and the mesh objects it waits for (retried once they are here). */
interface Refusal { readonly code: string, readonly reason: string, readonly retryable: boolean, readonly missing: readonly string[] }
type RefusedVersion = Refusal & { readonly version: ObjectVersion }

/**
 * Write every replaced current version to the instance (one connector call
 * for the batch, its rows in this transaction); returns the writes it
 * refused, by index in `writes`, with its code and reason.
 */
async function writeInstance (tx: WriteTx, ctx: ApplyContext, writes: readonly PendingWrite[]): Promise<Map<number, Refusal>> {
  const remoteWrites: RemoteWrite[] = []
  const remoteIndex: number[] = []
  writes.forEach((w, i) => {
    if (w.replaced) {
      remoteWrites.push({ previous: w.local, next: w.holding.current })
      remoteIndex.push(i)
    }
  })
  const rows = {
    get: async <T>(space: string, key: string) => await tx.getAux<T>(space, key),
    put: (space: string, key: string, value: unknown) => tx.putAux(space, key, value),
    delete: (space: string, key: string) => tx.deleteAux(space, key)
  }
  const results = remoteWrites.length > 0 ? await ctx.connector.applyRemote(remoteWrites, rows) : []
  const refused = new Map<number, Refusal>()
  results.forEach((r, j) => { if (!r.ok) refused.set(remoteIndex[j]!, { code: r.code, reason: r.reason, retryable: r.retryable, missing: r.missing ?? [] }) })
  return refused
}

/**
 * Park an object whose versions fail their provenance check, and note the
 * refusal in its history (the version held here stays as it is).
 */
async function refuse (tx: WriteTx, ctx: ApplyContext, candidate: Candidate, local: StoredObject | undefined, problem: string): Promise<void> {
  const reason = badSignatureReason(ctx.rules.peerName, problem)
  await park(tx, ctx, candidate.wire, 'BAD_SIGNATURE', reason, [])
  tx.appendHistory(candidate.wire.uid, [rejectedEntry(candidate.versions[0]!, { appliedAt: ctx.now(), via: ctx.rules.peerName, reason: problem, held: local })])
  ctx.onBadSignature?.(candidate.wire.uid, problem)
}

/**
 * Store each write the instance took, parking what it refused and what the
 * store refuses as too large; returns the refusals that are news (logged
 * once the transaction committed).
 */
async function storeWrites (tx: WriteTx, ctx: ApplyContext, writes: readonly PendingWrite[], refused: ReadonlyMap<number, Refusal>, next: Next | undefined, stats: ApplyStats, provenance: ProvenanceResult): Promise<RefusedVersion[]> {
  const news: RefusedVersion[] = []
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!
    const failure = refused.get(i)
    if (failure !== undefined) {
      if (await park(tx, ctx, w.candidate.wire, failure.code, failure.reason, failure.missing)) news.push({ ...failure, version: w.holding.current })
      stats.failed++
      continue
    }
    const refusal = putUnlessTooLarge(tx, recordOf(ctx, w, next), provenance.dataText(w.holding.current.data))
    if (refusal !== undefined) {
      await park(tx, ctx, w.candidate.wire, refusal.code, tooLargeReason(ctx.rules.peerName, w.holding.current, refusal.bytes), [])
      stats.failed++
      continue
    }
    tx.deleteFailed(w.candidate.wire.uid)
    stats.applied++
    stats.conflicts += w.newConflicts
  }
  return news
}

/**
 * Each refusal by the instance, logged once per object: again only when the
 * instance answers with another message, or refuses the object again after
 * it had been applied (its failed entry, gone then, is what tells).
 */
function logRefusals (ctx: ApplyContext, refusals: readonly RefusedVersion[]): void {
  if (ctx.log === undefined) return
  for (const r of refusals) {
    const v = r.version
    const fields = { uid: v.uid, type: v.type, id: v.id, peer: ctx.rules.peerName, code: r.code, reason: r.reason, retryable: r.retryable }
    const message = `the instance refused ${v.type} ${v.id} (${v.uid}) from peer ${ctx.rules.peerName}: ${r.reason} [${r.code}]; it waits in the failed queue (GET /api/failed/summary) and is retried${r.retryable ? ' with backoff' : ' with backoff, but will fail the same way until the cause is fixed'}`
    if (r.retryable) ctx.log.warn(fields, message)
    else ctx.log.error(fields, message)
  }
}

/** The record of a write: its current version, field by field (without any `conflicts` it carried on the wire), its siblings, and where they came from. */
function recordOf (ctx: ApplyContext, w: PendingWrite, next: Next | undefined): ObjectWrite {
  const conflictVia = w.holding.conflicts.length === 0
    ? undefined
    : w.newConflicts > 0 ? [...new Set([...(w.local?.conflictVia ?? []), ctx.rules.peerName])] : w.local?.conflictVia
  const viaEpoch = viaEpochOf(w.replaced, w.local, next)
  const c = w.holding.current
  return {
    uid: c.uid,
    type: c.type,
    id: c.id,
    parent: c.parent,
    refs: c.refs,
    data: c.data,
    vector: c.vector,
    origin: c.origin,
    deleted: c.deleted,
    at: c.at,
    ...(c.sig !== undefined ? { sig: c.sig } : {}),
    conflicts: w.holding.conflicts,
    via: w.replaced ? ctx.rules.peerName : (w.local?.via ?? null),
    ...(viaEpoch !== undefined ? { viaEpoch } : {}),
    ...(conflictVia !== undefined ? { conflictVia } : {})
  }
}

/**
 * tx.putObject, or the ObjectTooLargeError with which it refused the record
 * (it then wrote nothing). `dataText`: the data's canonical text, made by
 * the provenance check, stored as it is.
 */
function putUnlessTooLarge (tx: WriteTx, object: ObjectWrite, dataText: string | undefined): ObjectTooLargeError | undefined {
  try {
    tx.putObject(object, dataText !== undefined ? { dataText } : undefined)
    return undefined
  } catch (err) {
    if (err instanceof ObjectTooLargeError) return err
    throw err
  }
}

/** The epoch of the feed the current version came from (unknown for retries, which then never count as held by that peer). */
function viaEpochOf (replaced: boolean, local: StoredObject | undefined, next: { epoch: string } | undefined): string | undefined {
  return replaced ? next?.epoch : local?.viaEpoch
}

/** The remote's checkpoint after this batch: its position, the rules it was applied under, and the running count. */
async function advanceCheckpoint (tx: WriteTx, ctx: ApplyContext, next: Next, received: number): Promise<void> {
  const previous = await tx.getCheckpoint(ctx.peerId)
  const checkpoint: Checkpoint = {
    seq: next.seq,
    epoch: next.epoch,
    rulesHash: ctx.rulesHash,
    ...(next.servesHash !== undefined ? { servesHash: next.servesHash } : {}),
    pulled: (previous?.pulled ?? 0) + received,
    updatedAt: ctx.now()
  }
  tx.setCheckpoint(ctx.peerId, checkpoint)
}
