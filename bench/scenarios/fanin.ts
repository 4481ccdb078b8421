/**
 * Scenario (4) fan-in: four collaborator agents (lab-a … lab-d), each seeded
 * with `perCollaborator` objects of its own domain, and a hub M that pulls
 * from all four at once — five processes. Each run starts a fresh M process
 * on an empty store and times M's `agent.start()` → the commit at which M
 * holds all 4 × perCollaborator objects. Pulls run concurrently: one pull
 * session per collaborator, all applying into M's one store (whose writes
 * are serialised).
 */
import type { BenchAgent, Cluster } from '../agents/cluster.js'
import type { BenchLog } from '../lib/report.js'
import { perSecond, seconds } from '../lib/report.js'
import { spread, type Spread } from '../lib/stats.js'

export interface FaninOptions {
  readonly perCollaborator: number
  readonly seed: number
  readonly runs: number
  readonly log: BenchLog
}

export interface FaninRun {
  readonly seconds: number
  readonly objectsPerSecond: number
  /** the hub's CPU time (user + system) during the run */
  readonly hubCpuSeconds: number
  readonly rssMiB: Readonly<Record<string, number>>
}

export interface FaninResult {
  readonly collaborators: number
  readonly perCollaborator: number
  readonly objects: number
  readonly seconds: Spread
  readonly objectsPerSecond: Spread
  readonly runs: readonly FaninRun[]
  /** per agent, over all runs */
  readonly peakRssMiB: Readonly<Record<string, number>>
}

const COLLABORATORS = ['lab-a', 'lab-b', 'lab-c', 'lab-d'] as const

export async function runFanin (cluster: Cluster, opts: FaninOptions): Promise<FaninResult> {
  const hub = await cluster.add('hub')
  const labs: BenchAgent[] = []
  for (const domain of COLLABORATORS) labs.push(await cluster.add(domain))
  await hub.configure(labs.map((agent) => ({ agent, pull: true })))
  for (const lab of labs) {
    await lab.configure([{ agent: hub, pull: false }])
    await lab.seed({ seed: opts.seed, objects: opts.perCollaborator, editCount: 0 })
    await lab.launch()
    await lab.start()
  }
  const total = opts.perCollaborator * labs.length
  const runs: FaninRun[] = []
  for (let run = 1; run <= opts.runs; run++) {
    if (hub.worker !== undefined) { await hub.halt(); await hub.wipeStore() }
    await hub.launch()
    await Promise.all([hub, ...labs].map(async (a) => { await a.rssReset() }))
    const started = await hub.start()
    const done = await hub.waitFor({ objects: total }, 300_000)
    const ms = done.at - started.calledAt
    const rssMiB: Record<string, number> = {}
    for (const a of [hub, ...labs]) rssMiB[a.name] = await a.rssPeakMiB()
    const r: FaninRun = { seconds: seconds(ms), objectsPerSecond: perSecond(total, ms), hubCpuSeconds: seconds(done.cpuMs - started.cpuMs), rssMiB }
    runs.push(r)
    opts.log(`fan-in run ${run}`, { ...r })
  }
  const peakRssMiB: Record<string, number> = {}
  for (const a of [hub, ...labs]) peakRssMiB[a.name] = Math.max(...runs.map((r) => r.rssMiB[a.name] ?? 0))
  return {
    collaborators: labs.length,
    perCollaborator: opts.perCollaborator,
    objects: total,
    seconds: spread(runs.map((r) => r.seconds)),
    objectsPerSecond: spread(runs.map((r) => r.objectsPerSecond)),
    runs,
    peakRssMiB
  }
}
