/**
 * The verify's pure parts: how two leaves differ (classify), which uids of a
 * range differ (diffLeaves), how the checks' problems turn a stored leaf
 * into what a side really holds (differences), the digest's canonical
 * order, the scope the rules give, and the wire validation of the verify
 * protocol (a malformed message is refused with a clear error).
 */
import { describe, expect, it } from 'vitest'
import { classify, diffLeaves, differences, sameVectors } from '../../agent/verify/compare.js'
import { importsGroup, servesDigestType } from '../../agent/rules/verify-scope.js'
import { compileInboundRules } from '../../agent/rules/inbound.js'
import { compileServeRules } from '../../agent/rules/serve.js'
import { progressOf } from '../../agent/verify/verifier.js'
import { validateConfig } from '../../config/load.js'
import { decodeVerifyClientMessage, decodeVerifyServerMessage } from '../../protocol/decode.js'
import { OTHER_REGISTRY_TYPE, holdingLeaf } from '../../protocol/digest.js'
import type { ObjectVersion } from '../../protocol/object.js'
import type { WireLeaf, WireProblem } from '../../protocol/verify-messages.js'

const H = (c: string): string => c.repeat(32)
const leaf = (uid: string, vectors: Array<Record<string, number>>, hash = H('a'), deleted = false): WireLeaf => ({ uid, vectors, deleted, hash })
const group = { type: 'Sample', origin: 'lab-a' }

describe('classify', () => {
  it('names every way two holdings of a uid differ, and nothing when they agree', () => {
    expect(classify(undefined, undefined)).toBeUndefined()
    expect(classify(undefined, leaf('u', [{ a: 1 }]))).toBe('missing-here')
    expect(classify(leaf('u', [{ a: 1 }]), undefined)).toBe('missing-there')
    expect(classify(leaf('u', [{ a: 1 }]), leaf('u', [{ a: 2 }]))).toBe('different-version')
    expect(classify(leaf('u', [{ a: 1 }]), leaf('u', [{ a: 1 }, { b: 1 }]))).toBe('different-version')
    expect(classify(leaf('u', [{ a: 1 }]), leaf('u', [{ a: 1 }], H('b')))).toBe('different-data')
    expect(classify(leaf('u', [{ a: 1 }]), leaf('u', [{ a: 1, b: 0 }]))).toBeUndefined()
    // a tombstone is shown, not compared: which version is current may differ
    expect(classify(leaf('u', [{ a: 1 }], H('a'), true), leaf('u', [{ a: 1 }]))).toBeUndefined()
  })

  it('compares vectors as vectors, in order', () => {
    expect(sameVectors([{ a: 1 }, { b: 2 }], [{ a: 1 }, { b: 2, c: 0 }])).toBe(true)
    expect(sameVectors([{ a: 1 }, { b: 2 }], [{ b: 2 }, { a: 1 }])).toBe(false)
    expect(sameVectors([], [])).toBe(true)
  })
})

describe('diffLeaves', () => {
  it('lists the uids either side lacks or holds differently, and only those', () => {
    const here = [leaf('u1', [{ a: 1 }]), leaf('u2', [{ a: 1 }]), leaf('u3', [{ a: 1 }])]
    const there = [leaf('u1', [{ a: 1 }]), leaf('u2', [{ a: 2 }]), leaf('u4', [{ a: 1 }])]
    expect(diffLeaves(group, here, there).map((p) => [p.uid, p.here !== undefined, p.there !== undefined])).toEqual([['u2', true, true], ['u3', true, false], ['u4', false, true]])
    expect(diffLeaves(group, here, here)).toEqual([])
  })
})

describe('differences', () => {
  const stored = leaf('u', [{ a: 1 }], H('a'))
  const corrupt = leaf('u', [{ a: 1 }], H('c'))
  const problem = (actual: WireLeaf | undefined): WireProblem => ({ uid: 'u', stored: { ...group, leaf: stored }, ...(actual !== undefined ? { actual: { ...group, leaf: actual } } : {}) })

  it('a record changed behind our store: different data, corrupt here, though both digests agree', () => {
    expect(differences([], [problem(corrupt)], [])).toEqual([{ uid: 'u', ...group, kind: 'different-data', here: { vectors: [{ a: 1 }], deleted: false }, there: { vectors: [{ a: 1 }], deleted: false }, corrupt: 'here' }])
  })

  it('a record removed behind the peer\'s store: missing there', () => {
    expect(differences([], [], [problem(undefined)]).map((d) => [d.kind, d.corrupt])).toEqual([['missing-there', 'there']])
  })

  it('the same change behind both stores: nothing differs between them, both flagged only when they still differ', () => {
    expect(differences([], [problem(corrupt)], [problem(corrupt)])).toEqual([])
    expect(differences([], [problem(corrupt)], [problem(leaf('u', [{ a: 1 }], H('d')))]).map((d) => d.corrupt)).toEqual(['both'])
  })

  it('a record mended behind the store that now equals the peer\'s: no difference', () => {
    expect(differences([{ uid: 'u', group, here: corrupt, there: stored }], [problem(stored)], [])).toEqual([])
  })

  it('sorts by uid', () => {
    const pairs = ['c', 'a', 'b'].map((uid) => ({ uid, group, here: leaf(uid, [{ a: 1 }]) }))
    expect(differences(pairs, [], []).map((d) => d.uid)).toEqual(['a', 'b', 'c'])
  })
})

