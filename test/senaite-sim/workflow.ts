/**
 * Workflow transitions with SENAITE's guards and cascades (receive moves a
 * sample's analyses; the last analysis submitted or verified moves the
 * sample; a retraction creates a retest), and delete = deactivate.
 *
 * A refused transition is a bika.lims APIError from `do_transition_for`
 * (SC `bika/lims/api/__init__.py`), i.e. HTTP 200 `success:false` with
 * "Failed to perform transition '<t>' on <Type at /path>: <plone.api's
 * message>".
 */
import { SimError } from './errors.js'
import { WORKFLOWS } from './site-model.js'
import type { HistoryEntry, Site, SimObject } from './site.js'

/** The workflow id `workflow_info` names (SC v2.5.0 profiles/default/workflows). */
export function workflowId (o: SimObject): string {
  switch (o.portalType) {
    case 'Client': return 'senaite_client_workflow'
    case 'Contact': return 'senaite_clientcontact_workflow'
    case 'LabContact': return 'senaite_labcontact_workflow'
    case 'AnalysisRequest': return 'senaite_sample_workflow'
    case 'Analysis': return 'senaite_analysis_workflow'
    case 'Worksheet': return 'senaite_worksheet_workflow'
    case 'Batch': return 'senaite_batch_workflow'
    case 'Attachment': return 'senaite_one_state_workflow'
    default: return 'senaite_deactivable_type_workflow'
  }
}

/** transitions the object's workflow offers in its current state (guards applied) */
export function availableTransitions (site: Site, o: SimObject): string[] {
  const spec = site.spec(o.portalType)
  if (spec === undefined) return []
  const out = Object.keys(WORKFLOWS[spec.workflow].transitions[o.reviewState] ?? {})
  return out.filter((t) => !(o.portalType === 'Analysis' && t === 'submit' && !hasResult(o)))
}

const hasResult = (o: SimObject): boolean => o.fields.Result !== undefined && o.fields.Result !== null && o.fields.Result !== ''

function refuse (site: Site, o: SimObject, action: string): SimError {
  const valid = availableTransitions(site, o).sort()
  return new SimError(200, `Failed to perform transition '${action}' on <${o.portalType} at ${o.path}>: Invalid transition '${action}'.\nValid transitions are:\n${valid.join('\n')}`)
}

export function transition (site: Site, o: SimObject, action: string, actor: string): void {
  const spec = site.spec(o.portalType)
  if (spec === undefined) throw refuse(site, o, action)
  const next = WORKFLOWS[spec.workflow].transitions[o.reviewState]?.[action]
  if (next === undefined) throw refuse(site, o, action)
  if (o.portalType === 'Analysis' && action === 'submit' && !hasResult(o)) {
    throw refuse(site, o, action)
  }
  const now = site.now()
  o.reviewState = next
  o.history.push(historyEntry(action, actor, next, now))
  o.modified = now
  cascade(site, o, action, actor)
}

/** Transitions cascade: receive moves the analyses; the last analysis moves the sample; retract makes a retest. */
function cascade (site: Site, o: SimObject, action: string, actor: string): void {
  if (o.portalType === 'AnalysisRequest' && action === 'receive') {
    for (const a of site.children(o.uid)) if (a.portalType === 'Analysis' && a.reviewState === 'registered') transition(site, a, 'initialize', actor)
  }
  if (o.portalType === 'Analysis' && o.parentUid !== null) {
    const sample = site.get(o.parentUid)!
    const siblings = site.children(sample.uid).filter((a) => a.portalType === 'Analysis' && a.reviewState !== 'retracted')
    const submitted = (a: SimObject): boolean => ['to_be_verified', 'verified', 'published'].includes(a.reviewState)
    const verified = (a: SimObject): boolean => ['verified', 'published'].includes(a.reviewState)
    if (sample.reviewState === 'sample_received' && siblings.every(submitted)) transition(site, sample, 'submit', actor)
    if (sample.reviewState === 'to_be_verified' && siblings.every(verified)) transition(site, sample, 'verify', actor)
    if (action === 'retract') {
      const retest = site.create(site.spec('Analysis')!, sample, { Keyword: o.id.replace(/-\d+$/, ''), AnalysisService: o.fields.AnalysisService, RetestOf: o.uid }, actor)
      transition(site, retest, 'initialize', actor)
    }
  }
  if (o.portalType === 'AnalysisRequest' && action === 'publish') {
    for (const a of site.children(o.uid)) if (a.portalType === 'Analysis' && a.reviewState === 'verified') transition(site, a, 'publish', actor)
  }
}

/** delete = deactivate (JA `delete_items` → `deactivate_object`) */
export function deactivate (site: Site, o: SimObject, actor: string): void {
  transition(site, o, 'deactivate', actor)
}

/** DCW history entry; `time` as senaite.jsonapi shows it: local wall time without zone (the server runs in UTC) */
export function historyEntry (action: string | null, actor: string, state: string, at: number): HistoryEntry {
  const d = new Date(at).toISOString()
  return { action, actor, comments: '', review_state: state, time: `${d.slice(0, 10)} ${d.slice(11, 19)}` }
}
