/**
 * Signed provenance, the pure part (protocol/provenance.ts, canonical.ts):
 * canonical JSON, content hashes, Merkle audit paths for every group size,
 * signatures that verify under the signer's peer ID and fail after any
 * change a relay could make.
 */
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { canonicalJson, canonicalText, canonicalize, inCanonicalOrder } from '../../protocol/canonical.js'
import {
  auditPath, contentHash, createVersionSigner, decodePath, leafHash, merkleRoot, merkleTree, publicKeyOfPeer, rootFromPath,
  signVersions, verifyGroupSignature, type VersionSigner
} from '../../protocol/provenance.js'
import type { ObjectVersion } from '../../protocol/object.js'
import { SIGN_GROUP_MAX } from '../../protocol/constants.js'
import { createProvenanceChecker } from '../../agent/apply/provenance.js'

async function signer (domain: string): Promise<VersionSigner> {
  const key = await generateKeyPair('Ed25519')
  return createVersionSigner(domain, peerIdFromPrivateKey(key).toString(), key.raw)
}

const version = (n: number, extra: Partial<ObjectVersion> = {}): ObjectVersion => ({
  uid: `u-${n}`, type: 'Sample', id: `S-${n}`, parent: null, refs: [], data: { a: n, b: { c: [1, { d: 'x' }] } },
  vector: { 'lab-a': n + 1, hub: 2 }, origin: 'lab-a', deleted: false, at: 1000 + n, ...extra
})

/** whether `v`'s signature verifies: its content hash, path and group signature */
async function verifies (v: ObjectVersion): Promise<boolean> {
  const sig = v.sig!
  const { h } = contentHash(v, sig.id ?? v.id)
  if (h !== sig.h) return false
  const path = decodePath(sig.p)
  if (path === undefined) return false
  const root = rootFromPath(leafHash(v, h), sig.i ?? 0, sig.n ?? 1, path)
  const key = publicKeyOfPeer(sig.peer)
  return root !== undefined && key !== undefined && await verifyGroupSignature(key, sig.by, root, sig.sig)
}

describe('canonical JSON', () => {
  it('sorts keys by UTF-16 code units at every level and keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: [3, { z: null, y: 'é' }], A: true })).toBe('{"A":true,"a":[3,{"y":"é","z":null}],"b":1}')
    expect(canonicalJson({ 10: 'x', 9: 'y' })).toBe('{"10":"x","9":"y"}')
  })

  it('takes JSON.stringify as it is only when the order is already canonical', () => {
    const value = { b: { d: 1, c: 2 }, a: 1 }
    expect(inCanonicalOrder(value)).toBe(false)
    expect(canonicalText(value)).toBe(canonicalJson(value))
    const sorted = canonicalize(value)
    expect(inCanonicalOrder(sorted)).toBe(true)
    expect(JSON.stringify(sorted)).toBe(canonicalJson(value))
    // integer-like keys enumerate first in numeric order, whatever the insertion order: the slow path decides
    const numeric = canonicalize({ 9: 'y', 10: 'x' })
    expect(inCanonicalOrder(numeric)).toBe(false)
    expect(canonicalText(numeric)).toBe('{"10":"x","9":"y"}')
  })
})

describe('Merkle audit paths (RFC 9162)', () => {
  it('lead every leaf of every group size up to 2 × SIGN_GROUP_MAX + 1 to the root, and nowhere else', () => {
    for (let n = 1; n <= 2 * SIGN_GROUP_MAX + 1; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(version(i), `h${i}`))
      const root = merkleRoot(leaves)
      for (let m = 0; m < n; m++) {
        const path = auditPath(m, leaves)
        expect(rootFromPath(leaves[m]!, m, n, path)).toEqual(root)
        if (n > 1) expect(rootFromPath(leaves[m]!, (m + 1) % n, n, path)).not.toEqual(root)
      }
      expect(rootFromPath(leaves[0]!, n, n, auditPath(0, leaves))).toBeUndefined()
    }
  })

  it('are built for a whole group at once exactly as one by one (merkleTree, what signVersions uses)', () => {
    for (let n = 1; n <= 2 * SIGN_GROUP_MAX + 1; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(version(i), `h${i}`))
      const tree = merkleTree(leaves)
      expect(tree.root).toEqual(merkleRoot(leaves))
      expect(tree.paths).toEqual(leaves.map((_, m) => auditPath(m, leaves)))
    }
  })
})

