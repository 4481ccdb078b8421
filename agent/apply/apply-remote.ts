/**
 * Applying a batch pulled from a remote: rules, dependencies, vectors, the
 * instance, and the checkpoint — committed as one store transaction.
 *
 * 1. Rules decide per object: apply (id presented the local way) or ignore.
 * 2. Dependencies (parent and refs) that we do not hold and the batch does not
 *    bring are fetched from the same remote first, whatever the type filters
 *    say; reference cycles are fine because everything lands in one batch. An
 *    object whose dependency cannot be had is parked in the failed queue —
 *    never written half-made — while the rest of the batch flows on.
 * 3. Vectors decide per object (store/reconcile): fast-forward, nothing, or a
 *    conflict sibling kept beside the current version.
 * 4. The instance is written (connector), then objects, failed entries and the
 *    advanced checkpoint are committed in ONE LevelDB batch.
 */
import { MAX_CONFLICT_SIBLINGS, MAX_ID_LENGTH, MAX_OBJECT_BYTES } from '../../protocol/constants.js'
import { utf8BytesOver } from '../../protocol/json-size.js'
import { toVersion, type ObjectVersion, type WireObject } from '../../protocol/object.js'
import { reconcile } from '../../protocol/reconcile.js'
import type { Checkpoint, FailedEntry, ObjectWrite, Store, StoredObject, WriteTx } from '../../store/types.js'
import type { InstanceConnector, RemoteWrite } from '../connectors/connector.js'
import { blockedBy, present, resolveDependencies, type Candidate } from './dependencies.js'
import { ObjectTooLargeError } from '../../protocol/errors.js'
import { decideInbound } from '../rules/inbound.js'
import type { IgnoreReason, InboundRules } from '../rules/types.js'

/** Backoff of a parked object: first retry after this, doubling up to the max. */
export const FAILED_RETRY_MIN_MS = 5_000
export const FAILED_RETRY_MAX_MS = 30 * 60_000

export interface ApplyContext {
  readonly store: Store
  readonly connector: InstanceConnector
  readonly rules: InboundRules
  readonly rulesHash: string
  readonly peerId: string
  readonly now: () => number
  /** fetch objects by uid from the same remote (its serve rules apply) */
  readonly fetch: (uids: readonly string[]) => Promise<{ objects: readonly WireObject[], missing: readonly string[] }>
}

export interface ApplyStats {
  received: number
  /** objects whose current version or conflict set changed here */
  applied: number
  /** already held (equal or older vector) */
  unchanged: number
  ignored: number
  ignoredBy: Partial<Record<IgnoreReason, number>>
  /** new conflict siblings */
  conflicts: number
  /** parked in the failed queue */
  failed: number
  /** objects fetched because something required them */
  dependencies: number
}

export function emptyStats (): ApplyStats {
  return { received: 0, applied: 0, unchanged: 0, ignored: 0, ignoredBy: {}, conflicts: 0, failed: 0, dependencies: 0 }
}


/**
 * Apply `changes` from the remote and advance its checkpoint to `next`, in one
 * transaction. `next` undefined applies without touching the checkpoint
 * (retries of parked objects).
 */
