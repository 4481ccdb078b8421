/**
 * What becomes of one candidate of a batch, decided inside the batch's
 * transaction from what we hold of it: parked (with its code, reason and
 * what it waits for), nothing (we hold this version or a newer one), or
 * written — its new holding after reconcile (store/reconcile via protocol).
 *
 * This runs once per object on the apply hot path, so it is synchronous:
 * it reads nothing from the store (the caller passes what it read for the
 * whole batch), awaits nothing, and measures JSON only where a record could
 * be too large (holdingTooLarge). Parking itself is the caller's.
 */
import { MAX_CONFLICT_SIBLINGS, MAX_ID_LENGTH, MAX_OBJECT_BYTES } from '../../protocol/constants.js'
import { utf8BytesOver } from '../../protocol/json-size.js'
import { toVersion } from '../../protocol/object.js'
import { reconcile, type Holding } from '../../protocol/reconcile.js'
import type { StoredObject } from '../../store/types.js'
import type { ApplyContext } from './apply-context.js'
import type { Candidate } from './dependencies.js'
import { idTooLongReason, missingDependencyReason, tooLargeReason, tooManyConflictsReason } from './park.js'

/** A candidate to write: its holding replaces what we hold (`local`). */
export interface PendingWrite {
  readonly kind: 'write'
  readonly candidate: Candidate
  readonly local: StoredObject | undefined
  readonly holding: Holding
  /** its current version replaces ours (the instance is written) */
  readonly replaced: boolean
  readonly newConflicts: number
}

export interface Parking {
  readonly kind: 'park'
  readonly code: string
  readonly reason: string
  /** the dependencies it waits for */
  readonly missing: readonly string[]
}

const UNCHANGED = Object.freeze({ kind: 'unchanged' as const })

export type Verdict = PendingWrite | Parking | typeof UNCHANGED

/** `missing`: the dependencies that keep it out (blockedBy), if any. */
export function verdictOn (ctx: ApplyContext, candidate: Candidate, local: StoredObject | undefined, missing: readonly string[] | undefined): Verdict {
  const peer = ctx.rules.peerName
  const uid = candidate.wire.uid
  if (missing !== undefined) return parking('MISSING_DEPENDENCY', missingDependencyReason(peer, missing), missing)
  const tooLong = candidate.versions.find((v) => v.id.length > MAX_ID_LENGTH)
  if (tooLong !== undefined) {
    // stored, it would be refused by every agent we serve it to (a frame that fails validation)
    return parking('ID_TOO_LONG', idTooLongReason(peer, uid, tooLong), [])
  }
  const result = reconcile(local !== undefined ? { current: local, conflicts: local.conflicts } : undefined, candidate.versions)
  if (!result.changed) return UNCHANGED
  if (result.holding.conflicts.length > MAX_CONFLICT_SIBLINGS) {
    // more concurrent versions than a frame may carry with one object: stored, no agent could take it from us
    return parking('TOO_MANY_CONFLICTS', tooManyConflictsReason(peer, uid, result.holding.conflicts.length), [])
  }
  const tooLarge = holdingTooLarge(ctx, local, result.holding)
  if (tooLarge !== undefined) return parking('OBJECT_TOO_LARGE', tooLarge, [])
  return { kind: 'write', candidate, local, holding: result.holding, replaced: result.currentReplaced, newConflicts: result.newConflicts }
}

function parking (code: string, reason: string, missing: readonly string[]): Parking {
  return { kind: 'park', code, reason, missing }
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
function holdingTooLarge (ctx: ApplyContext, local: StoredObject | undefined, holding: Holding): string | undefined {
  if (holding.conflicts.length === 0 && ctx.connector.kind === 'embedded') return undefined
  // the version fields only: a current version held here is a whole record
  // (conflicts, via, seq …), which putObject does not copy
  const text = JSON.stringify(holding.conflicts.length === 0 ? toVersion(holding.current) : { ...toVersion(holding.current), conflicts: holding.conflicts })
  const tail = RECORD_TAIL_BYTES + CONFLICT_VIA_BYTES * ((local?.conflictVia?.length ?? 0) + 1)
  const over = utf8BytesOver(text, MAX_OBJECT_BYTES - tail)
  return over === undefined ? undefined : tooLargeReason(ctx.rules.peerName, holding.current, over + tail, holding.conflicts.length)
}
