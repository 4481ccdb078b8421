/**
 * Reaching a target review state on a site that can only be moved by
 * transitions (§2.6: review history cannot be written). The origin's review
 * history says which actions led there; we replay the ones after the state
 * the local object is in. When the local state does not appear in that
 * history, a small graph of the common SENAITE workflows gives a path.
 */

export interface HistoryEntry {
  readonly action: string | null
  readonly review_state: string
}

/** Common transitions (state --action--> state) of SENAITE 2.x workflows, for the fallback search. */
const GRAPH: ReadonlyArray<readonly [string, string, string]> = [
  ['active', 'deactivate', 'inactive'],
  ['inactive', 'activate', 'active'],
  ['sample_registered', 'no_sampling_workflow', 'sample_due'],
  ['sample_due', 'receive', 'sample_received'],
  ['sample_registered', 'receive', 'sample_received'],
  ['sample_received', 'submit', 'to_be_verified'],
  ['to_be_verified', 'verify', 'verified'],
  ['verified', 'publish', 'published'],
  ['sample_due', 'cancel', 'cancelled'],
  ['cancelled', 'reinstate', 'sample_due'],
  ['sample_received', 'invalidate', 'invalid'],
  ['sample_due', 'reject', 'rejected'],
  ['registered', 'initialize', 'unassigned'],
  ['unassigned', 'assign', 'assigned'],
  ['assigned', 'unassign', 'unassigned'],
  ['unassigned', 'submit', 'to_be_verified'],
  ['assigned', 'submit', 'to_be_verified'],
  ['to_be_verified', 'retract', 'retracted'],
  ['open', 'submit', 'to_be_verified'],
  ['open', 'close', 'closed'],
  ['closed', 'open', 'open'],
  ['open', 'cancel', 'cancelled']
]

/** Actions that take `from` to `to`, or undefined when no way is known. */
export function transitionsTo (from: string | undefined, to: string | undefined, history: readonly HistoryEntry[]): string[] | undefined {
  if (to === undefined || from === to) return []
  if (from !== undefined) {
    const replay = fromHistory(from, to, history)
    if (replay !== undefined) return replay
  }
  return from !== undefined ? search(from, to) : undefined
}

function fromHistory (from: string, to: string, history: readonly HistoryEntry[]): string[] | undefined {
  // review_history is newest-first in SENAITE's API; order it oldest-first
  const entries = isNewestFirst(history) ? [...history].reverse() : [...history]
  let start = -1
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i]!.review_state === from) { start = i; break }
  }
  if (start === -1) return undefined
  const actions: string[] = []
  for (let i = start + 1; i < entries.length; i++) {
    const e = entries[i]!
    if (e.action !== null && e.action !== '') actions.push(e.action)
    if (e.review_state === to && i === entries.length - 1) return actions
  }
  return entries[entries.length - 1]?.review_state === to ? actions : undefined
}

function isNewestFirst (history: readonly HistoryEntry[]): boolean {
  const times = history.map((h) => (h as { time?: unknown }).time).filter((t): t is string => typeof t === 'string')
  return times.length >= 2 && times[0]! > times[times.length - 1]!
}

function search (from: string, to: string): string[] | undefined {
  const queue: Array<{ state: string, path: string[] }> = [{ state: from, path: [] }]
  const seen = new Set([from])
  while (queue.length > 0) {
    const { state, path } = queue.shift()!
    for (const [src, action, dst] of GRAPH) {
      if (src !== state || seen.has(dst)) continue
      const next = [...path, action]
      if (dst === to) return next
      seen.add(dst)
      queue.push({ state: dst, path: next })
    }
  }
  return undefined
}
