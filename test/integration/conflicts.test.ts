import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import type { LoadedConfig } from '../../config/load.js'
import { makeTempDir, meshConfig, prepareNodes, removeDir, startAgent, waitFor, type TestNode } from '../helpers/nodes.js'

describe('concurrent edits', () => {
  let root: string
  let nodes: Record<string, TestNode>
  const agents = new Set<Agent>()
  const run = async (config: LoadedConfig): Promise<Agent> => { const agent = await startAgent(config); agents.add(agent); return agent }
  const halt = async (agent: Agent): Promise<void> => { await agent.stop(); agents.delete(agent) }

  beforeEach(async () => {
    root = await makeTempDir()
    nodes = await prepareNodes(['lab-a', 'lab-b', 'master', 'lab-c'], root)
  })

  afterEach(async () => {
    await Promise.all([...agents].map(async (a) => await a.stop()))
    agents.clear()
    await removeDir(root)
  })

  it('are kept as a conflict on both sides, neither overwritten, and a resolution on A converges both', async () => {
    const { 'lab-a': A, 'lab-b': B } = nodes as Record<string, TestNode>
    const aConfig = meshConfig(A!, [{ node: B!, pull: true }])
    const bConfig = meshConfig(B!, [{ node: A!, pull: true }])
    let a = await run(aConfig)
    let b = await run(bConfig)
    await a.documents.put({ uid: 'client-1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills', phone: '1' } })
    await waitFor(async () => await b.documents.get('client-1'), { what: 'initial copy on B' })

    // disconnected: each side edits while the other is down
    await halt(b)
    await a.documents.put({ uid: 'client-1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills', phone: '2' } })
    await halt(a)
    b = await run(bConfig)
    await b.documents.put({ uid: 'client-1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills Ltd', phone: '1' } })
    a = await run(aConfig)

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
    const { 'lab-a': A, 'lab-b': B, master: M, 'lab-c': C } = nodes as Record<string, TestNode>
    const mConfig = meshConfig(M!, [{ node: A!, pull: true }, { node: B!, pull: true }, { node: C!, pull: true }])
    const spoke = (n: TestNode): LoadedConfig => meshConfig(n, [{ node: M!, pull: true }])
    let m = await run(mConfig)
    const a = await run(spoke(A!))
    const b = await run(spoke(B!))
    const c = await run(spoke(C!))
    await a.documents.put({ uid: 'm-1', type: 'Method', id: 'method-1', data: { title: 'ICP' } })
    await waitFor(async () => (await b.documents.get('m-1')) !== undefined && (await c.documents.get('m-1')) !== undefined, { what: 'spread' })

    await halt(m)
    await a.documents.put({ uid: 'm-1', type: 'Method', id: 'method-1', data: { title: 'ICP-MS' } })
    await b.documents.put({ uid: 'm-1', type: 'Method', id: 'method-1', data: { title: 'ICP-OES' } })
    m = await run(mConfig)

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
