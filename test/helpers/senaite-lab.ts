/**
 * Two simulated SENAITE sites compared as labs, whatever their layouts and
 * their own UIDs and ids: every object of one once in the other (matched by
 * what it is: a sample by its client sample id, an analysis by its sample
 * and keyword, a file by its name, a person by name, setup by title), in
 * the same review state, under the same parent, with the same field values
 * — references pointing at the other site's own objects, files byte for
 * byte, Dexterity fields (2.6) under their AT names (field-names.ts).
 */
import { atName } from '../../agent/connectors/senaite/field-names.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'
import type { SimObject } from '../senaite-sim/site.js'

/** what an object is, in any site */
export function identityOf (sim: SenaiteSimulator, o: SimObject): string {
  const f = o.fields
  switch (o.portalType) {
    case 'AnalysisRequest': return `AnalysisRequest:${String(f.ClientSampleID)}`
    case 'Analysis': return `${identityOf(sim, sim.site.get(o.parentUid!)!)}/${o.id}`
    case 'Attachment': return `Attachment:${String((f.AttachmentFile as { filename?: string } | undefined)?.filename)}`
    case 'Contact': case 'LabContact': return `${o.portalType}:${String(f.Firstname)} ${String(f.Surname)}`
    case 'Worksheet': return `Worksheet:${(Array.isArray(f.Analyses) ? f.Analyses as string[] : []).map((u) => { const a = sim.site.get(u); return a === undefined ? u : identityOf(sim, a) }).sort().join(',')}`
    default: return `${o.portalType}:${String(f.title ?? f.Keyword ?? o.id)}`
  }
}

/** fields that are not the lab's content, or that a site computes itself */
const NOT_COMPARED = new Set(['title:Contact', 'title:LabContact', 'title:AnalysisRequest'])

/** A field value with every reference (a SENAITE UID) as the identity of what it points at. */
function portable (sim: SenaiteSimulator, value: unknown, key: string): unknown {
  if (typeof value === 'string' && /^[0-9a-f]{32}$/.test(value)) {
    const target = sim.site.get(value)
    return target === undefined ? `dangling ${value}` : identityOf(sim, target)
  }
  if (Array.isArray(value)) return value.map((v) => portable(sim, v, key))
  if (typeof value === 'object' && value !== null) {
    // files: name, type and bytes (the size is derived)
    if ('data' in value && 'filename' in value) { const file = value as { data: string, filename: string, content_type: string }; return { filename: file.filename, content_type: file.content_type, data: file.data } }
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, portable(sim, v, k)]))
  }
  if (value === '' || value === false || value === 0) return null
  return value ?? null
}

/** an object as content comparable across sites: state, parent, fields under AT names */
function portableObject (sim: SenaiteSimulator, o: SimObject): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(o.fields)) {
    const name = o.dexterity === true ? atName(o.portalType, key) : key
    if (NOT_COMPARED.has(`${name}:${o.portalType}`)) continue
    const v = portable(sim, value, name)
    if (v !== null && !(Array.isArray(v) && v.length === 0)) fields[name] = v
  }
  const parent = o.parentUid !== null ? sim.site.get(o.parentUid) : undefined
  return { state: o.reviewState, parent: parent === undefined || parent.folder ? null : identityOf(sim, parent), fields }
}

/** Every difference between two sites' labs, as sentences (none: the same lab). */
export function labDifferences (source: SenaiteSimulator, target: SenaiteSimulator): string[] {
  const index = (sim: SenaiteSimulator): Map<string, SimObject[]> => {
    const out = new Map<string, SimObject[]>()
    for (const o of sim.site.content()) { const id = identityOf(sim, o); out.set(id, [...(out.get(id) ?? []), o]) }
    return out
  }
  const [from, to] = [index(source), index(target)]
  const out: string[] = []
  for (const [id, objects] of to) if (objects.length > 1) out.push(`${id}: ${objects.length} objects in the target`)
  for (const id of to.keys()) if (!from.has(id)) out.push(`${id}: in the target only`)
  for (const [id, [s]] of from) {
    const t = to.get(id)?.[0]
    if (t === undefined) { out.push(`${id}: missing in the target`); continue }
    const [a, b] = [portableObject(source, s!), portableObject(target, t)]
    if (a.state !== b.state) out.push(`${id}: review state ${String(a.state)} → ${String(b.state)}`)
    if (a.parent !== b.parent) out.push(`${id}: parent ${String(a.parent)} → ${String(b.parent)}`)
    const [fa, fb] = [a.fields as Record<string, unknown>, b.fields as Record<string, unknown>]
    for (const key of new Set([...Object.keys(fa), ...Object.keys(fb)])) {
      if (JSON.stringify(fa[key]) !== JSON.stringify(fb[key])) out.push(`${id}.${key}: ${JSON.stringify(fa[key])} → ${JSON.stringify(fb[key])}`)
    }
  }
  return out
}
