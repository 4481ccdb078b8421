import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { makeTempDir, meshConfig, prepareNodes, removeDir, startAgent, waitFor, type TestNode } from '../helpers/nodes.js'

describe('relay and resume', () => {
  let root: string
  let nodes: Record<string, TestNode>
  const agents = new Set<Agent>()
  const run = async (a: Promise<Agent>): Promise<Agent> => { const agent = await a; agents.add(agent); return agent }

  beforeEach(async () => {
    root = await makeTempDir()
    nodes = await prepareNodes(['lab-a', 'master', 'lab-b'], root)
  })

  afterEach(async () => {
    await Promise.all([...agents].map(async (a) => await a.stop()))
    agents.clear()
    await removeDir(root)
  })

  it('a change on A reaches B through M, with no loop and no duplicate feed entries', async () => {
    const { 'lab-a': A, master: M, 'lab-b': B } = nodes as Record<string, TestNode>
    const a = await run(startAgent(meshConfig(A!, [{ node: M!, pull: true }])))
    const m = await run(startAgent(meshConfig(M!, [{ node: A!, pull: true }, { node: B!, pull: true }])))
    const b = await run(startAgent(meshConfig(B!, [{ node: M!, pull: true }])))

    await a.documents.put({ uid: 'sample-1', type: 'AnalysisRequest', id: 'W-0001', data: { result: 1 } })
    await waitFor(async () => (await b.documents.get('sample-1'))?.data.result === 1, { what: 'A → M → B' })
    await b.documents.put({ uid: 'sample-1', type: 'AnalysisRequest', id: 'W-0001', data: { result: 2 } })
    await waitFor(async () => (await a.documents.get('sample-1'))?.data.result === 2, { what: 'B → M → A' })
    const final = await a.documents.get('sample-1')
    expect(final!.vector).toEqual({ 'lab-a': 1, 'lab-b': 1 })

    // settle, then nothing moves any more: no ping-pong
    await new Promise((r) => setTimeout(r, 300))
    const heads = [a, m, b].map((x) => x.status().feedHead)
    await new Promise((r) => setTimeout(r, 500))
    expect([a, m, b].map((x) => x.status().feedHead)).toEqual(heads)
    for (const agent of [a, m, b]) {
      expect(agent.status().objects).toBe(1)
      // each uid appears once in the feed
      expect(await agentInternals(agent).store.countFeed(0)).toBe(1)
      expect(agent.status().conflicts).toBe(0)
    }
  })

  it('a restarted agent resumes from its checkpoint and pulls only what it missed', async () => {
    const { 'lab-a': A, 'lab-b': B } = nodes as Record<string, TestNode>
    const a = await run(startAgent(meshConfig(A!, [{ node: B! }])))
    const bConfig = meshConfig(B!, [{ node: A!, pull: true }])
    let b = await run(startAgent(bConfig))

    await a.documents.putMany(Array.from({ length: 200 }, (_, i) => ({ uid: `before-${i}`, type: 'Client', id: `c-${i}`, data: { i } })))
    await waitFor(() => b.status().objects === 200, { what: 'first 200 on B' })
    await b.stop()
    agents.delete(b)

    await a.documents.putMany(Array.from({ length: 1000 }, (_, i) => ({ uid: `after-${i}`, type: 'Client', id: `d-${i}`, data: { i } })))

    let pulled = 0
    b = await run(startAgent(bConfig, { events: { onBatchApplied: (_peer, stats) => { pulled += stats.received } } }))
    await waitFor(() => b.status().objects === 1200, { what: 'B caught up after restart' })
    expect(pulled).toBe(1000)
    const checkpoint = await agentInternals(b).store.getCheckpoint(A!.peerId)
    expect(checkpoint!.pulled).toBe(1200)
    expect(checkpoint!.seq).toBe(a.status().feedHead)
  })

  it('a remote whose store was rebuilt (new epoch) is pulled again from zero', async () => {
    const { 'lab-a': A, 'lab-b': B } = nodes as Record<string, TestNode>
    const aConfig = meshConfig(A!, [{ node: B! }])
    let a = await run(startAgent(aConfig))
    const b = await run(startAgent(meshConfig(B!, [{ node: A!, pull: true }])))
    await a.documents.putMany(Array.from({ length: 50 }, (_, i) => ({ uid: `x-${i}`, type: 'Client', id: `c-${i}`, data: { i } })))
    await waitFor(() => b.status().objects === 50)
    const oldEpoch = a.status().epoch
    await a.stop()
    agents.delete(a)
    await removeDir(aConfig.paths.storeDir)
    a = await run(startAgent(aConfig))
    expect(a.status().epoch).not.toBe(oldEpoch)
    // the new feed has 3 objects: seq 1..3, which a stale checkpoint (seq 50) would skip
    await a.documents.putMany(Array.from({ length: 3 }, (_, i) => ({ uid: `y-${i}`, type: 'Client', id: `n-${i}`, data: { i } })))
    await waitFor(() => b.status().objects === 53, { what: 'B pulled the rebuilt feed from zero' })
    expect((await agentInternals(b).store.getCheckpoint(A!.peerId))!.epoch).toBe(a.status().epoch)
  })

  it('a change of the remote\'s serve rules for us restarts the pull from zero', async () => {
    const { 'lab-a': A, 'lab-b': B } = nodes as Record<string, TestNode>
    let a = await run(startAgent(meshConfig(A!, [{ node: B!, extra: { serve: { types: { skip: ['Client'] } } } }])))
    const b = await run(startAgent(meshConfig(B!, [{ node: A!, pull: true }])))
    await a.documents.putMany([
      { uid: 'client-1', type: 'Client', id: 'client-1', data: {} },
      { uid: 'method-1', type: 'Method', id: 'method-1', data: {} }
    ])
    await waitFor(async () => await b.documents.get('method-1'), { what: 'method on B' })
    expect(await b.documents.get('client-1')).toBeUndefined()
    await a.stop()
    agents.delete(a)
    a = await run(startAgent(meshConfig(A!, [{ node: B! }])))
    await waitFor(async () => await b.documents.get('client-1'), { what: 'client on B once A serves it' })
  })
})
