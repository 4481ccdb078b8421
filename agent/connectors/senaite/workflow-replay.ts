/**
 * Bringing an object of this site to the review state a version has, by
 * replaying transitions (workflow.ts finds them: the version's own review
 * history first, a graph of the common workflows else). The site refuses a
 * transition it does not allow; that error is the write's. No known path is
 * not an error: the object is written, its state left, and a warning says so.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { Logger } from '../../runtime/logger.js'
import type { SenaiteClient } from './client.js'
import { transitionsTo, type HistoryEntry } from './workflow.js'

export async function replayWorkflow (client: SenaiteClient, log: Logger, version: ObjectVersion, item: Record<string, unknown>, target: string | undefined): Promise<void> {
  const localUid = item.uid as string
  const history = (Array.isArray(version.data.review_history) ? version.data.review_history : []) as HistoryEntry[]
  const actions = transitionsTo(item.review_state as string | undefined ?? stateOf(item), target, history)
  if (actions === undefined) {
    log.warn({ uid: version.uid, from: stateOf(item), to: target }, 'no known transitions reach the target review state')
    return
  }
  for (const action of actions) await client.post(`update/${localUid}`, { transition: action })
}

/** the review state in an item's workflow info, for answers without a top-level `review_state` */
function stateOf (item: Record<string, unknown>): string | undefined {
  const wf = Array.isArray(item.workflow_info) ? item.workflow_info[0] as Record<string, unknown> | undefined : undefined
  return typeof wf?.review_state === 'string' ? wf.review_state : undefined
}
