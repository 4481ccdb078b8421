/**
 * Realistic edits of generated LIMS objects, for incremental benchmarks and
 * demos: the next step of SENAITE's sample or analysis workflow.
 *
 * Invariant: an edit never touches `vector`, `uid`, `origin`, `parent` or
 * `refs` — bumping the vector is the agent's job when it detects the edit.
 */
import type { ObjectVersion } from '../../protocol/object.js'
import { REMARKS, SERVICES, type ServiceSpec } from './lims-vocabulary.js'
import { entry, iso, MINUTE, resultValue, uncertainty, type HistoryEntry } from './lims-values.js'
import type { Rng } from './rng.js'

/** The next workflow step per state; states without further steps cycle through a re-measurement. */
const SAMPLE_EDITS: Readonly<Record<string, readonly [string, string]>> = {
  sample_due: ['receive', 'sample_received'],
  sample_received: ['submit', 'to_be_verified'],
  to_be_verified: ['verify', 'verified'],
  verified: ['publish', 'published'],
  published: ['republish', 'published']
}
const ANALYSIS_EDITS: Readonly<Record<string, readonly [string, string]>> = {
  unassigned: ['submit', 'to_be_verified'],
  assigned: ['submit', 'to_be_verified'],
  to_be_verified: ['verify', 'verified'],
  verified: ['publish', 'published'],
  published: ['retract', 'to_be_verified']
}

/**
 * A realistic next version of a sample or analysis: one workflow transition
 * appended to its review history and, where the step produces one, a new
 * result. Any other type gets a touched `Remarks`. `vector`, `uid`, `origin`
 * and `refs` are kept as they are; `at` moves forward.
 */
export function editObject (obj: ObjectVersion, rng: Rng): ObjectVersion {
  const data = obj.data as Record<string, unknown>
  const history = Array.isArray(data.review_history) ? data.review_history as HistoryEntry[] : []
  const at = obj.at + rng.between(5, 240) * MINUTE
  const actor = `analyst${rng.between(1, 20)}`
  if (obj.type === 'Analysis' || obj.type === 'AnalysisRequest') {
    const table = obj.type === 'Analysis' ? ANALYSIS_EDITS : SAMPLE_EDITS
    const state = typeof data.review_state === 'string' ? data.review_state : ''
    const [action, next] = table[state] ?? ['submit', 'to_be_verified']
    const newData: Record<string, unknown> = { ...data, review_state: next, review_history: [...history, entry(action, actor, at, next)] }
    if (obj.type === 'Analysis' && (action === 'submit' || action === 'retract')) {
      const spec = SERVICES.find((s) => s.keyword === data.Keyword) ?? SERVICES[0] as ServiceSpec
      const result = resultValue(rng, spec)
      Object.assign(newData, { Result: result, Uncertainty: uncertainty(result, spec), Analyst: actor, ResultCaptureDate: iso(at) })
    }
    if (obj.type === 'AnalysisRequest') {
      if (action === 'receive') newData.DateReceived = iso(at)
      if (action === 'verify') newData.DateVerified = iso(at)
      if (action === 'publish' || action === 'republish') newData.DatePublished = iso(at)
      if (action === 'republish') newData.Remarks = rng.pick(REMARKS)
    }
    return { ...obj, data: newData, at }
  }
  return { ...obj, data: { ...data, Remarks: rng.pick(REMARKS) }, at }
}
