/**
 * Agents beside simulated SENAITE sites: a simulator on 127.0.0.1, the
 * `instance: {kind: senaite}` config block pointing an agent at it, and the
 * layout matrix every SENAITE connector test runs on (the real layouts of
 * test/senaite-sim: 1.3, 2.0-2.4, 2.5, 2.6).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe } from 'vitest'
import { REAL_LAYOUTS, type RealLayout } from '../senaite-sim/layouts.js'
import { createSenaiteSimulator, type SenaiteSimulator, type SimulatorOptions } from '../senaite-sim/simulator.js'
import type { TestNode } from './nodes.js'

export type { RealLayout } from '../senaite-sim/layouts.js'

/** every layout the connector is tested on */
export const LAYOUTS: readonly RealLayout[] = REAL_LAYOUTS

/** `describe` the block once per layout, its name followed by "(SENAITE <layout>)" */
export function describeLayouts (name: string, body: (layout: RealLayout) => void): void {
  describe.each(LAYOUTS)(`${name} (SENAITE %s)`, body)
}

export async function startSimulator (options: SimulatorOptions = {}, tls?: { key: string, cert: string }): Promise<SenaiteSimulator> {
  const sim = createSenaiteSimulator(options)
  await sim.start(tls !== undefined ? { tls } : {})
  return sim
}

/** The instance block for a node: password in a file next to its config; `layout` is the site's own unless `extra` says otherwise. */
export async function senaiteInstance (node: TestNode, sim: SenaiteSimulator, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const passwordFile = join(node.dir, 'senaite.password')
  await writeFile(passwordFile, 'labman\n', { mode: 0o600 })
  return { kind: 'senaite', url: sim.url(), username: 'labman', passwordFile, pollInterval: '200ms', pageSize: 100, concurrency: 8, layout: sim.site.siteLayout, ...extra }
}

/** A lab user's POST to the site's JSON API (JSON body); the answer, whatever its status. */
export async function labPost (sim: SenaiteSimulator, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await sim.app.request(`/${sim.site.portalId}/@@API/senaite/v1/${path}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('labman:labman').toString('base64')}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return await r.json() as Record<string, unknown>
}
