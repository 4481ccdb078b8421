/**
 * The mesh scenario's plan, as pure functions of (labs, edits): who the
 * agents are, the rules of every link, what each store starts with, which
 * object each edit touches and which agents must end up holding it.
 *
 * Topology and rules are SENAITE.SYNC's "Full Sync for Multiple Instances"
 * with advanced example 2 (config/examples/advanced-2): one master pulls from
 * every collaborator, each collaborator pulls from the master only. On the
 * master, each collaborator's samples and analyses get its prefix and the
 * types the master owns (methods, services, calculations) are skipped from
 * collaborators; on a collaborator, samples and analyses are update-only
 * (only its own come back) and the master's types are read-only.
 *
 * Invariants: uids are unique across the mesh and derived from the domain;
 * every edit is made by the only agent that edits that object in the run
 * (collaborators edit their own clients, contacts and the first half of their
 * samples; the master its own set-up and the second half of collaborators'
 * samples), so no edit makes a conflict and "holds the edit" is a vector check.
 */
import type { DocumentInput } from '../../agent/apply/local-writes.js'

export const MASTER = 'master'
export const PREFIXABLE = ['AnalysisRequest', 'Analysis'] as const
export const MASTER_OWNED = ['Method', 'AnalysisService', 'Calculation'] as const

/** per-peer config keys (beside name, peerId, addrs) of each side of a master ⇄ collaborator link */
export function masterLink (prefix: string): Record<string, unknown> {
  return { pull: true, autoSync: { interval: '60s', live: true }, prefix, types: { prefixable: [...PREFIXABLE], skip: [...MASTER_OWNED] } }
}
export function collaboratorLink (): Record<string, unknown> {
  return { pull: true, autoSync: { interval: '60s', live: true }, types: { updateOnly: [...PREFIXABLE], readOnly: [...MASTER_OWNED] } }
}

/** `labs` agents in all: the master and labs − 1 collaborators lab-01 … */
export function collaborators (labs: number): string[] {
  if (!Number.isInteger(labs) || labs < 3) throw new RangeError(`a mesh needs at least 3 labs (a master and two collaborators), got ${labs}`)
  return Array.from({ length: labs - 1 }, (_, i) => `lab-${String(i + 1).padStart(2, '0')}`)
}

/** a collaborator's prefix on the master: lab-07 → L07 */
export function prefixOf (domain: string): string {
  return 'L' + domain.slice(4)
}

const SAMPLES = 8
const ANALYSES_PER_SAMPLE = 3
const CLIENTS = 2
const CONTACTS_PER_CLIENT = 2

function obj (uid: string, type: string, id: string, parent: string | null, refs: string[], data: Record<string, unknown>): DocumentInput {
  return { uid, type, id, parent, refs, data }
}

/** The master's own objects: departments and its clients (shared), methods, calculations, services (owned). */
export function masterSeed (): DocumentInput[] {
  const out: DocumentInput[] = []
  for (let i = 1; i <= 8; i++) out.push(obj(`master-dept-${i}`, 'Department', `department-${i}`, null, [], { title: `Department ${i}`, DepartmentID: `D${i}`, review_state: 'active' }))
  for (let i = 1; i <= 5; i++) out.push(obj(`master-method-${i}`, 'Method', `method-${i}`, null, [], { title: `Method ${i}`, MethodID: `M${i}`, Instructions: 'Calibrate, measure in triplicate, report the mean.', review_state: 'active' }))
  for (let i = 1; i <= 5; i++) out.push(obj(`master-calc-${i}`, 'Calculation', `calculation-${i}`, null, [], { title: `Calculation ${i}`, Formula: `[Ca] * ${i} + [Mg]`, review_state: 'active' }))
  for (let i = 1; i <= 20; i++) out.push(obj(`master-service-${i}`, 'AnalysisService', `analysisservice-${i}`, null, [`master-method-${1 + (i % 5)}`], { title: `Service ${i}`, Keyword: `K${i}`, Unit: 'mg/L', Precision: 2, Method: `master-method-${1 + (i % 5)}`, Price: '42.00', review_state: 'active' }))
  for (let i = 1; i <= 4; i++) out.push(obj(`master-client-${i}`, 'Client', `client-m${i}`, null, [], { title: `Central client ${i}`, ClientID: `CM${i}`, EmailAddress: `client${i}@central.example`, review_state: 'active' }))
  return out
}

