import { describe, expect, it } from 'vitest'
import { holdingLeaf } from '../../protocol/digest.js'
import type { ObjectVersion, VersionSignature } from '../../protocol/object.js'
import { contentHash } from '../../protocol/provenance.js'
import { sameVersion } from '../../protocol/same-version.js'

const V = { 'lab-a': 3, 'lab-b': 1 }

function version (data: Record<string, unknown>, extra: Partial<ObjectVersion> = {}): ObjectVersion {
  return { uid: 'u1', type: 'Client', id: 'C-1', parent: null, refs: ['r1'], data, vector: V, origin: 'lab-a', deleted: false, at: 1000, ...extra }
}

/** `v` signed as lab-a would sign it (content hash over the signer's id); group fields as given */
function signed (v: ObjectVersion, group: Partial<VersionSignature> = {}): ObjectVersion {
  return { ...v, sig: { by: 'lab-a', peer: 'peer-a', h: contentHash(v, v.id).h, sig: 'sig-1', ...group } }
}

describe('sameVersion: two versions with one vector (protocol/same-version.ts)', () => {
  describe('honest copies of one version are the same, whatever path they took', () => {
    it('a signed version signed in another group position (relay, echo: sig travels whole; only h is the version\'s)', () => {
      const a = signed(version({ x: 1 }))
      const b = { ...a, sig: { ...a.sig!, sig: 'other-group', i: 3, n: 8, p: 'path' } }
      expect(sameVersion(a, b)).toBe(true)
    })

    it('a signed version whose presented id a prefix rule rewrote (the signer\'s id stays in sig.id)', () => {
      const a = signed(version({ x: 1 }))
      const prefixed = { ...a, id: 'lab-a-C-1', sig: { ...a.sig!, id: 'C-1' } }
      expect(sameVersion(a, prefixed)).toBe(true)
    })

    it('an unsigned version (older store) with a rewritten id', () => {
      expect(sameVersion(version({ x: 1 }), version({ x: 1 }, { id: 'lab-a-C-1' }))).toBe(true)
    })

    it('an unsigned version whose data keys arrived in another order (stored canonical here, received order there)', () => {
      expect(sameVersion(version({ b: 1, a: { d: 2, c: 3 } }), version({ a: { c: 3, d: 2 }, b: 1 }))).toBe(true)
    })

    it('signed and unsigned copies with the same content (no path strips or adds a signature, but the comparison is safe)', () => {
      expect(sameVersion(signed(version({ x: 1 })), version({ x: 1 }))).toBe(true)
    })

    it('tombstones of the same version', () => {
      expect(sameVersion(version({}, { deleted: true }), version({}, { deleted: true }))).toBe(true)
    })
  })

  describe('two writes that reused one vector are different', () => {
    it.each<[string, ObjectVersion, ObjectVersion]>([
      ['signed, other data', signed(version({ x: 1 })), signed(version({ x: 2 }))],
      ['signed, same data, other signed id', signed(version({ x: 1 })), signed(version({ x: 1 }, { id: 'C-2' }))],
      ['signed, same content written at another time', signed(version({ x: 1 })), signed(version({ x: 1 }, { at: 2000 }))],
      ['a tombstone and an edit', signed(version({})), signed(version({}, { deleted: true }))],
      ['unsigned, other data', version({ x: 1 }), version({ x: 2 })],
      ['unsigned, other type', version({ x: 1 }), version({ x: 1 }, { type: 'Contact' })],
      ['unsigned, other parent', version({ x: 1 }), version({ x: 1 }, { parent: 'p' })],
      ['unsigned, other refs', version({ x: 1 }), version({ x: 1 }, { refs: ['r2'] })],
      ['unsigned, refs in another order', version({ x: 1 }, { refs: ['r1', 'r2'] }), version({ x: 1 }, { refs: ['r2', 'r1'] })],
      ['unsigned, nested data', version({ a: { b: [1, 2] } }), version({ a: { b: [2, 1] } })],
      ['signed and unsigned, other data', signed(version({ x: 1 })), version({ x: 2 })],
      ['another origin', version({ x: 1 }), version({ x: 1 }, { origin: 'lab-b' })]
    ])('%s', (_, a, b) => {
      expect(sameVersion(a, b)).toBe(false)
      expect(sameVersion(b, a)).toBe(false)
    })
  })

  it('the digest lists two versions of one vector alike whichever a holder keeps as current', () => {
    const lost = signed(version({ x: 1 }))
    const edit = signed(version({ x: 2 }, { at: 2000 }))
    const here = holdingLeaf([lost, edit])
    const there = holdingLeaf([edit, lost])
    expect(here.hash).toBe(there.hash)
    expect(here.vectors).toEqual([V, V])
    // and unlike a holder of either one
    expect(holdingLeaf([lost]).hash).not.toBe(here.hash)
    expect(holdingLeaf([edit]).hash).not.toBe(here.hash)
  })
})
