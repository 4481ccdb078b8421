/**
 * Bringing an object of this site to the review state a version has, by
 * replaying transitions (workflow.ts finds them: the version's own review
 * history first, a graph of the common workflows else). The site refuses a
 * transition it does not allow; that error is the write's. No known path is
 * not an error: the object is written, its state left, and a warning says so.
 *
 * The state the object is in comes from the write's answer — which on
 * senaite.jsonapi ≤2.4 has none (its brain comes from uid_catalog, which
 * has no review_state column) — else from the object read whole with its
 * workflow. A version that brings a retired object back (written over a
 * tombstone) without a review state of its own reactivates it: deactivated
 * objects are activated, cancelled samples reinstated.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { Logger } from '../../runtime/logger.js'
import type { SenaiteClient } from './client.js'
import { readItem } from './reads.js'
import { transitionsTo, type HistoryEntry } from './workflow.js'

/** retired states, and the state that brings each back */
const REVIVED: Readonly<Record<string, string>> = { inactive: 'active', cancelled: 'sample_due' }

export interface ReplayOptions {
  /** the version is written over a tombstone: without a review state of its own, it is alive again */
  readonly revive: boolean
}

export async function replayWorkflow (client: SenaiteClient, log: Logger, version: ObjectVersion, item: Record<string, unknown>, target: string | undefined, options: ReplayOptions = { revive: false }): Promise<void> {
  for (const action of await planWorkflow(client, log, version, item, target, options)) await client.post(`update/${item.uid as string}`, { transition: action })
}

/** The transitions that bring the object `item` is to `target` (none: it is there, or no way is known — then a warning). */
export async function planWorkflow (client: SenaiteClient, log: Logger, version: ObjectVersion, item: Record<string, unknown>, target: string | undefined, options: ReplayOptions = { revive: false }): Promise<string[]> {
  if (target === undefined && !options.revive) return []
  const from = stateOf(item) ?? stateOf(await readItem(client, item.uid as string))
  const wanted = target ?? (from !== undefined ? REVIVED[from] : undefined)
  if (wanted === undefined || wanted === from) return []
  const history = (Array.isArray(version.data.review_history) ? version.data.review_history : []) as HistoryEntry[]
  const actions = transitionsTo(from, wanted, history)
  if (actions === undefined) {
    log.warn({ uid: version.uid, from, to: wanted }, 'no known transitions reach the target review state')
    return []
  }
  return actions
}

/** the review state an item shows: top-level, else in its workflow info */
export function stateOf (item: Record<string, unknown>): string | undefined {
  if (typeof item.review_state === 'string' && item.review_state !== '') return item.review_state
  const wf = Array.isArray(item.workflow_info) ? item.workflow_info[0] as Record<string, unknown> | undefined : undefined
  return typeof wf?.review_state === 'string' ? wf.review_state : undefined
}