describe('version signatures', () => {
  it('verify for every version of a group, signed in groups of at most SIGN_GROUP_MAX', async () => {
    const s = await signer('lab-a')
    const versions = Array.from({ length: SIGN_GROUP_MAX + 3 }, (_, i) => version(i))
    const sigs = signVersions(s, versions, versions.map((v) => contentHash(v, v.id).h))
    expect(new Set(sigs.map((x) => x.sig)).size).toBe(2)
    expect(sigs[0]).toMatchObject({ by: 'lab-a', peer: s.peerId, i: 0, n: SIGN_GROUP_MAX })
    expect(sigs[SIGN_GROUP_MAX]).toMatchObject({ i: 0, n: 3 })
    for (let i = 0; i < versions.length; i++) expect(await verifies({ ...versions[i]!, sig: sigs[i]! })).toBe(true)
    const [single] = signVersions(s, [version(1)], [contentHash(version(1), 'S-1').h])
    expect(single!.p).toBeUndefined()
    expect(await verifies({ ...version(1), sig: single! })).toBe(true)
  })

  it('fail after any change to what is signed, or under another key or domain', async () => {
    const s = await signer('lab-a')
    const other = await signer('lab-a')
    const versions = [version(1), version(2), version(3)]
    const sigs = signVersions(s, versions, versions.map((v) => contentHash(v, v.id).h))
    const signed = { ...versions[1]!, sig: sigs[1]! }
    expect(await verifies(signed)).toBe(true)
    const tampered: ObjectVersion[] = [
      { ...signed, data: { ...signed.data, a: 99 } },
      { ...signed, data: { b: signed.data.b, a: 2 } }, // same content, another key order: still verifies (below)
      { ...signed, id: 'S-X' },
      { ...signed, parent: 'p' },
      { ...signed, refs: ['r'] },
      { ...signed, type: 'Other' },
      { ...signed, vector: { 'lab-a': 9 } },
      { ...signed, deleted: true },
      { ...signed, origin: 'hub' },
      { ...signed, at: 1 },
      { ...signed, uid: 'u-9' },
      { ...signed, sig: { ...signed.sig, by: 'hub' } },
      { ...signed, sig: { ...signed.sig, peer: other.peerId } },
      { ...signed, sig: { ...signed.sig, i: 0 } },
      // (n only places the leaf: a size whose path shape is the same leads to the same root, harmlessly)
      { ...signed, sig: { ...signed.sig, n: 9 } },
      { ...signed, sig: { ...signed.sig, p: sigs[0]!.p! } },
      { ...signed, sig: { ...signed.sig, sig: sigs[0]!.sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } }
    ]
    const results = await Promise.all(tampered.map(verifies))
    expect(results[1]).toBe(true)
    expect(results.flatMap((ok, i) => (i !== 1 && ok ? [i] : []))).toEqual([])
  })

  it('keep verifying after prefix rules change the presented id (the signed one travels in sig.id)', async () => {
    const s = await signer('lab-a')
    const v = version(5)
    const [sig] = signVersions(s, [v], [contentHash(v, v.id).h])
    expect(await verifies({ ...v, id: 'A-S-5', sig: { ...sig!, id: 'S-5' } })).toBe(true)
    expect(await verifies({ ...v, id: 'A-S-5', sig: sig! })).toBe(false)
  })

  it('refuse peer IDs that are not Ed25519 keys', () => {
    expect(publicKeyOfPeer('not-a-peer-id')).toBeUndefined()
    expect(decodePath('abc')).toBeUndefined()
    expect(decodePath(undefined)).toEqual([])
  })
})

