import { describe, expect, it } from 'vitest'
import type { LoadedConfig } from '../../config/load.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor, type TestNode } from '../helpers/nodes.js'

describe('concurrent edits', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'master', 'lab-c'])

  it('are kept as a conflict on both sides, neither overwritten, and a resolution on A converges both', async () => {
    const pair = await mesh.startPair({ mutual: true })
    let { a, b } = pair
    await a.documents.put({ uid: 'client-1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills', phone: '1' } })
    await waitFor(async () => await b.documents.get('client-1'), { what: 'initial copy on B' })

    // disconnected: each side edits while the other is down
    await mesh.stop(b)
    await a.documents.put({ uid: 'client-1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills', phone: '2' } })
    await mesh.stop(a)
    b = await mesh.start(pair.bConfig)
    await b.documents.put({ uid: 'client-1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills Ltd', phone: '1' } })
    a = await mesh.start(pair.aConfig)

    await waitFor(() => a.status().conflicts === 1 && b.status().conflicts === 1, { what: 'conflict on both' })
    const onA = await a.documents.get('client-1')
    const onB = await b.documents.get('client-1')
    // neither was overwritten: each keeps its own edit as current, the other's as the sibling
    expect(onA!.data).toEqual({ name: 'Happy Hills', phone: '2' })
    expect(onA!.conflicts.map((c) => c.data)).toEqual([{ name: 'Happy Hills Ltd', phone: '1' }])
    expect(onB!.data).toEqual({ name: 'Happy Hills Ltd', phone: '1' })
    expect(onB!.conflicts.map((c) => c.data)).toEqual([{ name: 'Happy Hills', phone: '2' }])
    expect((await a.conflicts.list({})).map((o) => o.uid)).toEqual(['client-1'])
    // the status names the peer the other side came from
    expect(a.status().peers).toEqual([expect.objectContaining({ name: 'lab-b', conflicts: 1, lag: expect.any(Number) })])
    expect(b.status().peers).toEqual([expect.objectContaining({ name: 'lab-a', conflicts: 1 })])

    await a.conflicts.resolve('client-1', { data: { name: 'Happy Hills Ltd', phone: '2' } })
    await waitFor(() => a.status().conflicts === 0 && b.status().conflicts === 0, { what: 'resolution everywhere' })
    expect(a.status().peers[0]!.conflicts).toBe(0)
    const resolvedA = await a.documents.get('client-1')
    const resolvedB = await waitFor(async () => { const o = await b.documents.get('client-1'); return o?.data.phone === '2' ? o : undefined })
    expect(resolvedB.data).toEqual({ name: 'Happy Hills Ltd', phone: '2' })
    expect(resolvedB.vector).toEqual(resolvedA!.vector)
    expect(resolvedA!.vector).toEqual({ 'lab-a': 3, 'lab-b': 1 })
  })

  it('travel through a hub: every agent that holds both versions shows the same conflict', async () => {
    const [A, B, M, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('master'), mesh.node('lab-c')]
    const mConfig = meshConfig(M, [{ node: A, pull: true }, { node: B, pull: true }, { node: C, pull: true }])
    const spoke = (n: TestNode): LoadedConfig => meshConfig(n, [{ node: M, pull: true }])
    let m = await mesh.start(mConfig)
    const a = await mesh.start(spoke(A))
    const b = await mesh.start(spoke(B))
    const c = await mesh.start(spoke(C))
    await a.documents.put({ uid: 'm-1', type: 'Method', id: 'method-1', data: { title: 'ICP' } })
    await waitFor(async () => (await b.documents.get('m-1')) !== undefined && (await c.documents.get('m-1')) !== undefined, { what: 'spread' })

    await mesh.stop(m)
    await a.documents.put({ uid: 'm-1', type: 'Method', id: 'method-1', data: { title: 'ICP-MS' } })
    await b.documents.put({ uid: 'm-1', type: 'Method', id: 'method-1', data: { title: 'ICP-OES' } })
    m = await mesh.start(mConfig)

    await waitFor(() => [a, b, c, m].every((x) => x.status().conflicts === 1), { what: 'the same conflict on all four', timeout: 20_000 })
    for (const agent of [a, b, c, m]) {
      const o = await agent.documents.get('m-1')
      const titles = [o!.data.title, ...o!.conflicts.map((x) => x.data.title)].sort()
      expect(titles).toEqual(['ICP-MS', 'ICP-OES'])
    }
    // C never edited: it holds both versions only because they travelled together
    await c.conflicts.resolve('m-1', { pick: 'local' })
    await waitFor(() => [a, b, c, m].every((x) => x.status().conflicts === 0), { what: 'resolved everywhere', timeout: 20_000 })
    const vectors = await Promise.all([a, b, c, m].map(async (x) => (await x.documents.get('m-1'))!.vector))
    expect(new Set(vectors.map((v) => JSON.stringify(v))).size).toBe(1)
  })
})
