import { describe, expect, it } from 'vitest'
import { agentInternals } from '../../agent/test-hooks.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { clientDocs } from '../helpers/documents.js'
import { meshConfig, removeDir, waitFor } from '../helpers/nodes.js'

describe('relay and resume', () => {
  const mesh = useTestMesh(['lab-a', 'master', 'lab-b'])

  it('a change on A reaches B through M, with no loop and no duplicate feed entries', async () => {
    const [A, M, B] = [mesh.node('lab-a'), mesh.node('master'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true }]))
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true }, { node: B, pull: true }]))
    const b = await mesh.start(meshConfig(B, [{ node: M, pull: true }]))

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
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    const bConfig = meshConfig(B, [{ node: A, pull: true }])
    let b = await mesh.start(bConfig)

    await a.documents.putMany(clientDocs(200, 'before', 'c'))
    await waitFor(() => b.status().objects === 200, { what: 'first 200 on B' })
    await mesh.stop(b)

    await a.documents.putMany(clientDocs(1000, 'after', 'd'))

    let pulled = 0
    b = await mesh.start(bConfig, { events: { onBatchApplied: (_peer, stats) => { pulled += stats.received } } })
    await waitFor(() => b.status().objects === 1200, { what: 'B caught up after restart' })
    expect(pulled).toBe(1000)
    const checkpoint = await agentInternals(b).store.getCheckpoint(A.peerId)
    expect(checkpoint!.pulled).toBe(1200)
    expect(checkpoint!.seq).toBe(a.status().feedHead)
  })

  it('a remote whose store was rebuilt (new epoch) is pulled again from zero', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const aConfig = meshConfig(A, [{ node: B }])
    let a = await mesh.start(aConfig)
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await a.documents.putMany(clientDocs(50, 'x', 'c'))
    await waitFor(() => b.status().objects === 50)
    const oldEpoch = a.status().epoch
    await mesh.stop(a)
    await removeDir(aConfig.paths.storeDir)
    a = await mesh.start(aConfig)
    expect(a.status().epoch).not.toBe(oldEpoch)
    // the new feed has 3 objects: seq 1..3, which a stale checkpoint (seq 50) would skip
    await a.documents.putMany(clientDocs(3, 'y', 'n'))
    await waitFor(() => b.status().objects === 53, { what: 'B pulled the rebuilt feed from zero' })
    expect((await agentInternals(b).store.getCheckpoint(A.peerId))!.epoch).toBe(a.status().epoch)
  })

  it('a change of the remote\'s serve rules for us restarts the pull from zero', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    let a = await mesh.start(meshConfig(A, [{ node: B, extra: { serve: { types: { skip: ['Client'] } } } }]))
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await a.documents.putMany([
      { uid: 'client-1', type: 'Client', id: 'client-1', data: {} },
      { uid: 'method-1', type: 'Method', id: 'method-1', data: {} }
    ])
    await waitFor(async () => await b.documents.get('method-1'), { what: 'method on B' })
    expect(await b.documents.get('client-1')).toBeUndefined()
    await mesh.stop(a)
    a = await mesh.start(meshConfig(A, [{ node: B }]))
    await waitFor(async () => await b.documents.get('client-1'), { what: 'client on B once A serves it' })
  })
})