describe('the provenance checker (agent/apply/provenance.ts)', () => {
  const signed = (s: VersionSigner, versions: ObjectVersion[]): ObjectVersion[] => {
    const sigs = signVersions(s, versions, versions.map((v) => contentHash(v, v.id).h))
    return versions.map((v, i) => ({ ...v, sig: sigs[i]! }))
  }

  it('passes a group\'s versions across checks, and fails every version of a group whose signature does not verify, in concurrent checks too', async () => {
    const s = await signer('lab-a')
    const checker = createProvenanceChecker()
    const good = signed(s, Array.from({ length: 10 }, (_, i) => version(i)))
    expect((await checker.check(good.slice(0, 4))).bad.size).toBe(0)
    expect((await checker.check(good.slice(4))).bad.size).toBe(0)
    const flip = (text: string): string => (text[0] === 'A' ? 'B' : 'A') + text.slice(1)
    const forged = signed(s, Array.from({ length: 6 }, (_, i) => version(20 + i))).map((v) => ({ ...v, sig: { ...v.sig!, sig: flip(v.sig!.sig) } }))
    const [first, second] = await Promise.all([checker.check(forged.slice(0, 3)), checker.check(forged.slice(3))])
    expect([...first.bad.keys(), ...second.bad.keys()]).toEqual(forged.map((v) => v.uid))
    expect([...first.bad.values()][0]).toMatch(/does not verify under peer/)
    // a version claiming a verified group's signature, with a path that does not lead into its tree
    const stray = { ...version(30), sig: { ...signed(s, [version(30)])[0]!.sig!, sig: good[0]!.sig!.sig, i: 1, n: 10, p: good[1]!.sig!.p! } }
    expect([...(await checker.check([stray])).bad.values()][0]).toMatch(/not in the group/)
    // and the data text it hashed is the one the store may write as it is
    const result = await checker.check(good.slice(0, 1))
    expect(result.dataText(good[0]!.data)).toBe(JSON.stringify(good[0]!.data))
  })

  it('binds each domain to one peer ID: a signer known as another domain, or a domain known as another peer, fails', async () => {
    const lab = await signer('lab-a')
    const hub = await signer('hub')
    const checker = createProvenanceChecker()
    expect(checker.bind('hub', hub.peerId)).toBeUndefined()
    const asLab = createVersionSigner('lab-a', hub.peerId, Buffer.alloc(32)) // a key that is not the hub's: fails at the binding first
    const [v] = signed(asLab, [version(1)])
    expect([...(await checker.check([v!])).bad.values()][0]).toMatch(/which is hub/)
    expect(checker.bind('lab-a', lab.peerId)).toBeUndefined()
    const [w] = signed(hub, [version(2, { vector: { 'lab-a': 1, hub: 1 } })])
    expect((await checker.check([{ ...w!, sig: { ...w!.sig!, by: 'lab-a' } }])).bad.get('u-2')).toMatch(/lab-a is peer/)
    expect(checker.bind('hub', lab.peerId)).toMatch(/was/)
    expect(checker.keyOf('hub')).toBe(lab.peerId)
  })

  it('lets a signer raise its own restore entries (domain~tag), signing as its domain, and no one else\'s', async () => {
    const lab = await signer('lab-a')
    const hub = await signer('hub')
    const checker = createProvenanceChecker()
    checker.bind('lab-a', lab.peerId)
    checker.bind('hub', hub.peerId)
    // a restored lab-a: its restore entry raised, over an entry of its domain or (new object) with lab-a: 0 for older peers
    const [edit, created] = signed(lab, [version(1, { vector: { 'lab-a': 4, 'lab-a~0a1b2c3d': 1 } }), version(2, { vector: { 'lab-a~0a1b2c3d': 1, 'lab-a': 0 } })])
    expect((await checker.check([edit!, created!])).bad.size).toBe(0)
    // the hub cannot sign for lab-a's restore entry: as itself it has no entry of its own there, as lab-a it is not lab-a's key
    const [asHub] = signed(hub, [version(3, { vector: { 'lab-a~0a1b2c3d': 2, hub: 0 } })])
    expect((await checker.check([asHub!])).bad.get('u-3')).toMatch(/signer hub has no entry/)
    const [asHubByEntry] = signed(createVersionSigner('lab-a~0a1b2c3d', hub.peerId, Buffer.alloc(32)), [version(4, { vector: { 'lab-a~0a1b2c3d': 2 } })])
    expect((await checker.check([asHubByEntry!])).bad.get('u-4')).toMatch(/is not a domain/)
    // another domain's restore entry is not the signer's own (lab-a-x~… is lab-a-x's)
    const [other] = signed(lab, [version(5, { vector: { 'lab-a-x~0a1b2c3d': 1, 'lab-a': 0 } })])
    expect((await checker.check([other!])).bad.get('u-5')).toMatch(/signer lab-a has no entry/)
  })

  it('accepts unsigned versions, counted, unless signatures are required', async () => {
    expect(await createProvenanceChecker().check([version(1), version(2)])).toMatchObject({ unsigned: 2 })
    expect([...(await createProvenanceChecker({ requireSigned: true }).check([version(1)])).bad.values()][0]).toMatch(/requireSigned/)
  })
})
