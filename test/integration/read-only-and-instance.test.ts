import { describe, expect, it } from 'vitest'
import { createMemoryConnector } from '../../agent/connectors/memory.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'

describe('an instance the agent cannot refuse (memory connector)', () => {
  const mesh = useTestMesh(['master', 'lab-a'])

  it('reverts and reports an edit of a read-only object, never sends it out; echoes of remote writes are not edits', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const m = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    const instance = createMemoryConnector()
    const captured = capturingLogger('lab-a')
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true, extra: { types: { readOnly: ['Method'] } } }]), { connector: instance, logger: captured.logger })

    await m.documents.put({ uid: 'method-1', type: 'Method', id: 'method-1', data: { title: 'ICP-MS' } })
    await m.documents.put({ uid: 'client-1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills' } })
    await waitFor(() => instance.get('method-1') !== undefined && instance.get('client-1') !== undefined, { what: 'written into the instance' })
    // the instance is written before the store commits: the import counts once it is in the store too
    await waitFor(async () => (await a.documents.get('method-1')) !== undefined && (await a.documents.get('client-1')) !== undefined, { what: 'committed on lab-a' })
    const headAfterImport = a.status().feedHead
    // the agent's own writes come back on the next poll: they are echoes, not edits
    expect(await instance.poll()).toBe(0)
    expect(a.status().feedHead).toBe(headAfterImport)

    // someone edits the read-only method directly in the instance
    instance.edit({ ...instance.get('method-1')!, data: { title: 'edited in the lab' } })
    expect(await instance.poll()).toBe(0)
    expect(instance.get('method-1')!.data).toEqual({ title: 'ICP-MS' }) // reverted to the peer's version
    expect(a.status().readOnlyReverts).toBe(1)
    expect(captured.lines.some((l) => l.uid === 'method-1' && String(l.msg).includes('reverted'))).toBe(true)
    expect(a.status().feedHead).toBe(headAfterImport) // never entered the feed

    // an ordinary edit is recorded and replicates
    instance.edit({ ...instance.get('client-1')!, data: { name: 'Happy Hills Ltd' } })
    expect(await instance.poll()).toBe(1)
    await waitFor(async () => (await m.documents.get('client-1'))?.data.name === 'Happy Hills Ltd', { what: 'client edit on the master' })
    expect((await m.documents.get('method-1'))!.data).toEqual({ title: 'ICP-MS' })
    expect((await m.documents.get('method-1'))!.vector).toEqual({ master: 1 })
  })
})