/** A collaborator's own objects: clients and contacts (shared with all), samples and analyses (to the master only). */
export function collaboratorSeed (domain: string): DocumentInput[] {
  const out: DocumentInput[] = []
  for (let c = 1; c <= CLIENTS; c++) {
    const client = `${domain}-client-${c}`
    out.push(obj(client, 'Client', `client-${domain}-${c}`, null, [], { title: `Client ${c} of ${domain}`, ClientID: `${domain}-C${c}`, EmailAddress: `client${c}@${domain}.example`, review_state: 'active' }))
    for (let k = 1; k <= CONTACTS_PER_CLIENT; k++) {
      out.push(obj(`${client}-contact-${k}`, 'Contact', `contact-${k}`, client, [], { Firstname: 'Ana', Surname: `Contact ${k}`, EmailAddress: `contact${k}@${domain}.example`, review_state: 'active' }))
    }
  }
  for (let s = 1; s <= SAMPLES; s++) {
    const sample = `${domain}-sample-${s}`
    out.push(obj(sample, 'AnalysisRequest', `S-${String(s).padStart(4, '0')}`, `${domain}-client-${1 + (s % CLIENTS)}`, [], { review_state: 'sample_received', SampleType: 'Water', DateSampled: '2026-12-01T08:00:00Z' }))
    for (let a = 1; a <= ANALYSES_PER_SAMPLE; a++) {
      out.push(obj(`${sample}-analysis-${a}`, 'Analysis', `K${a}`, sample, [sample], { Keyword: `K${a}`, review_state: 'unassigned', Result: null }))
    }
  }
  return out
}

export type EditKind = 'collaborator-shared' | 'collaborator-sample' | 'master-shared' | 'master-sample'

export interface PlannedEdit {
  readonly n: number
  readonly editor: string
  readonly uid: string
  /** the id the object has on the editor (prefixed on the master) */
  readonly id: string
  readonly kind: EditKind
  /** agents that must end up holding this edit */
  readonly holders: readonly string[]
}

/**
 * `edits` edits, round-robin over all agents (master included), each agent
 * alternating between an object every agent shares and a sample or analysis.
 */
export function planEdits (labs: number, edits: number): PlannedEdit[] {
  const collabs = collaborators(labs)
  const agents = [MASTER, ...collabs]
  const shared = (d: string): Array<{ uid: string, id: string }> => collaboratorSeed(d).filter((o) => o.type === 'Client' || o.type === 'Contact').map((o) => ({ uid: o.uid, id: o.id }))
  const samples = (d: string): Array<{ uid: string, id: string, type: string }> => collaboratorSeed(d).filter((o) => o.type === 'AnalysisRequest' || o.type === 'Analysis').map((o) => ({ uid: o.uid, id: o.id, type: o.type }))
  const masterShared = masterSeed().filter((o) => o.type === 'Department' || o.type === 'Client' || o.type === 'AnalysisService')
  const out: PlannedEdit[] = []
  const turn = new Map<string, number>()
  for (let n = 0; n < edits; n++) {
    const editor = agents[n % agents.length]!
    const t = turn.get(editor) ?? 0
    turn.set(editor, t + 1)
    const others = collabs.filter((c) => c !== editor)
    if (editor === MASTER) {
      if (t % 2 === 0) {
        const o = masterShared[(t / 2) % masterShared.length]!
        out.push({ n, editor, uid: o.uid, id: o.id, kind: 'master-shared', holders: collabs })
      } else {
        const lab = collabs[((t - 1) / 2) % collabs.length]!
        const list = samples(lab)
        const half = list.slice(Math.floor(list.length / 2))
        const o = half[Math.floor((t - 1) / 2 / collabs.length) % half.length]!
        out.push({ n, editor, uid: o.uid, id: `${prefixOf(lab)}-${o.id}`, kind: 'master-sample', holders: [lab] })
      }
    } else if (t % 2 === 0) {
      const list = shared(editor)
      const o = list[(t / 2) % list.length]!
      out.push({ n, editor, uid: o.uid, id: o.id, kind: 'collaborator-shared', holders: [MASTER, ...others] })
    } else {
      const list = samples(editor)
      const o = list[((t - 1) / 2) % Math.floor(list.length / 2)]!
      out.push({ n, editor, uid: o.uid, id: o.id, kind: 'collaborator-sample', holders: [MASTER] })
    }
  }
  return out
}

/** `count` edits by collaborators of objects every lab shares, round-robin over the collaborators (the latency phase). */
export function planLatencyEdits (labs: number, count: number): PlannedEdit[] {
  const collabs = collaborators(labs).length
  // every other turn of a collaborator in planEdits is a shared object; the master's turns are skipped
  const all = planEdits(labs, 2 * (collabs + 1) * Math.ceil(count / collabs) + 2 * labs)
  return all.filter((e) => e.kind === 'collaborator-shared').slice(0, count).map((e, n) => ({ ...e, n }))
}

/** Objects each agent holds once the seeds have spread (the initial sync's end). */
export function expectedObjects (labs: number): Map<string, number> {
  const collabs = collaborators(labs)
  const master = masterSeed()
  const perLab = collaboratorSeed(collabs[0]!)
  const sharedPerLab = perLab.filter((o) => !(PREFIXABLE as readonly string[]).includes(o.type)).length
  const out = new Map<string, number>([[MASTER, master.length + collabs.length * perLab.length]])
  for (const c of collabs) out.set(c, perLab.length + master.length + (collabs.length - 1) * sharedPerLab)
  return out
}