export async function applyRemoteBatch (
  ctx: ApplyContext,
  changes: readonly WireObject[],
  next: { seq: number, epoch: string, servesHash?: string | undefined } | undefined,
  /** called when the transaction is prepared and queued for commit (Store.write's onPrepared) */
  onPrepared?: () => void
): Promise<ApplyStats> {
  const stats = emptyStats()
  stats.received = changes.length
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

  const { dependencies, unavailable, heldHere } = await resolveDependencies({
    rules: ctx.rules,
    fetch: ctx.fetch,
    held: async (uids) => await ctx.store.holds(uids)
  }, candidates)
  stats.dependencies = dependencies.length
  const all = [...dependencies, ...candidates]

  await ctx.store.write(async (tx) => {
    const locals = await tx.getMany(all.map((c) => c.wire.uid))
    // a dependency found held before the transaction may have been in a write
    // that then failed: what is not here now is unavailable, never assumed
    if (heldHere.length > 0) {
      const stillHeld = await tx.holds(heldHere)
      for (let i = 0; i < heldHere.length; i++) if (!stillHeld[i]!) unavailable.add(heldHere[i]!)
    }
    const blocked = blockedBy(all, unavailable)
    const writes: Array<{ candidate: Candidate, local: StoredObject | undefined, holding: { current: ObjectVersion, conflicts: readonly ObjectVersion[] }, replaced: boolean, newConflicts: number }> = []
    for (let i = 0; i < all.length; i++) {
      const candidate = all[i]!
      const missing = blocked.get(candidate.wire.uid)
      if (missing !== undefined) {
        await park(tx, ctx, candidate.wire, 'MISSING_DEPENDENCY', `needs ${missing.join(', ')}, which peer ${ctx.rules.peerName} could not provide`, missing)
        stats.failed++
        continue
      }
      const tooLong = candidate.versions.find((v) => v.id.length > MAX_ID_LENGTH)
      if (tooLong !== undefined) {
        // stored, it would be refused by every agent we serve it to (a frame that fails validation)
        await park(tx, ctx, candidate.wire, 'ID_TOO_LONG', `object ${candidate.wire.uid} would have the id "${tooLong.id.slice(0, 40)}…" here, ${tooLong.id.length} characters, over the ${MAX_ID_LENGTH}-character limit (with peer ${ctx.rules.peerName}'s prefix): shorten peers[].prefix for ${ctx.rules.peerName}, or the id where it was written (${tooLong.origin})`, [])
        stats.failed++
        continue
      }
      const local = locals[i]
      const result = reconcile(local !== undefined ? { current: local, conflicts: local.conflicts } : undefined, candidate.versions)
      if (!result.changed) {
        // we hold this version or a newer one: whatever was parked for it is moot
        tx.deleteFailed(candidate.wire.uid)
        stats.unchanged++
        continue
      }
      if (result.holding.conflicts.length > MAX_CONFLICT_SIBLINGS) {
        // more concurrent versions than a frame may carry with one object: stored, no agent could take it from us
        await park(tx, ctx, candidate.wire, 'TOO_MANY_CONFLICTS', `object ${candidate.wire.uid} would hold ${result.holding.conflicts.length + 1} concurrent versions, over the ${MAX_CONFLICT_SIBLINGS + 1} one object may carry: resolve the conflict on an agent that holds it; the version from peer ${ctx.rules.peerName} stays parked until then`, [])
        stats.failed++
        continue
      }
      const tooLarge = holdingTooLarge(ctx, local, result.holding)
      if (tooLarge !== undefined) {
        await park(tx, ctx, candidate.wire, 'OBJECT_TOO_LARGE', tooLarge, [])
        stats.failed++
        continue
      }
      writes.push({ candidate, local, holding: result.holding, replaced: result.currentReplaced, newConflicts: result.newConflicts })
    }

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
    const refused = new Map<number, { code: string, reason: string }>()
    results.forEach((r, j) => { if (!r.ok) refused.set(remoteIndex[j]!, { code: r.code, reason: r.reason }) })

    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!
      const failure = refused.get(i)
      if (failure !== undefined) {
        await park(tx, ctx, w.candidate.wire, failure.code, failure.reason, [])
        stats.failed++
        continue
      }
      const conflictVia = w.holding.conflicts.length === 0
        ? undefined
        : w.newConflicts > 0 ? [...new Set([...(w.local?.conflictVia ?? []), ctx.rules.peerName])] : w.local?.conflictVia
      const viaEpoch = viaEpochOf(w.replaced, w.local, next)
      const c = w.holding.current
      // field by field: the version without any `conflicts` it carried on the wire
      const refusal = putUnlessTooLarge(tx, {
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
        conflicts: w.holding.conflicts,
        via: w.replaced ? ctx.rules.peerName : (w.local?.via ?? null),
        ...(viaEpoch !== undefined ? { viaEpoch } : {}),
        ...(conflictVia !== undefined ? { conflictVia } : {})
      })
      if (refusal !== undefined) {
        await park(tx, ctx, w.candidate.wire, refusal.code, tooLargeReason(ctx, c, refusal.bytes), [])
        stats.failed++
        continue
      }
      tx.deleteFailed(w.candidate.wire.uid)
      stats.applied++
      stats.conflicts += w.newConflicts
    }

    if (next !== undefined) {
      const previous = await tx.getCheckpoint(ctx.peerId)
      const checkpoint: Checkpoint = {
        seq: next.seq,
        epoch: next.epoch,
        rulesHash: ctx.rulesHash,
        ...(next.servesHash !== undefined ? { servesHash: next.servesHash } : {}),
        pulled: (previous?.pulled ?? 0) + changes.length,
        updatedAt: ctx.now()
      }
      tx.setCheckpoint(ctx.peerId, checkpoint)
    }
  }, { source: ctx.rules.peerName, ...(onPrepared !== undefined ? { onPrepared } : {}) })
  return stats
}

