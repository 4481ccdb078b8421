import { describe, expect, it } from 'vitest'
import { useTestMesh } from '../helpers/lifecycle.js'
import { waitFor } from '../helpers/nodes.js'

describe('two agents over libp2p', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])

  it('replicates creates, edits and deletes A → B, and B → A', async () => {
    const { a, b } = await mesh.startPair({ mutual: true })

    await a.documents.put({ uid: 'u1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills' } })
    const onB = await waitFor(async () => await b.documents.get('u1'), { what: 'u1 on B' })
    expect(onB.data).toEqual({ name: 'Happy Hills' })
    expect(onB.vector).toEqual({ 'lab-a': 1 })
    expect(onB.origin).toBe('lab-a')

    await a.documents.put({ uid: 'u1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills Ltd' } })
    await waitFor(async () => (await b.documents.get('u1'))?.data.name === 'Happy Hills Ltd', { what: 'edit on B' })

    await a.documents.delete('u1')
    const tomb = await waitFor(async () => { const o = await b.documents.get('u1'); return o?.deleted === true ? o : undefined }, { what: 'tombstone on B' })
    expect(tomb.vector).toEqual({ 'lab-a': 3 })

    await b.documents.put({ uid: 'u2', type: 'SampleType', id: 'W', data: { prefix: 'W' } })
    const onA = await waitFor(async () => await a.documents.get('u2'), { what: 'u2 on A' })
    expect(onA.origin).toBe('lab-b')
    // nothing ping-pongs back: once settled, neither feed grows any more
    await new Promise((r) => setTimeout(r, 200))
    const heads = [a.status().feedHead, b.status().feedHead]
    await new Promise((r) => setTimeout(r, 400))
    expect([a.status().feedHead, b.status().feedHead]).toEqual(heads)
    expect(a.status().objects).toBe(2)
    expect(b.status().objects).toBe(2)
  })
})
