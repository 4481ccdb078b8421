import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as lp from 'it-length-prefixed'
import { afterEach, describe, expect, it } from 'vitest'
import { agentInternals } from '../../agent/test-hooks.js'
import { loadIdentityKey } from '../../agent/net/identity.js'
import { encodeFrame } from '../../protocol/codec.js'
import { PROTOCOL_VERSION } from '../../protocol/constants.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { clientDocs } from '../helpers/documents.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'
import { createRawPeer, drain } from '../helpers/raw-peer.js'
import { join } from 'node:path'

describe('admission and hostile input', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c'])
  const cleanups: Array<() => Promise<void>> = []

  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })

  it('refuses a peer ID not in the config, inbound and outbound, and logs the refusal', async () => {
    const [A, B, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c')]
    const captured = capturingLogger('lab-a')
    const stranger = await generateKeyPair('Ed25519')
    const strangerId = peerIdFromPrivateKey(stranger).toString()
    // A lists B only; and an entry "lab-x" whose address is C's but whose peerId is someone else's
    const a = await mesh.start(meshConfig(A, [
      { node: B, pull: true },
      { node: { ...C, peerId: strangerId, domain: 'lab-x' }, pull: true }
    ]), { logger: captured.logger })
    // C lists A and pulls from it, but A does not list C
    const c = await mesh.start(meshConfig(C, [{ node: A, pull: true }]))
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await a.documents.put({ uid: 'secret', type: 'Client', id: 'c-1', data: { name: 'only for B' } })
    await waitFor(async () => await b.documents.get('secret'), { what: 'B, which is listed, gets it' })

    // inbound: C dialled A and was refused after the Noise handshake proved its ID
    await waitFor(() => captured.lines.some((l) => l.direction === 'inbound' && l.peerId === C.peerId && String(l.msg).includes('not listed')), { what: 'inbound refusal logged' })
    // outbound: A reached C's address expecting "lab-x" and refused the identity it found there
    // (Noise proves the identity during the handshake and refuses the mismatch)
    await waitFor(() => captured.lines.some((l) => l.peer === 'lab-x' && String(l.err).includes('does not match expected remote identity')), { what: 'outbound refusal logged' })
    expect(await c.documents.get('secret')).toBeUndefined()
    expect(a.peerStatus('lab-x')).toMatchObject({ connected: false, sessionOpen: false, pulled: 0 })
    // C's dial may complete on its own side before A's refusal resets it, but no session
    // ever starts: no hello, nothing pulled, and an error to show for it
    const fromC = c.peerStatus('lab-a')
    expect(fromC).toMatchObject({ pulled: 0, remoteHead: 0 })
    expect(fromC.lastError).toBeDefined()

    // and a bare node with an unknown key gets no session: the dial may complete on its
    // side before A's refusal lands, but A resets the connection and never answers
    const unknownKey = await generateKeyPair('Ed25519')
    const unknownId = peerIdFromPrivateKey(unknownKey).toString()
    const raw = await createRawPeer(unknownKey)
    cleanups.push(async () => await raw.stop())
    const stream = await raw.open(A.addr, A.peerId).catch(() => undefined)
    if (stream !== undefined) {
      stream.send(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, domain: 'lab-z', head: 0, count: 0, epoch: 'e' }))
      const result = await drain(stream)
      expect(result).toEqual({ bytes: 0, closed: true })
    }
    await waitFor(() => captured.lines.some((l) => l.direction === 'inbound' && l.peerId === unknownId), { what: 'unknown peer refusal logged' })
  })

  it('closes the stream of a peer that sends a malformed or oversized message; the agent, its store and other sessions carry on', async () => {
    const [A, B, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c')]
    const captured = capturingLogger('lab-a')
    const a = await mesh.start(meshConfig(A, [{ node: B }, { node: C }]), { logger: captured.logger })
    const c = await mesh.start(meshConfig(C, [{ node: A, pull: true }]))
    await a.documents.putMany(clientDocs(20))
    await waitFor(() => c.status().objects === 20)
    const digest = async (): Promise<string> => JSON.stringify([agentInternals(a).store.info(), (await a.documents.list({ limit: 1000 })).items])
    const before = await digest()

    // B is allowed, so its key gets through the gater: the session code must defend itself
    const raw = await createRawPeer(await loadIdentityKey(join(B.dir, 'data', 'identity.key')))
    cleanups.push(async () => await raw.stop())

    const attacks: Array<[string, Uint8Array[]]> = [
      ['garbage bytes', [lp.encode.single(Buffer.from('this is not json')).subarray()]],
      ['valid JSON, wrong shape', [encodeFrame({ type: 'pull', v: PROTOCOL_VERSION, id: 1, since: -5, limit: 10 } as never)]],
      ['pull before hello', [encodeFrame({ type: 'pull', v: PROTOCOL_VERSION, id: 1, since: 0, limit: 10 })]],
      ['oversized frame', [Uint8Array.from([0xff, 0xff, 0xff, 0x7f])]],
      ['hostile batch from a client', [
        encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, domain: 'lab-b', head: 0, count: 0, epoch: 'e' }),
        encodeFrame({ type: 'batch', v: PROTOCOL_VERSION, id: 1, changes: [], lastSeq: 1, last: true, more: false, remaining: 0 })
      ]],
      ['wrong protocol version', [encodeFrame({ type: 'hello', v: 99, domain: 'lab-b', head: 0, count: 0, epoch: 'e' } as never)]]
    ]
    for (const [name, frames] of attacks) {
      const stream = await raw.open(A.addr, A.peerId)
      for (const f of frames) stream.send(f)
      const result = await drain(stream)
      expect(result.closed, name).toBe(true)
    }
    const warnings = captured.lines.filter((l) => String(l.msg).includes('bad message from peer'))
    expect(warnings.length).toBeGreaterThanOrEqual(attacks.length - 1)
    expect(warnings.some((w) => String(w.err).includes('exceeds'))).toBe(true)

    expect(await digest()).toBe(before)
    // the agent still serves others
    await a.documents.put({ uid: 'after-attack', type: 'Client', id: 'z', data: {} })
    await waitFor(async () => await c.documents.get('after-attack'), { what: 'C still served after the attacks' })
    expect(a.state).toBe('started')
  })
})
