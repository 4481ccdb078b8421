/**
 * A sample's analyses as senaite.core makes them (SC v2.5.0
 * `aranalysesfield.py` `add_analysis`, `utils/analysis.py` `create_analysis`
 * and `generate_analysis_id`): one per service, id = the service keyword
 * (`<keyword>-1`, `-2` … when taken), field values copied from the service.
 * `ARAnalysesField.set` adds an analysis for each listed service the sample
 * lacks and removes the unsubmitted ones whose service is not listed.
 */
import { WORKFLOWS } from './site-model.js'
import type { Site, SimObject } from './site.js'
import { historyEntry } from './workflow.js'

/** states of a sample in which new analyses are initialized at once (the sample has been received) */
const RECEIVED = new Set(['sample_received', 'to_be_verified', 'verified', 'published'])
/** ISubmitted: analyses in these states are never removed */
const UNSUBMITTED = new Set(['registered', 'unassigned', 'assigned'])

export function addAnalysis (site: Site, sample: SimObject, service: SimObject, actor: string): SimObject {
  const keyword = typeof service.fields.Keyword === 'string' ? service.fields.Keyword : service.id
  const id = site.uniqueChildId(sample.uid, keyword)
  const now = site.now()
  const wf = WORKFLOWS.analysis
  const a = site.add({
    uid: site.newUid(), id, portalType: 'Analysis', parentUid: sample.uid, path: `${sample.path}/${id}`, fields: {},
    created: now, modified: now, reviewState: wf.initial, history: [historyEntry(null, actor, wf.initial, now)], folder: false, dexterity: false, creator: actor
  })
  Object.assign(a.fields, { Keyword: keyword, title: service.fields.title ?? keyword, AnalysisService: service.uid, ...pick(service.fields, ['Category', 'Unit', 'Department']) })
  if (RECEIVED.has(sample.reviewState)) {
    a.reviewState = 'unassigned'
    a.history.push(historyEntry('initialize', actor, 'unassigned', now))
  }
  return a
}

/** ARAnalysesField.set with the services (or analyses, taken as their services) named by `uids` */
export function setAnalysesOf (site: Site, sample: SimObject, uids: readonly string[], actor: string): void {
  const services = new Set<string>()
  for (const uid of uids) {
    const o = site.get(uid)
    if (o?.portalType === 'AnalysisService') services.add(o.uid)
    else if (o?.portalType === 'Analysis' && typeof o.fields.AnalysisService === 'string') services.add(o.fields.AnalysisService)
  }
  const analyses = site.children(sample.uid).filter((a) => a.portalType === 'Analysis')
  for (const uid of services) {
    if (analyses.some((a) => a.fields.AnalysisService === uid)) continue
    addAnalysis(site, sample, site.get(uid)!, actor)
  }
  for (const a of analyses) {
    if (!UNSUBMITTED.has(a.reviewState) || services.has(String(a.fields.AnalysisService))) continue
    site.remove(a)
  }
  sample.modified = site.now()
}

const pick = (o: Record<string, unknown>, keys: string[]): Record<string, unknown> => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]))
