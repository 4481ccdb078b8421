/**
 * The add-on's first use case, as the tests and the benchmark run it: a
 * seeded lab (test/senaite-sim/dataset.ts: setup, clients, samples with
 * analyses and review history, worksheets, attachments) in an "old" SENAITE
 * site, read by its agent, and a "fresh" site that has only its setup
 * folders, whose agent pulls it all over. Both sites answer each call
 * `latencyMs` late; the time is from the fresh agent's start to the last
 * object written into its site with its pull caught up.
 */
import { join } from 'node:path'
import { createAgent, type Agent } from '../../agent/agent.js'
import { createSenaiteConnector, type SenaiteConnector } from '../../agent/connectors/senaite/connector.js'
import { senaiteInstanceSchema } from '../../config/senaite-schema.js'
import type { RealLayout } from '../senaite-sim/layouts.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import { createSenaiteSimulator, type SenaiteSimulator } from '../senaite-sim/simulator.js'
import { meshConfig, testLogger, waitFor, type TestNode } from './nodes.js'

const PASSWORD_ENV = 'LABMESH_MIGRATION_PASSWORD'

export interface MigrationOptions {
  readonly from: RealLayout
  readonly to: RealLayout
  readonly samples: number
  /** each call to either site answered this much later */
  readonly latencyMs: number
  readonly seed?: number
  /** how long the fresh site may take */
  readonly timeoutMs?: number
}

export interface Migration {
  readonly source: SenaiteSimulator
  readonly target: SenaiteSimulator
  readonly old: Agent
  readonly fresh: Agent
  readonly connectors: readonly [SenaiteConnector, SenaiteConnector]
  /** objects the fresh site holds, and the seconds it took */
  readonly objects: number
  readonly seconds: number
  /** CPU time of this whole process (both agents and both simulated sites) over those seconds: steadier than them on a busy machine */
  readonly cpuSeconds: number
  /** API calls the fresh agent made to its site during the migration */
  readonly calls: number
  /** stops both agents and both simulators */
  stop (): Promise<void>
}

/** A connector beside `sim` that polls at start and then every `pollInterval` (or when asked: pollNow). */
export function senaiteConnectorFor (node: TestNode, sim: SenaiteSimulator, pollInterval: string): SenaiteConnector {
  const instance = senaiteInstanceSchema.parse({ kind: 'senaite', url: sim.url(), username: 'labman', passwordEnv: PASSWORD_ENV, pollInterval, layout: sim.site.siteLayout })
  return createSenaiteConnector({ instance, dataDir: join(node.dir, 'data'), env: { [PASSWORD_ENV]: 'labman' } })
}

/** `old` beside the seeded site, `fresh` beside an empty one pulling from it. */
export async function runMigration (nodes: readonly [TestNode, TestNode], options: MigrationOptions): Promise<Migration> {
  const [O, N] = nodes
  const source = createSenaiteSimulator({ layout: options.from })
  const target = createSenaiteSimulator({ layout: options.to })
  await source.start()
  await target.start()
  const agents: Agent[] = []
  const stop = async (): Promise<void> => {
    for (const agent of agents.splice(0)) await agent.stop()
    await source.stop()
    await target.stop()
  }
  try {
    const seeded = await seedSimulator(source, { seed: options.seed ?? 12, samples: options.samples, clients: Math.max(2, Math.ceil(options.samples / 20)) })
    for (const sim of [source, target]) sim.setLatency({ readMs: options.latencyMs, writeMs: options.latencyMs })
    const connectors = [senaiteConnectorFor(O, source, '30s'), senaiteConnectorFor(N, target, '30s')] as const
    const old = createAgent(meshConfig(O, [{ node: N }]), { logger: testLogger(O.domain), connector: connectors[0] })
    agents.push(old)
    await old.start()
    await waitFor(() => old.status().objects >= seeded.objects, { what: 'the old site read into its agent', timeout: options.timeoutMs ?? 120_000, interval: 100 })
    const started = performance.now()
    const cpuBefore = process.cpuUsage()
    const fresh = createAgent(meshConfig(N, [{ node: O, pull: true }]), { logger: testLogger(N.domain), connector: connectors[1] })
    agents.push(fresh)
    await fresh.start()
    const expected = source.site.content().length
    // nothing parked either: an object whose files (blobs) are still being fetched waits MISSING_BLOB after the pull is done
    await waitFor(() => target.site.content().length >= expected && fresh.peerStatus(O.domain).progress.state === 'idle' && fresh.peerStatus(O.domain).progress.percent === 100 && fresh.status().failed === 0,
      { what: `the fresh site filled (${target.site.content().length} of ${expected} objects)`, timeout: options.timeoutMs ?? 120_000, interval: 50 })
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    return { source, target, old, fresh, connectors, objects: target.site.content().length, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, calls: connectors[1].stats.apiCalls, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
