/**
 * Signed provenance between real agents (libp2p on 127.0.0.1, LevelDB):
 * - a hub that alters a lab's version in transit, or re-signs it as the lab
 *   or as itself: the receiver parks it as BAD_SIGNATURE, keeps what it had,
 *   logs and shows the relaying peer, and notes the refusal in the history;
 * - a version from a store older than signing is accepted, marked unsigned;
 * - signatures survive the prefix rules of SENAITE.SYNC's advanced example 1
 *   through the prefixed master, to an agent two hops away.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeDocuments } from '../../agent/apply/local-writes.js'
import { loadIdentityKey } from '../../agent/net/identity.js'
import { validateConfig } from '../../config/load.js'
import type { WireObject } from '../../protocol/object.js'
import { contentHash, createVersionSigner, signVersions } from '../../protocol/provenance.js'
import { createLevelStore } from '../../store/level-store.js'
import { instantiateExample } from '../helpers/examples.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'
import { createRelayPeer } from '../helpers/relay-peer.js'

describe('signed provenance', () => {
  const mesh = useTestMesh(['lab-a', 'hub', 'lab-b'])

  it('a hub that changes a version in transit, or re-signs it, is caught: parked as BAD_SIGNATURE, the previous version kept, the relay shown', async () => {
    const [A, H, B] = [mesh.node('lab-a'), mesh.node('hub'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: H }]))
    const hubKey = await loadIdentityKey(join(H.dir, 'data', 'identity.key'))
    const relay = await createRelayPeer(hubKey, 'hub')
    try {
      await a.documents.put({ uid: 'an-1', type: 'Analysis', id: 'Ca', data: { result: '5.1', unit: 'mg/l' } })
      relay.publish(...await relay.pullFrom(A.addr, A.peerId))
      const captured = capturingLogger('lab-b')
      const b = await mesh.start(meshConfig(B, [{ node: { ...H, addr: relay.addr }, pull: true }]), { logger: captured.logger })
      await waitFor(async () => (await b.documents.get('an-1'))?.data.result === '5.1', { what: 'the genuine first version on B' })

      // A corrects the result; the hub relays it with its own figure in place
      await a.documents.put({ uid: 'an-1', type: 'Analysis', id: 'Ca', data: { result: '5.3', unit: 'mg/l' } })
      await a.documents.put({ uid: 'an-2', type: 'Analysis', id: 'Cb', data: { result: '1.0' } })
      await a.documents.put({ uid: 'an-3', type: 'Analysis', id: 'Cc', data: { result: '2.0' } })
      const fresh = await relay.pullFrom(A.addr, A.peerId)
      const of = (uid: string): WireObject => fresh.find((o) => o.uid === uid)!
      const hubSigner = createVersionSigner('hub', H.peerId, hubKey.raw)
      const hubAsLab = createVersionSigner('lab-a', H.peerId, hubKey.raw)
      const resign = (w: WireObject, signer: typeof hubSigner): WireObject => {
        const [sig] = signVersions(signer, [w], [contentHash(w, w.id).h])
        return { ...w, sig: sig! }
      }
      relay.publish(
        { ...of('an-1'), data: { ...of('an-1').data, result: '9.9' } }, // altered, the lab's signature kept
        resign({ ...of('an-2'), data: { result: '7.0' } }, hubAsLab), // re-signed with the hub's key, claiming to be lab-a
        resign({ ...of('an-3'), data: { result: '8.0' } }, hubSigner) // re-signed as the hub, on lab-a's vector
      )
      await b.syncNow('hub')
      await waitFor(() => b.status().failed === 3, { what: 'three versions parked on B' })

      const parked = await b.failed.list({ limit: 10 })
      expect(parked.map((f) => [f.uid, f.peer, f.code])).toEqual([['an-1', 'hub', 'BAD_SIGNATURE'], ['an-2', 'hub', 'BAD_SIGNATURE'], ['an-3', 'hub', 'BAD_SIGNATURE']])
      expect(parked[0]!.reason).toMatch(/does not hash to what its signer lab-a signed/)
      expect(parked[1]!.reason).toMatch(new RegExp(`signed as lab-a by peer ${H.peerId}, which is hub`))
      expect(parked[2]!.reason).toMatch(/its signer hub has no entry in its vector/)
      // B kept its previous version, and holds nothing the hub forged
      expect((await b.documents.get('an-1'))?.data).toEqual({ result: '5.1', unit: 'mg/l' })
      expect(await b.documents.get('an-2')).toBeUndefined()
      // status and log name the relay
      expect(b.peerStatus('hub')).toMatchObject({ badSignatures: 3, failed: 3 })
      const warned = captured.lines.filter((l) => l.level === 40 && l.peer === 'hub' && typeof l.msg === 'string' && (l.msg).startsWith('refused a version of'))
      expect(warned.map((l) => l.uid)).toEqual(['an-1', 'an-2', 'an-3'])
      // the history shows the genuine version and the refused one, with what the hub changed
      const history = (await b.documents.history('an-1'))!
      expect(history.entries.map((e) => [e.event, e.via, e.origin, e.signature, e.changed])).toEqual([
        ['version', 'hub', 'lab-a', 'valid', null],
        ['rejected', 'hub', 'lab-a', 'bad', ['data.result']]
      ])
      expect(history.current).toMatchObject({ signature: 'valid', vector: { 'lab-a': 1 } })

      // the genuine versions, relayed unaltered, are taken, and the parked entries clear
      relay.publish(of('an-1'), of('an-2'), of('an-3'))
      await b.syncNow('hub')
      await waitFor(() => b.status().failed === 0, { what: 'B applies the genuine versions' })
      expect((await b.documents.get('an-1'))?.data.result).toBe('5.3')
      expect((await b.documents.get('an-2'))?.sig).toMatchObject({ by: 'lab-a', peer: A.peerId })
    } finally {
      await relay.stop()
    }
  })

  it('a version from a store older than signing is accepted and marked unsigned; the next edit is signed', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const aConfig = meshConfig(A, [{ node: B }])
    // A's store as an agent before signed provenance and history left it
    const old = createLevelStore({ location: aConfig.paths.storeDir, domain: 'lab-a', upgradeSteps: [], historyVersions: 0 })
    await old.open()
    await writeDocuments({ store: old, domain: 'lab-a', now: Date.now, rules: [] }, [{ uid: 'c-1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills' } }])
    await old.close()

    const a = await mesh.start(aConfig)
    expect((await a.documents.history('c-1'))?.entries).toMatchObject([{ event: 'seeded', signature: 'unsigned', appliedAt: null }])
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await waitFor(async () => await b.documents.get('c-1'), { what: 'the unsigned version on B' })
    expect(b.status().failed).toBe(0)
    expect(b.peerStatus('lab-a').unsigned).toBe(1)
    expect((await b.documents.history('c-1'))).toMatchObject({ current: { signature: 'unsigned' }, entries: [{ event: 'version', signature: 'unsigned', origin: 'lab-a', peerId: null, via: 'lab-a' }] })

    await a.documents.put({ uid: 'c-1', type: 'Client', id: 'client-1', data: { name: 'Happy Hills Ltd' } })
    await waitFor(async () => (await b.documents.get('c-1'))?.data.name === 'Happy Hills Ltd', { what: 'the signed edit on B' })
    expect((await b.documents.history('c-1'))?.entries.map((e) => [e.signature, e.peerId, e.changed])).toEqual([['unsigned', null, null], ['valid', A.peerId, ['data.name']]])
  })
})

describe('signatures through a prefixed hub (advanced example 1)', () => {
  const frame = useTestMesh(['backup'])

  it('verify end to end: ids rewritten by prefix and localPrefix rules, the signed id kept beside them', async () => {
    const { configs, nodes } = await instantiateExample('advanced-1', frame.root)
    // an agent two hops from lab-a that takes everything from the master as it is there
    const backup = frame.node('backup')
    const asPeer = validateConfig({ domain: 'x', peers: [{ name: 'backup', peerId: backup.peerId }] }).peers[0]!
    const master = { ...configs.master!, peers: [...configs.master!.peers, asPeer] }
    const m = await frame.start(master)
    const a = await frame.start(configs['lab-a']!)
    const bk = await frame.start(meshConfig(backup, [{ node: nodes.master!, pull: true }]))
    await a.documents.putMany([
      { uid: 'client-a', type: 'Client', id: 'client-1', data: { name: 'Happy Hills' } },
      { uid: 'sample-a', type: 'AnalysisRequest', id: 'S-0001', parent: 'client-a', data: { state: 'sample_received' } },
      { uid: 'analysis-a', type: 'Analysis', id: 'Ca', parent: 'sample-a', data: { result: null } }
    ])
    await waitFor(async () => await bk.documents.get('analysis-a'), { what: 'lab-a\'s analysis on the backup, through the master' })
    for (const agent of [m, bk]) {
      const sample = (await agent.documents.get('sample-a'))!
      expect(sample.id).toBe('A-S-0001')
      expect(sample.sig).toMatchObject({ by: 'lab-a', peer: nodes['lab-a']!.peerId, id: 'S-0001' })
    }
    // the master reports a result under the id it shows (A-Ca); lab-a gets it back stripped to its own
    await m.documents.put({ uid: 'analysis-a', type: 'Analysis', id: 'A-Ca', parent: 'sample-a', data: { result: 42 } })
    await waitFor(async () => (await a.documents.get('analysis-a'))?.data.result === 42, { what: 'the result back at lab-a' })
    await waitFor(async () => (await bk.documents.get('analysis-a'))?.data.result === 42, { what: 'the result on the backup' })
    const back = (await a.documents.get('analysis-a'))!
    expect(back.id).toBe('Ca')
    expect(back.sig).toMatchObject({ by: 'master', id: 'A-Ca' })
    expect((await bk.documents.get('analysis-a'))!.sig).toMatchObject({ by: 'master' })
    expect((await bk.documents.get('analysis-a'))!.sig?.id).toBeUndefined()
    for (const agent of [m, a, bk]) {
      expect(agent.status().failed, `${agent.status().domain} parked nothing`).toBe(0)
      for (const p of agent.status().peers) expect(p.badSignatures, `${agent.status().domain} ← ${p.name}`).toBe(0)
    }
    expect((await a.documents.history('analysis-a'))?.entries.map((e) => [e.event, e.origin, e.via, e.signature, e.id, e.signedId])).toEqual([
      ['version', 'lab-a', null, 'valid', 'Ca', undefined],
      ['version', 'master', 'master', 'valid', 'Ca', 'A-Ca']
    ])
  })
})
