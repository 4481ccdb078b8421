/**
 * No one gets in: with a private-network key configured, a peer without it
 * never completes a connection (even with an allowed peer ID), and a peer
 * with the key but an unknown ID is still refused by the gater; an allowed
 * peer that asks, by pull or by get, for what its serve rules exclude gets
 * none of it — not even as a conflict sibling of an object it may see.
 */
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { agentInternals } from '../../agent/test-hooks.js'
import type { AgentEvent } from '../../agent/observe/events.js'
import { createSwarmKey, loadIdentityKey, loadSwarmKey } from '../../agent/net/identity.js'
import { PROTOCOL_ID } from '../../protocol/constants.js'
import type { WireObject } from '../../protocol/object.js'
import { versionsOf } from '../../protocol/object.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor, type TestNode } from '../helpers/nodes.js'
import { createRawPeer, type RawPeer } from '../helpers/raw-peer.js'
import { withOfflineStore } from '../helpers/store-audit.js'
import { frameReader, getAll, handshake, pullAll } from '../helpers/wire-client.js'

describe('authentication', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c', 'lab-d'], { prefix: 'labmesh-auth-' })
  const raws: RawPeer[] = []

  afterEach(async () => {
    for (const r of raws.splice(0)) await r.stop()
  })

  const keyOf = async (node: TestNode) => await loadIdentityKey(join(node.dir, 'data', 'identity.key'))
  const raw = async (key: Parameters<typeof createRawPeer>[0], psk?: Uint8Array): Promise<RawPeer> => {
    const peer = await createRawPeer(key, psk !== undefined ? { psk } : {})
    raws.push(peer)
    return peer
  }
  /** Dial `node` on the sync protocol with a deadline; resolves with what happened. */
  const tryDial = async (peer: RawPeer, node: TestNode, ms = 3000): Promise<'stream' | 'refused'> => {
    try {
      const stream = await peer.node.dialProtocol(multiaddr(`${node.addr}/p2p/${node.peerId}`), PROTOCOL_ID, { signal: AbortSignal.timeout(ms) })
      // a dial that "completes" on our side must still get no session: no hello comes back
      const reader = frameReader(stream)
      stream.send(new Uint8Array([2, 0x7b, 0x7d]))
      const answer = await reader.next(1500)
      return answer === undefined ? 'refused' : 'stream'
    } catch {
      return 'refused'
    }
  }

  it('with a private-network key: a peer without the key never connects, even with an allowed peer ID; a stranger with the key is refused by the gater', async () => {
    const [A, B, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c')]
    await createSwarmKey(join(mesh.root, 'swarm.key'))
    await createSwarmKey(join(mesh.root, 'other.key'))
    const psk = await loadSwarmKey(join(mesh.root, 'swarm.key'))
    const wrong = await loadSwarmKey(join(mesh.root, 'other.key'))
    const meshKey = { privateNetwork: { pskFile: join(mesh.root, 'swarm.key') } }
    const captured = capturingLogger('lab-a')
    const a = await mesh.start(meshConfig(A, [{ node: B }, { node: C, pull: true }], meshKey), { logger: captured.logger })
    const connectedOnA: string[] = []
    a.subscribe((e: AgentEvent) => { if (e.type === 'peer' && e.connected) connectedOnA.push(e.peer) })
    await a.documents.putMany([{ uid: 'rec-1', type: 'Client', id: 'c-1', data: { name: 'only inside the mesh' } }])

    // B holds the key and is listed: it replicates (the key is right, so the refusals below mean something)
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }], meshKey))
    await waitFor(async () => await b.documents.get('rec-1'), { what: 'B, inside the private network, replicates' })

    // C is listed on A (A even pulls from it) but holds another key: no connection, either way
    const c = await mesh.start(meshConfig(C, [{ node: A, pull: true }], { privateNetwork: { pskFile: join(mesh.root, 'other.key') } }))
    const connectedOnC: string[] = []
    c.subscribe((e: AgentEvent) => { if (e.type === 'peer' && e.connected) connectedOnC.push(e.peer) })

    // raw dials with C's allowed identity, with the wrong key and with no key at all
    expect(await tryDial(await raw(await keyOf(C), wrong), A)).toBe('refused')
    expect(await tryDial(await raw(await keyOf(C)), A)).toBe('refused')
    // a stranger that holds the right key passes the protector but not the gater
    const stranger = await generateKeyPair('Ed25519')
    expect(await tryDial(await raw(stranger, psk), A)).toBe('refused')
    await waitFor(() => captured.lines.some((l) => l.direction === 'inbound' && l.peerId === peerIdFromPrivateKey(stranger).toString()), { what: 'the stranger refused and logged' })

    // both agents tried and failed; neither ever saw the other connected
    await waitFor(() => c.peerStatus('lab-a').lastError !== undefined, { what: 'C reports it cannot reach A', timeout: 20_000 })
    await waitFor(() => a.peerStatus('lab-c').lastError !== undefined, { what: 'A reports it cannot reach C', timeout: 20_000 })
    expect(connectedOnA).not.toContain('lab-c')
    expect(connectedOnC).toEqual([])
    expect(c.peerStatus('lab-a')).toMatchObject({ connected: false, sessionOpen: false, pulled: 0, remoteHead: 0 })
    expect(a.peerStatus('lab-c')).toMatchObject({ connected: false, served: 0 })
    expect(await c.documents.get('rec-1')).toBeUndefined()
    expect(captured.lines.some((l) => l.peer === 'lab-c' && l.side === 'serve')).toBe(false)
    // the control: the same identity with the right key does reach a session
    expect(await tryDial(await raw(await keyOf(C), psk), A)).toBe('stream')
  }, 40_000)

  it('an allowed peer gets nothing its serve rules exclude, by pull, by get, or as a conflict sibling', async () => {
    const [A, B, C, D] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c'), mesh.node('lab-d')]
    // D wrote "shared" as a Method while A wrote it as a Client: A will hold both, concurrently
    await withOfflineStore(D.dir, 'lab-d', async (store) => {
      const { writeDocuments: write } = await import('../../agent/apply/local-writes.js')
      await write({ store, domain: 'lab-d', now: Date.now, rules: [] }, [{ uid: 'shared', type: 'Method', id: 'm-shared', data: { secret: 'method text' } }])
    })
    const a = await mesh.start(meshConfig(A, [
      { node: B, extra: { serve: { types: { only: ['Client'] }, users: false, registry: false, settings: false } } },
      { node: C, extra: { serve: { types: { skip: ['Method', 'AnalysisRequest'] } } } },
      { node: D, pull: true }
    ]))
    await a.documents.putMany([
      { uid: 'client-1', type: 'Client', id: 'c-1', data: {} },
      { uid: 'client-2', type: 'Client', id: 'c-2', refs: ['method-1'], data: {} },
      { uid: 'method-1', type: 'Method', id: 'm-1', data: { secret: 'ICP-MS' } },
      { uid: 'sample-1', type: 'AnalysisRequest', id: 'W-1', parent: 'client-1', data: {} },
      { uid: 'user-1', type: '@user', id: 'labman', data: { roles: ['LabManager'] } },
      { uid: 'reg-1', type: '@registry', id: 'senaite.core.x', data: { value: 1 } },
      { uid: 'settings-1', type: '@settings', id: 'mail', data: { smtp: 'localhost' } },
      { uid: 'shared', type: 'Client', id: 'c-shared', data: { name: 'client text' } }
    ])
    await mesh.start(meshConfig(D, [{ node: A }]))
    await waitFor(async () => ((await a.documents.get('shared'))?.conflicts.length ?? 0) > 0, { what: 'A holds the Client/Method conflict' })
    const everything = ['client-1', 'client-2', 'method-1', 'sample-1', 'user-1', 'reg-1', 'settings-1', 'shared', 'not-there']

    const seenBy = async (node: TestNode): Promise<{ pulled: WireObject[], got: WireObject[], missing: string[] }> => {
      const peer = await raw(await keyOf(node))
      const stream = await peer.open(A.addr, A.peerId)
      const reader = frameReader(stream)
      await handshake(stream, reader, node.domain)
      const pulled = await pullAll(stream, reader)
      const { objects: got, missing } = await getAll(stream, reader, everything)
      await stream.close()
      return { pulled, got, missing }
    }
    const typesIn = (objects: WireObject[]): string[] => [...new Set(objects.flatMap((o) => versionsOf(o).map((v) => v.type)))].sort()

    const toB = await seenBy(B)
    expect(typesIn(toB.pulled)).toEqual(['Client'])
    expect(typesIn(toB.got)).toEqual(['Client'])
    expect(toB.got.map((o) => o.uid).sort()).toEqual(['client-1', 'client-2', 'shared'])
    expect(toB.missing.sort()).toEqual(['method-1', 'not-there', 'reg-1', 'sample-1', 'settings-1', 'user-1'])
    expect(JSON.stringify([toB.pulled, toB.got])).not.toContain('method text')

    const toC = await seenBy(C)
    expect(typesIn(toC.pulled)).toEqual(['@registry', '@settings', '@user', 'Client'])
    expect(toC.missing.sort()).toEqual(['method-1', 'not-there', 'sample-1'])
    expect(JSON.stringify([toC.pulled, toC.got])).not.toContain('ICP-MS')
    expect(JSON.stringify([toC.pulled, toC.got])).not.toContain('method text')

    // a real agent with B's rules ends with the Clients only; the Client that needs the
    // Method waits in its failed queue instead of being written without it
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true, extra: { import: { users: true, registry: true, settings: true } } }]))
    await waitFor(async () => (await agentInternals(b).store.getFailed('client-2')) !== undefined && (await b.documents.get('shared')) !== undefined, { what: 'B pulled what it may' })
    expect((await b.documents.list({ limit: 100 })).items.map((o) => `${o.uid}:${o.type}`).sort()).toEqual(['client-1:Client', 'shared:Client'])
    expect((await b.documents.get('shared'))!.conflicts).toEqual([])
  })
})