/**
 * Upper bound on the store-local fields putObject adds to a holding's
 * versions: `via` (a peer name, ≤ 63 characters), `viaEpoch` (≤ 64
 * characters, escapes included), `seq`, key names and punctuation; plus
 * CONFLICT_VIA_BYTES per `conflictVia` name.
 */
const RECORD_TAIL_BYTES = 1024
const CONFLICT_VIA_BYTES = 66

/**
 * Why this holding could not be stored here — its record would exceed
 * MAX_OBJECT_BYTES, so no frame could carry it on — or undefined. Decided
 * before the instance is written; the version is then parked as
 * OBJECT_TOO_LARGE and the rest of the batch applies.
 *
 * Why measuring only some holdings is enough, and cheap (an initial sync
 * applies ~20,000 objects/s, nearly all of them single versions):
 * - With conflict siblings (rare) the holding is measured: siblings are what
 *   can grow an object past one frame (1 + MAX_CONFLICT_SIBLINGS versions of
 *   up to MAX_LOCAL_OBJECT_BYTES each would be ~260 MiB).
 * - A single version came whole in one frame, and a labmesh sender wrote it
 *   within MAX_LOCAL_OBJECT_BYTES, 64 KiB short of what we store: it fits.
 *   One that does not (from an older agent, or a record stored before the
 *   limit) is caught by putObject, which encodes the record anyway and
 *   refuses it without writing anything: the write loop parks it then
 *   (putUnlessTooLarge). Only a connector that writes somewhere other than
 *   the store would have written it into its instance by then, so for those
 *   (each write a request to the instance, far dearer than a stringify)
 *   single versions are measured here as well.
 */
function holdingTooLarge (ctx: ApplyContext, local: StoredObject | undefined, holding: { current: ObjectVersion, conflicts: readonly ObjectVersion[] }): string | undefined {
  if (holding.conflicts.length === 0 && ctx.connector.kind === 'embedded') return undefined
  // the version fields only: a current version held here is a whole record
  // (conflicts, via, seq …), which putObject does not copy
  const text = JSON.stringify(holding.conflicts.length === 0 ? toVersion(holding.current) : { ...toVersion(holding.current), conflicts: holding.conflicts })
  const tail = RECORD_TAIL_BYTES + CONFLICT_VIA_BYTES * ((local?.conflictVia?.length ?? 0) + 1)
  const over = utf8BytesOver(text, MAX_OBJECT_BYTES - tail)
  return over === undefined ? undefined : tooLargeReason(ctx, holding.current, over + tail, holding.conflicts.length)
}

/** The failed-queue reason of a version parked as OBJECT_TOO_LARGE. */
function tooLargeReason (ctx: ApplyContext, current: ObjectVersion, bytes: number, siblings = 0): string {
  const peer = ctx.rules.peerName
  return siblings > 0
    ? `object ${current.uid} would hold ${siblings + 1} concurrent versions taking ~${bytes} bytes as JSON, over the ${MAX_OBJECT_BYTES}-byte limit for one object (it must travel whole in one protocol frame): resolve the conflict on an agent that holds it, or make the versions smaller; the version from peer ${peer} stays parked until then`
    : `the version of object ${current.uid} from peer ${peer} would take ${bytes} bytes as JSON here, over the ${MAX_OBJECT_BYTES}-byte limit for one object (it must travel whole in one protocol frame): make it smaller where it was written (${current.origin}); it stays parked until a smaller version replaces it`
}

/** tx.putObject, or the ObjectTooLargeError with which it refused the record (it then wrote nothing). */
function putUnlessTooLarge (tx: WriteTx, object: ObjectWrite): ObjectTooLargeError | undefined {
  try {
    tx.putObject(object)
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

async function park (tx: WriteTx, ctx: ApplyContext, wire: WireObject, code: string, reason: string, missing: readonly string[]): Promise<void> {
  const now = ctx.now()
  const prior = await tx.getFailed(wire.uid)
  const attempts = (prior?.attempts ?? 0) + 1
  const entry: FailedEntry = {
    uid: wire.uid,
    peer: ctx.rules.peerName,
    code,
    reason,
    missing,
    attempts,
    firstFailedAt: prior?.firstFailedAt ?? now,
    lastFailedAt: now,
    nextRetryAt: now + retryDelay(attempts),
    version: wire
  }
  tx.putFailed(entry)
}

/** Exponential backoff for parked objects: 5 s, 10 s, 20 s … capped at 30 min. */
export function retryDelay (attempts: number): number {
  return Math.min(FAILED_RETRY_MAX_MS, FAILED_RETRY_MIN_MS * 2 ** Math.max(0, attempts - 1))
}
