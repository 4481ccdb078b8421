import { describe, expect, it } from 'vitest'
import { agentInternals } from '../../agent/test-hooks.js'
import type { ApplyStats } from '../../agent/apply/apply-remote.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'

describe('labmesh plan (dry run)', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])

  it('predicts per type what the real pull then does, and writes nothing', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    await a.documents.putMany([
      ...Array.from({ length: 30 }, (_, i) => ({ uid: `client-${i}`, type: 'Client', id: `client-${i}`, data: {} })),
      ...Array.from({ length: 50 }, (_, i) => ({ uid: `sample-${i}`, type: 'AnalysisRequest', id: `W-${i}`, parent: `client-${i % 30}`, data: {} })),
      ...Array.from({ length: 10 }, (_, i) => ({ uid: `calc-${i}`, type: 'Calculation', id: `calc-${i}`, data: {} })),
      ...Array.from({ length: 5 }, (_, i) => ({ uid: `user-${i}`, type: '@user', id: `user${i}`, data: { roles: ['Analyst'] } })),
      { uid: 'shared', type: 'Method', id: 'method-1', data: { v: 'A' } }
    ])
    const bRules = { prefix: 'A', types: { skip: ['Client', 'Calculation'], prefixable: ['AnalysisRequest'] } }
    const bConfig = meshConfig(B, [{ node: A, pull: true, extra: bRules }])
    // B holds a concurrent version of the shared method: the plan must call it a conflict
    const seed = await mesh.start(bConfig, { passive: true })
    await seed.documents.put({ uid: 'shared', type: 'Method', id: 'method-1', data: { v: 'B' } })
    const plan = await seed.plan('lab-a')
    expect(seed.status().objects).toBe(1) // nothing written by the plan
    expect(await agentInternals(seed).store.getCheckpoint(A.peerId)).toBeUndefined()
    await seed.stop()

    expect(plan.objects).toBe(96)
    expect(plan.types.AnalysisRequest).toMatchObject({ create: 50, update: 0, park: 0 })
    // clients are skipped, but the samples require them
    expect(plan.types.Client).toMatchObject({ create: 30, asDependency: 30, ignore: { 'skipped-type': 30 } })
    expect(plan.types.Calculation).toMatchObject({ create: 0, ignore: { 'skipped-type': 10 } })
    expect(plan.types['@user']).toMatchObject({ ignore: { 'users-not-imported': 5 } })
    expect(plan.types.Method).toMatchObject({ conflict: 1 })

    // the real pull
    const totals: ApplyStats[] = []
    const b = await mesh.start(bConfig, { events: { onBatchApplied: (_p, stats) => { totals.push(stats) } } })
    await waitFor(() => b.peerStatus('lab-a').progress.percent === 100 && b.status().objects === 81, { what: 'pull done' })
    const sum = (f: (s: ApplyStats) => number): number => totals.reduce((n, s) => n + f(s), 0)
    expect(sum((s) => s.ignoredBy['skipped-type'] ?? 0)).toBe(40)
    expect(sum((s) => s.ignoredBy['users-not-imported'] ?? 0)).toBe(5)
    expect(sum((s) => s.conflicts)).toBe(plan.types.Method!.conflict)
    expect(sum((s) => s.dependencies)).toBe(plan.types.Client!.asDependency)
    const planned = Object.values(plan.types).reduce((n, t) => n + t.create, 0)
    expect(b.status().objects - 1).toBe(planned)
    expect((await b.documents.get('sample-7'))!.id).toBe('A-W-7')
  })
})
