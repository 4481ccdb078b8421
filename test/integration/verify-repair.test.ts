/**
 * Verify finds exactly what differs, and --repair mends it (issue 13, must
 * show), over real libp2p and LevelDB: B pulls from A, then 10 of B's
 * records are corrupted behind its store's back (5 through a test-only
 * write path into the running store, 5 by writing LevelDB rows directly
 * while B is stopped), A deletes 3 and adds 2 that B has not pulled. The
 * verify names exactly those 15 uids and how each differs; a quick verify
 * (digests only) cannot see the corruption; the repair restores and applies
 * through the normal path and leaves the conflicts both sides hold alone.
 */
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import type { VerifyResult } from '../../agent/verify/report.js'
import { corruptRecord, withRawObjects } from '../helpers/corrupt.js'
import { adminCall } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { samples, seedHoldings, type Holding } from '../helpers/verify-seed.js'

const N = 1000
const uid = (i: number): string => `uid-${String(i).padStart(7, '0')}`

/** three objects A holds with a concurrent sibling from lab-c: B takes the conflict in its pull */
function conflicted (): Holding[] {
  return [0, 1, 2].map((i) => {
    const [h] = [...samples(N + i, 1)]
    return { current: h!.current, conflicts: [{ ...h!.current, vector: { 'lab-c': 1 }, origin: 'lab-c', data: { ...h!.current.data, result: -1 } }] }
  })
}

async function pulledOnce (agent: Agent): Promise<void> {
  await waitFor(() => { const p = agent.peerStatus('lab-a'); return p.progress.finishedAt !== undefined && p.progress.state === 'idle' }, { what: 'B\'s pull from A', timeout: 60_000 })
}

