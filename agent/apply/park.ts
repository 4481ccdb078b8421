/**
 * Parking: a version that cannot be applied whole is put in the failed queue
 * instead — never written half-made — with why (a code and a reason a person
 * can act on), what it waits for, and when to retry it. Each parking counts
 * one more attempt and doubles the backoff (retryDelay).
 *
 * The reasons of the apply path's own codes are written here, in one place:
 * MISSING_DEPENDENCY, MISSING_BLOB, ID_TOO_LONG, TOO_MANY_CONFLICTS,
 * OBJECT_TOO_LARGE, BAD_SIGNATURE (a connector's refusals bring their own
 * code and reason). A MISSING_BLOB entry's `missing` lists blob hashes, not uids.
 */
import { MAX_CONFLICT_SIBLINGS, MAX_ID_LENGTH, MAX_OBJECT_BYTES } from '../../protocol/constants.js'
import type { ObjectVersion, WireObject } from '../../protocol/object.js'
import type { FailedEntry, WriteTx } from '../../store/types.js'
import type { ApplyContext } from './apply-context.js'

/** Backoff of a parked object: first retry after this, doubling up to the max. */
export const FAILED_RETRY_MIN_MS = 5_000
export const FAILED_RETRY_MAX_MS = 30 * 60_000

/** Exponential backoff for parked objects: 5 s, 10 s, 20 s … capped at 30 min. */
export function retryDelay (attempts: number): number {
  return Math.min(FAILED_RETRY_MAX_MS, FAILED_RETRY_MIN_MS * 2 ** Math.max(0, attempts - 1))
}

/**
 * Put `wire` (from the context's peer) in the failed queue, one attempt more
 * than it had. Resolves true when this is news: the object was not parked,
 * or for another code or reason (a retry that fails the same way is not).
 */
export async function park (tx: WriteTx, ctx: ApplyContext, wire: WireObject, code: string, reason: string, missing: readonly string[]): Promise<boolean> {
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
  return prior === undefined || prior.code !== code || prior.reason !== reason
}

/** MISSING_DEPENDENCY */
export function missingDependencyReason (peer: string, missing: readonly string[]): string {
  return `needs ${missing.join(', ')}, which peer ${peer} could not provide`
}

/** MISSING_BLOB: `hashes` are the blobs it references that are not here yet */
export function missingBlobReason (peer: string, hashes: readonly string[]): string {
  return `references ${hashes.length === 1 ? 'blob' : 'blobs'} ${hashes.join(', ')}, not here yet: fetching ${hashes.length === 1 ? 'it' : 'them'} from peer ${peer}; the object is applied once ${hashes.length === 1 ? 'it is' : 'they are'} here`
}

/** ID_TOO_LONG: `tooLong` is the version whose id, as presented here, is over the limit. */
export function idTooLongReason (peer: string, uid: string, tooLong: ObjectVersion): string {
  return `object ${uid} would have the id "${tooLong.id.slice(0, 40)}…" here, ${tooLong.id.length} characters, over the ${MAX_ID_LENGTH}-character limit (with peer ${peer}'s prefix): shorten peers[].prefix for ${peer}, or the id where it was written (${tooLong.origin})`
}

/** TOO_MANY_CONFLICTS: `siblings` is how many conflict siblings the holding would have. */
export function tooManyConflictsReason (peer: string, uid: string, siblings: number): string {
  return `object ${uid} would hold ${siblings + 1} concurrent versions, over the ${MAX_CONFLICT_SIBLINGS + 1} one object may carry: resolve the conflict on an agent that holds it; the version from peer ${peer} stays parked until then`
}

/** OBJECT_TOO_LARGE */
export function tooLargeReason (peer: string, current: ObjectVersion, bytes: number, siblings = 0): string {
  return siblings > 0
    ? `object ${current.uid} would hold ${siblings + 1} concurrent versions taking ~${bytes} bytes as JSON, over the ${MAX_OBJECT_BYTES}-byte limit for one object (it must travel whole in one protocol frame): resolve the conflict on an agent that holds it, or make the versions smaller; the version from peer ${peer} stays parked until then`
    : `the version of object ${current.uid} from peer ${peer} would take ${bytes} bytes as JSON here, over the ${MAX_OBJECT_BYTES}-byte limit for one object (it must travel whole in one protocol frame): make it smaller where it was written (${current.origin}); it stays parked until a smaller version replaces it`
}

/** BAD_SIGNATURE: `problem` says what did not verify (agent/apply/provenance.ts). */
export function badSignatureReason (peer: string, problem: string): string {
  return `a version relayed by peer ${peer} fails its provenance check — ${problem}; it was not applied and the version held here is kept: find out who changed it (peer ${peer}, or a relay before it); it is retried in case ${peer} later serves the version as signed`
}
