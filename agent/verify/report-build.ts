/**
 * Reports from what a verify found (report.ts says what they mean): a peer
 * verify's, from a walk and the session's counters, and `verify --self`'s,
 * from a check of our digest against our records.
 */
import type { DigestCheckReport } from '../../store/types.js'
import type { FramedStreamStats } from '../sync/framed-stream.js'
import type { Difference } from './compare.js'
import { emptyByKind, type VerifyReport } from './report.js'
import type { WalkOutcome } from './verify-client.js'

/** `labmesh verify --self`, `POST /api/verify/self`: our digest against one rebuilt from our records. */
export interface SelfVerifyReport {
  /** the stored digest equals the rebuilt one, leaf by leaf and group by group */
  readonly equal: boolean
  readonly objects: number
  readonly stored: { readonly count: number, readonly hash: string }
  readonly rebuilt: { readonly count: number, readonly hash: string }
  /** uids whose record disagrees with the digest (at most 1000 listed) */
  readonly problems: ReadonlyArray<{ readonly uid: string, readonly stored?: { readonly type: string, readonly origin: string }, readonly actual?: { readonly type: string, readonly origin: string } }>
  readonly problemCount: number
  /** groups whose stored aggregate is not the sum of their leaves */
  readonly groupProblems: number
  readonly startedAt: number
  readonly finishedAt: number
  readonly durationMs: number
}

export interface ReportTimes {
  readonly startedAt: number
  readonly finishedAt: number
  readonly checked: boolean
  readonly maxDifferences: number
}

export function buildReport (peer: string, outcome: WalkOutcome, session: { readonly roundTrips: number, readonly framed: { readonly stats: FramedStreamStats } }, times: ReportTimes): VerifyReport {
  const byKind = emptyByKind()
  for (const d of outcome.differences) byKind[d.kind]++
  const groupProblems = (outcome.hereCheck?.groupProblems.length ?? 0) + (outcome.thereCheck?.groupProblems ?? 0)
  const inSync = outcome.differences.length === 0 && groupProblems === 0
  const { stats } = session.framed
  return {
    peer,
    result: inSync ? 'in-sync' : 'differences',
    inSync,
    digest: outcome.digest,
    checked: times.checked,
    ...(outcome.hereCheck !== undefined && outcome.thereCheck !== undefined
      ? {
          checks: {
            here: { objects: outcome.hereCheck.objects, problems: outcome.hereProblems.length, groupProblems: outcome.hereCheck.groupProblems.length },
            there: { objects: outcome.thereCheck.objects, problems: outcome.thereCheck.problemCount, groupProblems: outcome.thereCheck.groupProblems }
          }
        }
      : {}),
    differences: outcome.differences.slice(0, times.maxDifferences) as Difference[],
    differenceCount: outcome.differences.length,
    byKind,
    scope: { groups: outcome.groups, refused: outcome.refused },
    roundTrips: session.roundTrips,
    messages: { sent: stats.framesOut, received: stats.framesIn },
    bytes: { sent: stats.bytesOut, received: stats.bytesIn },
    startedAt: times.startedAt,
    finishedAt: times.finishedAt,
    durationMs: times.finishedAt - times.startedAt
  }
}

export function selfReport (check: DigestCheckReport, startedAt: number, finishedAt: number): SelfVerifyReport {
  return {
    equal: check.equal,
    objects: check.objects,
    stored: check.stored,
    rebuilt: check.rebuilt,
    problems: check.problems.map((p) => ({
      uid: p.uid,
      ...(p.stored !== undefined ? { stored: p.stored.group } : {}),
      ...(p.actual !== undefined ? { actual: p.actual.group } : {})
    })),
    problemCount: check.problemCount,
    groupProblems: check.groupProblems.length,
    startedAt,
    finishedAt,
    durationMs: finishedAt - startedAt
  }
}