describe('verify finds and repairs differences', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-verify-repair-' })

  it('names exactly the 15 uids that differ and how; --repair mends them without touching conflicts', async () => {
    const a = mesh.node('lab-a')
    const b = mesh.node('lab-b')
    await seedHoldings([a], [...samples(0, N), ...conflicted()])
    const agentA = await mesh.start(meshConfig(a, [{ node: b }]))
    // B pulls once as it starts (live off, the next pull an hour away): what A changes later stays unpulled
    const bConfig = meshConfig(b, [{ node: a, pull: true, extra: { autoSync: { interval: '1h', live: false } } }])
    let agentB = await mesh.start(bConfig)
    await waitFor(() => agentB.status().objects === N + 3, { what: 'initial sync', timeout: 60_000 })
    await pulledOnce(agentB)
    const before = await agentB.verify('lab-a')
    expect(before.report.inSync).toBe(true)
    expect(agentB.status().conflicts).toBe(3)

    // 5 records changed by writing B's LevelDB rows directly, while it is stopped
    await mesh.stop(agentB)
    const rawCorrupted = [10, 20, 30, 40, 50].map(uid)
    await withRawObjects(b.dir, async (objects) => {
      for (const u of rawCorrupted) {
        const record = await objects.get(u) as unknown as { data: Record<string, unknown> }
        await objects.put(u, { ...record, data: { ...record.data, result: 'tampered on disk' } } as never)
      }
    })
    agentB = await mesh.start(bConfig)
    await pulledOnce(agentB)
    // 5 through the test-only path into the running store: no feed entry, no digest update
    const pathCorrupted = [110, 120, 130, 140, 150].map(uid)
    for (const u of pathCorrupted) await corruptRecord(agentInternals(agentB).store, u, (r) => ({ ...r, data: { ...r.data, title: 'edited behind the store' } }))
    // A deletes 3 and adds 2: B does not pull them
    const deleted = [200, 300, 400].map(uid)
    for (const u of deleted) await agentA.documents.delete(u)
    const added = (await agentA.documents.putMany([{ uid: 'uid-new-1', type: 'Sample', id: 'S-new-1', data: { n: 1 } }, { uid: 'uid-new-2', type: 'Sample', id: 'S-new-2', data: { n: 2 } }])).map((o) => o.uid)

    // the digests alone cannot see what bypassed the store: only A's changes
    const quick = await agentB.verify('lab-a', { quick: true })
    expect(quick.report.differences.map((d) => d.uid).sort()).toEqual([...deleted, ...added].sort())

    // through the API, as `labmesh verify --peer lab-a` asks
    const { status, json } = await adminCall<VerifyResult>(agentB, 'POST', '/api/peers/lab-a/verify')
    expect(status).toBe(200)
    const { report } = json
    expect(report.inSync).toBe(false)
    expect(report.differenceCount).toBe(15)
    const kinds = Object.fromEntries(report.differences.map((d) => [d.uid, `${d.kind}${d.corrupt !== undefined ? `/${d.corrupt}` : ''}`]))
    expect(kinds).toEqual(Object.fromEntries([
      ...[...rawCorrupted, ...pathCorrupted].map((u) => [u, 'different-data/here']),
      ...deleted.map((u) => [u, 'different-version']),
      ...added.map((u) => [u, 'missing-here'])
    ]))
    expect(report.byKind).toEqual({ 'missing-here': 2, 'missing-there': 0, 'different-version': 3, 'different-data': 10 })
    expect(report.checks?.here.problems).toBe(10)
    expect(report.checks?.there.problems).toBe(0)

    const repaired = await agentB.verify('lab-a', { repair: true })
    expect(repaired.repair).toMatchObject({ requested: 15, received: 15, restored: 10, applied: 5, conflicts: 0, failed: 0, notRepaired: [] })
    expect(repaired.after?.inSync).toBe(true)
    expect((await agentB.verify('lab-a')).report.inSync).toBe(true)
    // the records are A's again, the deletions and additions applied, the conflicts as they were
    expect((await agentB.documents.get(uid(10)))?.data.result).toBe((await agentA.documents.get(uid(10)))?.data.result)
    expect((await agentB.documents.get(uid(110)))?.data.title).toBe(`sample ${String(110).padStart(7, '0')}`)
    for (const u of deleted) expect((await agentB.documents.get(u))?.deleted).toBe(true)
    expect(agentB.status().conflicts).toBe(3)
    for (let i = 0; i < 3; i++) expect((await agentB.documents.get(uid(N + i)))?.conflicts.length).toBe(1)
    expect(agentB.status().peers[0]?.verification?.last).toMatchObject({ result: 'in-sync', differences: 0 })
    expect((await agentB.verifySelf()).equal).toBe(true)
  }, 180_000)

  it('compares only what A would serve B and B would import from A', async () => {
    const a = mesh.node('lab-a')
    const b = mesh.node('lab-b')
    const other = (type: string, i: number): Holding => ({ current: { ...[...samples(i, 1)][0]!.current, uid: `${type}-${i}`, type, id: `${type}-${i}` } })
    // both hold the Samples; only A holds Analyses (it does not serve them to B) and Worksheets (B does not import them)
    await seedHoldings([a, b], samples(0, 100))
    await seedHoldings([a], [other('Analysis', 1), other('Analysis', 2), other('Worksheet', 3)])
    // and B holds an Analysis A does not serve it: refused, so not compared either
    await seedHoldings([b], [other('Analysis', 4)])
    await mesh.start(meshConfig(a, [{ node: b, extra: { serve: { types: { skip: ['Analysis'] } } } }]))
    const agentB = await mesh.start(meshConfig(b, [{ node: a, pull: true, extra: { autoSync: { interval: '1h', live: false }, types: { skip: ['Worksheet'] }, verify: { interval: '1s', quick: true } } }]))
    const { report } = await agentB.verify('lab-a')
    expect(report.inSync).toBe(true)
    expect(report.scope).toEqual({ groups: 1, refused: ['Analysis'] })
    expect(report.digest.here.count).toBe(100)
    // the periodic verify (peers[].verify.interval) runs by itself, and the status shows it
    const verification = await waitFor(() => {
      const v = agentB.status().peers[0]?.verification
      return v?.last !== undefined && v.last.finishedAt > report.finishedAt && v.last.checked === false ? v : undefined
    }, { what: 'a periodic verify', timeout: 30_000 })
    expect(verification).toMatchObject({ intervalMs: 1000, last: { result: 'in-sync', differences: 0 } })
  }, 60_000)
})
