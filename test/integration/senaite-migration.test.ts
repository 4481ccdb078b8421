/**
 * Fresh-site migration, the add-on's first use case: a seeded lab (samples
 * with analyses and review history, worksheets, attachments) into a SENAITE
 * site that has only its setup folders — on each 2.x catalog layout (2.0–2.4,
 * 2.5, 2.6) into a fresh site of its own layout, and a
 * 1.3 site into a 2.6 one (AT into Dexterity) — with every call to either
 * site answered 25 ms late. Every object arrives once, its references
 * pointing at the new site's own objects, in the same review state, files
 * byte for byte; then both sites stay flat. The time and objects/s are
 * printed (bench/senaite-migration.ts measures them, with baselines).
 *
 * 40 samples (~180 objects) by default; LABMESH_SOAK=1 migrates 200 (~890).
 */
import { describe, expect, it } from 'vitest'
import { useTestMesh } from '../helpers/lifecycle.js'
import { waitFor } from '../helpers/nodes.js'
import { labDifferences } from '../helpers/senaite-lab.js'
import { runMigration } from '../helpers/senaite-migration.js'
import type { RealLayout } from '../helpers/senaite.js'
import { writeCalls } from '../senaite-sim/simulator.js'

const SOAK = process.env.LABMESH_SOAK === '1'
const SAMPLES = SOAK ? 200 : 40
const PAIRS: ReadonlyArray<readonly [RealLayout, RealLayout]> = [['2.0-2.4', '2.0-2.4'], ['2.5', '2.5'], ['2.6', '2.6'], ['1.3', '2.6']]

describe.each(PAIRS)('fresh-site migration, SENAITE %s into a fresh %s site', (from, to) => {
  const mesh = useTestMesh(['old', 'new'])

  it(`${SAMPLES} samples: every object once, references to the new site's own objects, review states, files byte for byte; then flat`, async () => {
    const migration = await runMigration([mesh.node('old'), mesh.node('new')], { from, to, samples: SAMPLES, latencyMs: 25, timeoutMs: SOAK ? 600_000 : 120_000 })
    try {
      const { source, target, old, fresh, connectors } = migration
      console.log(`SENAITE ${from} → fresh ${to}: ${migration.objects} objects in ${migration.seconds.toFixed(1)} s = ${(migration.objects / migration.seconds).toFixed(1)} objects/s (25 ms per call, ${migration.calls} calls, ${(migration.calls / migration.objects).toFixed(1)} per object)`)
      expect(fresh.status().failed).toBe(0)
      expect(labDifferences(source, target)).toEqual([])
      const types = new Set(target.site.content().map((o) => o.portalType))
      for (const type of ['AnalysisRequest', 'Analysis', 'Worksheet', 'Attachment', 'Department', 'SampleType']) expect(types.has(type), type).toBe(true)

      // then flat: a few poll cycles on both sides write nothing and grow no feed
      for (const sim of [source, target]) sim.setLatency({ readMs: 0, writeMs: 0 })
      const counters = (): unknown => [writeCalls(source), writeCalls(target), old.status().feedHead, fresh.status().feedHead, old.status().conflicts + fresh.status().conflicts]
      const cycle = async (): Promise<void> => {
        await Promise.all(connectors.map(async (c) => await c.pollNow()))
        await new Promise((resolve) => setTimeout(resolve, 50))
        await waitFor(() => old.peerStatus('new').progress.state === 'idle' && fresh.peerStatus('old').progress.state === 'idle', { what: 'pulls applied' })
      }
      await cycle()
      const before = counters()
      for (let i = 0; i < 5; i++) await cycle()
      expect(counters()).toEqual(before)
      expect(labDifferences(source, target)).toEqual([])
    } finally {
      await migration.stop()
    }
  }, SOAK ? 900_000 : 240_000)
})
