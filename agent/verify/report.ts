/**
 * What a verify reports (`labmesh verify`, `POST /api/peers/:name/verify`,
 * the status page): whether two agents hold the same within the types both
 * sides agree on, with the digest and the time, or the uids that differ and
 * how; what a repair did; and the per-peer state the status shows.
 */
import type { Difference, DifferenceKind } from './compare.js'

export type { Difference, DifferenceKind, SideView } from './compare.js'

/** A digest: how many uids, and the XOR of their leaf hashes. */
export interface DigestFigure {
  readonly count: number
  readonly hash: string
}

/** One side's check: its records rebuilt into a digest and compared with the stored one. */
export interface CheckFigure {
  readonly objects: number
  /** uids whose record disagrees with the digest (in the compared types) */
  readonly problems: number
  /** group aggregates that are not the sum of their leaves */
  readonly groupProblems: number
}

export interface VerifyReport {
  readonly peer: string
  readonly result: 'in-sync' | 'differences'
  /** the digests and every uid agree, and (when checked) both sides' records agree with their digests */
  readonly inSync: boolean
  /** the digests compared: what we hold of the compared groups, and what the peer would serve us of them */
  readonly digest: { readonly here: DigestFigure, readonly there: DigestFigure }
  /** both sides rebuilt their digest from their records (a thorough verify; not with quick) */
  readonly checked: boolean
  readonly checks?: { readonly here: CheckFigure, readonly there: CheckFigure }
  /** at most maxDifferences, in uid order */
  readonly differences: readonly Difference[]
  /** all of them */
  readonly differenceCount: number
  readonly byKind: Readonly<Record<DifferenceKind, number>>
  /** what was compared: groups (type × origin), and types the peer would not serve us */
  readonly scope: { readonly groups: number, readonly refused: readonly string[] }
  /** request/answer exchanges with the peer (the open counts as one) */
  readonly roundTrips: number
  readonly messages: { readonly sent: number, readonly received: number }
  readonly bytes: { readonly sent: number, readonly received: number }
  readonly startedAt: number
  readonly finishedAt: number
  readonly durationMs: number
}

/** What `--repair` did: the peer's versions of the uids we lack or hold older, applied through the normal apply path. */
export interface RepairReport {
  /** uids asked for */
  readonly requested: number
  /** objects the peer sent */
  readonly received: number
  readonly applied: number
  /** already held (or older): nothing to do */
  readonly unchanged: number
  /** kept as conflict siblings (concurrent versions: never applied over ours) */
  readonly conflicts: number
  /** ignored by our import rules */
  readonly ignored: number
  /** parked in the failed queue */
  readonly failed: number
  /** records that had been changed behind the store's back, restored from the peer's identical version */
  readonly restored: number
  /** differences a repair from this side cannot mend, and why */
  readonly notRepaired: ReadonlyArray<{ readonly uid: string, readonly reason: string }>
}

export interface VerifyResult {
  readonly report: VerifyReport
  readonly repair?: RepairReport
  /** the verify after the repair */
  readonly after?: VerifyReport
}

/** A verify in progress: its phase, and how far (checks: rows read on both sides). */
export interface VerifyProgress {
  readonly phase: 'comparing' | 'checking' | 'repairing'
  readonly done: number
  readonly total: number
  readonly percent: number
  readonly etaSeconds: number | undefined
}

/** Per peer, in the status (`peers[].verification`). */
export interface VerificationStatus {
  readonly state: 'idle' | 'running'
  readonly progress?: VerifyProgress
  /** the last verify that finished (or failed) */
  readonly last?: {
    readonly result: 'in-sync' | 'differences' | 'failed'
    readonly finishedAt: number
    readonly durationMs: number
    readonly differences: number
    readonly digest?: DigestFigure
    readonly checked?: boolean
    readonly repaired?: boolean
    readonly error?: string
  }
  /** the periodic verify's interval (ms), when configured */
  readonly intervalMs?: number
}

export function emptyByKind (): Record<DifferenceKind, number> {
  return { 'missing-here': 0, 'missing-there': 0, 'different-version': 0, 'different-data': 0 }
}