describe('the digest leaf', () => {
  const v = (vector: Record<string, number>, data: Record<string, unknown>): ObjectVersion => ({ uid: 'u', type: 'Sample', id: 'S-1', parent: null, refs: [], data, vector, origin: 'lab-a', deleted: false, at: 1 })
  it('is the same whichever version a holder keeps as current, and ignores ids and signatures', () => {
    const x = v({ a: 2 }, { n: 1 })
    const y = v({ b: 1 }, { n: 2 })
    expect(holdingLeaf([x, y])).toEqual({ ...holdingLeaf([y, x]), deleted: false })
    expect(holdingLeaf([{ ...x, id: 'LAB-S-1' }]).hash).toBe(holdingLeaf([x]).hash)
    expect(holdingLeaf([{ ...x, sig: { by: 'a', peer: 'p', h: 'h', sig: 's' } }]).hash).toBe(holdingLeaf([x]).hash)
    expect(holdingLeaf([x]).hash).not.toBe(holdingLeaf([v({ a: 2 }, { n: 9 })]).hash)
  })
})

describe('the scope of a verify', () => {
  const config = validateConfig({ domain: 'lab-b', dataDir: '/tmp/x', peers: [] })
  const peer = (extra: Record<string, unknown>): ReturnType<typeof validateConfig>['peers'][number] => validateConfig({ domain: 'lab-b', dataDir: '/tmp/x', peers: [{ name: 'lab-a', peerId: '12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust', ...extra }] }).peers[0]!

  it('imports: types.only/skip, updateOnly (our own origin only), registry records', () => {
    const rules = (extra: Record<string, unknown>): ReturnType<typeof compileInboundRules> => compileInboundRules(config, peer(extra))
    expect(importsGroup(rules({}), { type: 'Sample', origin: 'lab-a' })).toBe(true)
    expect(importsGroup(rules({ types: { skip: ['Sample'] } }), { type: 'Sample', origin: 'lab-a' })).toBe(false)
    expect(importsGroup(rules({ types: { only: ['Client'] } }), { type: 'Sample', origin: 'lab-a' })).toBe(false)
    expect(importsGroup(rules({ types: { updateOnly: ['Sample'] } }), { type: 'Sample', origin: 'lab-a' })).toBe(false)
    expect(importsGroup(rules({ types: { updateOnly: ['Sample'] } }), { type: 'Sample', origin: 'lab-b' })).toBe(true)
    expect(importsGroup(rules({}), { type: OTHER_REGISTRY_TYPE, origin: 'lab-a' })).toBe(false)
  })

  it('serves: by type', () => {
    expect(servesDigestType(compileServeRules(peer({ serve: { types: { skip: ['Analysis'] } } })), 'Analysis')).toBe(false)
    expect(servesDigestType(compileServeRules(peer({})), 'Analysis')).toBe(true)
  })
})

describe('verify protocol validation', () => {
  it('accepts what the protocol says and refuses the rest with the field named', () => {
    expect(decodeVerifyClientMessage({ type: 'open', v: 1, domain: 'lab-b', types: ['Sample'], check: true }).ok).toBe(true)
    expect(decodeVerifyClientMessage({ type: 'ranges', v: 1, id: 1, ranges: [{ type: 'Sample', origin: 'lab-a', bits: 6, prefix: 63 }] }).ok).toBe(true)
    const badPrefix = decodeVerifyClientMessage({ type: 'ranges', v: 1, id: 1, ranges: [{ type: 'Sample', origin: 'lab-a', bits: 6, prefix: 64 }] })
    expect(badPrefix).toEqual({ ok: false, error: expect.stringMatching(/ranges\.0.*prefix must have at most `bits` bits/) })
    expect(decodeVerifyClientMessage({ type: 'ranges', v: 1, id: 1, ranges: [{ type: 'Sample', origin: 'lab-a', bits: 5, prefix: 0 }] }).ok).toBe(false)
    expect(decodeVerifyClientMessage({ type: 'ranges', v: 1, id: 1, ranges: [] }).ok).toBe(false)
    expect(decodeVerifyClientMessage({ type: 'open', v: 2, domain: 'lab-b', types: [], check: false })).toEqual({ ok: false, error: expect.stringContaining('unsupported verify protocol version 2') })
    expect(decodeVerifyServerMessage({ type: 'nodes', v: 1, id: 1, nodes: [{ type: 'Sample', origin: 'lab-a', bits: 12, prefix: 1, count: 1, hash: 'x', leaves: [] }], last: true }).ok).toBe(false)
    expect(decodeVerifyServerMessage({ type: 'summary', v: 1, domain: 'lab-a', groups: [{ type: 'Sample', origin: 'lab-a', count: 3, hash: H('0') }], refused: [], last: true }).ok).toBe(true)
  })
})

describe('verify progress', () => {
  it('gives a percentage and an ETA from the rate so far', () => {
    expect(progressOf('checking', 250, 1000, 0, 10_000)).toEqual({ phase: 'checking', done: 250, total: 1000, percent: 25, etaSeconds: 30 })
    expect(progressOf('comparing', 0, 0, 0, 0)).toEqual({ phase: 'comparing', done: 0, total: 0, percent: 0, etaSeconds: undefined })
  })
})
