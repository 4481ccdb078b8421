/**
 * Verify at scale (issue 13, must show): two agents holding the same 5,000
 * and then 50,000 objects (seeded straight through the store's write path)
 * are found in sync in one exchange over real libp2p, and the messages do
 * not grow with the store; one object only the peer holds is found by
 * descending the tree (group → 64 buckets → 4096 → leaves), not by listing.
 */
import { describe, expect, it } from 'vitest'
import type { VerifyReport } from '../../agent/verify/report.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig } from '../helpers/nodes.js'
import { samples, seedHoldings } from '../helpers/verify-seed.js'

describe('verify at scale', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-verify-scale-' })

  it('says in sync with a constant handful of messages at 5,000 and 50,000 objects', async () => {
    const a = mesh.node('lab-a')
    const b = mesh.node('lab-b')
    // no pulls: the stores stay exactly as seeded; B verifies what it would import from A
    const aConfig = meshConfig(a, [{ node: b }])
    const bConfig = meshConfig(b, [{ node: a }])
    const runs: Record<number, { quick: VerifyReport, thorough: VerifyReport }> = {}
    let seeded = 0
    for (const n of [5_000, 50_000]) {
      await seedHoldings([a, b], samples(seeded, n - seeded))
      seeded = n
      const agentA = await mesh.start(aConfig)
      const agentB = await mesh.start(bConfig)
      const quick = (await agentB.verify('lab-a', { quick: true })).report
      const thorough = (await agentB.verify('lab-a')).report
      runs[n] = { quick, thorough }
      for (const r of [quick, thorough]) {
        expect(r.inSync).toBe(true)
        expect(r.differenceCount).toBe(0)
        expect(r.digest.here).toEqual(r.digest.there)
        expect(r.digest.here.count).toBe(n)
      }
      expect(thorough.checks).toEqual({ here: { objects: n, problems: 0, groupProblems: 0 }, there: { objects: n, problems: 0, groupProblems: 0 } })
      await mesh.stop(agentA)
      await mesh.stop(agentB)
    }
    // one exchange (open → summary): the group totals agree, nothing is descended into
    expect(runs[50_000]!.quick.roundTrips).toBe(1)
    expect(runs[50_000]!.quick.messages).toEqual({ sent: 1, received: 1 })
    expect(runs[50_000]!.quick.messages).toEqual(runs[5_000]!.quick.messages)
    // the same frames: only the counts in the summary have a digit more
    expect(runs[50_000]!.quick.bytes.sent).toBe(runs[5_000]!.quick.bytes.sent)
    expect(runs[50_000]!.quick.bytes.received - runs[5_000]!.quick.bytes.received).toBeLessThanOrEqual(2)
    // a thorough verify adds the peer's check: its result, and progress while it reads
    expect(runs[50_000]!.thorough.roundTrips).toBe(1)
    expect(runs[50_000]!.thorough.messages.sent).toBe(1)
    expect(runs[50_000]!.thorough.messages.received).toBeGreaterThanOrEqual(2)
    console.log(`[verify-scale] in sync: 5,000 → ${JSON.stringify(runs[5_000]!.quick.messages)} in ${runs[5_000]!.quick.durationMs} ms; 50,000 → ${JSON.stringify(runs[50_000]!.quick.messages)} in ${runs[50_000]!.quick.durationMs} ms (thorough ${runs[50_000]!.thorough.durationMs} ms, ${runs[50_000]!.thorough.messages.received} received)`)

    // one object only A holds: found by descending, in as many exchanges as the tree is deep
    await seedHoldings([a], samples(seeded, 1))
    const agentA = await mesh.start(aConfig)
    const agentB = await mesh.start(bConfig)
    const one = (await agentB.verify('lab-a', { quick: true })).report
    await mesh.stop(agentA)
    await mesh.stop(agentB)
    expect(one.differences.map((d) => [d.uid, d.kind])).toEqual([[`uid-${String(seeded).padStart(7, '0')}`, 'missing-here']])
    expect(one.roundTrips).toBe(4)
    expect(one.messages).toEqual({ sent: 4, received: 4 })
    console.log(`[verify-scale] one difference in 50,001: ${one.roundTrips} round trips, ${one.bytes.received} bytes received`)
  }, 240_000)
})
