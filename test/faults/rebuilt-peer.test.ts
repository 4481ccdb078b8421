/**
 * A lab rebuilds its agent's store (a disk died; a new epoch) and pulls
 * everything back from its remote — including the records that once came
 * from itself, which are exactly the ones it lost. Found by the crash
 * harness: once the remote had pulled anything from the rebuilt store, its
 * serve sessions skipped every version it had once pulled from that peer,
 * so a rebuilt agent that reconnected mid-pull never got them back.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTestMesh } from '../helpers/lifecycle.js'
import { clientDocs } from '../helpers/documents.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'

describe('a peer whose store was rebuilt', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-rebuilt-' })

  it('gets back from its remote the versions that once came from it, even after the remote pulled from the new store', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: B, pull: true }]))
    let b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await b.documents.putMany(clientDocs(30, 'b', 'B'))
    await a.documents.putMany([{ uid: 'a-0', type: 'Client', id: 'A-0', data: {} }])
    await waitFor(() => a.status().objects === 31 && b.status().objects === 31, { what: 'both hold everything' })

    // B's store is lost; B comes back empty, at first only serving (it does not pull yet)
    await mesh.stop(b)
    await rm(join(B.dir, 'data', 'store'), { recursive: true })
    b = await mesh.start(meshConfig(B, [{ node: A }]))
    await b.documents.putMany([{ uid: 'b-new', type: 'Client', id: 'B-new', data: {} }])
    await waitFor(async () => await a.documents.get('b-new'), { what: 'A pulled from the rebuilt B (its checkpoint now has B\'s new epoch)' })

    // now B pulls from A: it must get its own old records back, not only A's
    await mesh.stop(b)
    b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await waitFor(() => b.peerStatus('lab-a').progress.percent === 100, { what: 'B caught up with A' })
    const held = (await b.documents.list({ limit: 100 })).items.map((o) => o.uid).sort()
    expect(held).toEqual(['a-0', ...Array.from({ length: 30 }, (_, i) => `b-${i}`), 'b-new'].sort())
  })
})
