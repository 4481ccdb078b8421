/**
 * Agents beside simulated SENAITE sites: a simulator on 127.0.0.1, and the
 * `instance: {kind: senaite}` config block pointing an agent at it.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSenaiteSimulator, type SenaiteSimulator, type SimulatorOptions } from '../senaite-sim/simulator.js'
import type { TestNode } from './nodes.js'

export async function startSimulator (options: SimulatorOptions = {}, tls?: { key: string, cert: string }): Promise<SenaiteSimulator> {
  const sim = createSenaiteSimulator(options)
  await sim.start(tls !== undefined ? { tls } : {})
  return sim
}

/** The instance block for a node: password in a file next to its config. */
export async function senaiteInstance (node: TestNode, sim: SenaiteSimulator, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const passwordFile = join(node.dir, 'senaite.password')
  await writeFile(passwordFile, 'labman\n', { mode: 0o600 })
  return { kind: 'senaite', url: sim.url(), username: 'labman', passwordFile, pollInterval: '200ms', pageSize: 100, concurrency: 8, layout: sim.site.layout, ...extra }
}
