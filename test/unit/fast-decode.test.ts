/**
 * The hand-written bulk-message validator against its specification, the zod
 * schema: whatever the fast path accepts, zod accepts with the same result
 * (content and key order), and decodeServerMessage accepts and rejects
 * exactly what zod does, with zod's error text. Inputs: generated LIMS
 * objects, a table of boundary mutations, and seeded random mutations.
 */
import { describe, expect, it } from 'vitest'
import { generateLimsObjects } from '../../agent/demo/lims-data.js'
import { createRng } from '../../agent/demo/rng.js'
import {
  MAX_AUDIT_PATH_LENGTH, MAX_BATCH_OBJECTS, MAX_DATA_DEPTH, MAX_CONFLICT_SIBLINGS, MAX_DOMAIN_LENGTH, MAX_GET_UIDS, MAX_ID_LENGTH,
  MAX_PEER_ID_LENGTH, MAX_REFS, MAX_SIGN_GROUP, MAX_TYPE_LENGTH, MAX_UID_LENGTH, MAX_VECTOR_ENTRIES
} from '../../protocol/constants.js'
import { fastServerMessage } from '../../protocol/fast-decode.js'
import { decodeServerMessage, decodeServerMessageWithZod } from '../../protocol/decode.js'

type Rec = Record<string, unknown>

const objects = [...generateLimsObjects({ domain: 'lab-a', seed: 3, count: 120 })] as unknown as Rec[]
/** a signature of the right shape (whether it verifies is not the decoder's business) */
const sig: Rec = { by: 'lab-a', peer: '12D3KooWBXWs8xfq6T4ixwWABMpvMWvsjDgVBZm6WAHX44Cuyo9V', h: 'h'.repeat(43), sig: 's'.repeat(86), i: 3, n: 32, p: 'p'.repeat(214) }
const base: Rec = { ...objects[100]!, sig }
const sibling = { ...objects[101]!, uid: base.uid, vector: { 'lab-b': 2 } }

const batch = (changes: unknown[], extra: Rec = {}): Rec => ({ type: 'batch', v: 1, id: 3, changes, lastSeq: 9, last: true, more: false, remaining: 0, ...extra })
const objectsMessage = (list: unknown[], extra: Rec = {}): Rec => ({ type: 'objects', v: 1, id: 4, objects: list, missing: ['m1'], last: true, ...extra })
/** through JSON, as a frame arrives */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

/** Asserts the fast path agrees with zod on `value`; returns whether the fast path took it. */
function agree (value: unknown): boolean {
  const fast = fastServerMessage(value)
  const zod = decodeServerMessageWithZod(value)
  if (fast !== undefined) {
    expect(zod.ok).toBe(true)
    if (zod.ok) {
      expect(fast).toStrictEqual(zod.message)
      expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.message))
    }
  }
  expect(decodeServerMessage(value)).toStrictEqual(zod.ok ? { ok: true, message: fast ?? (zod as { message: unknown }).message } : zod)
  return fast !== undefined
}

const long = (n: number): string => 'x'.repeat(n)
/** data nested `depth` levels deep (the data object itself is level 1), objects and arrays alternating */
function nested (depth: number): Rec {
  let value: unknown = 1
  for (let level = depth; level > 1; level--) value = level % 2 === 0 ? { a: value } : [value]
  return { a: value }
}
const fieldMutations: Array<[string, unknown]> = [
  ['uid', undefined], ['uid', ''], ['uid', long(MAX_UID_LENGTH)], ['uid', long(MAX_UID_LENGTH + 1)], ['uid', 5],
  ['type', ''], ['type', long(MAX_TYPE_LENGTH + 1)], ['type', null],
  ['id', ''], ['id', long(MAX_ID_LENGTH)], ['id', long(MAX_ID_LENGTH + 1)], ['id', 7],
  ['parent', null], ['parent', ''], ['parent', 'p'], ['parent', undefined], ['parent', 3],
  ['refs', []], ['refs', ['']], ['refs', [1]], ['refs', 'a'], ['refs', Array.from({ length: MAX_REFS }, (_, i) => `r${i}`)], ['refs', Array.from({ length: MAX_REFS + 1 }, (_, i) => `r${i}`)],
  ['data', {}], ['data', []], ['data', null], ['data', 'x'], ['data', { nested: { deep: [1, { a: null }] } }],
  ['data', nested(MAX_DATA_DEPTH)], ['data', nested(MAX_DATA_DEPTH + 1)], ['data', nested(500)],
  ['vector', {}], ['vector', { a: 0 }], ['vector', { a: -1 }], ['vector', { a: 1.5 }], ['vector', { a: 2 ** 53 }], ['vector', { a: 2 ** 53 - 1 }],
  ['vector', { '': 1 }], ['vector', { [long(MAX_DOMAIN_LENGTH)]: 1 }], ['vector', { [long(MAX_DOMAIN_LENGTH + 1)]: 1 }], ['vector', { 12: 1, b: 2 }],
  ['vector', Object.fromEntries(Array.from({ length: MAX_VECTOR_ENTRIES }, (_, i) => [`d${i}`, 1]))],
  ['vector', Object.fromEntries(Array.from({ length: MAX_VECTOR_ENTRIES + 1 }, (_, i) => [`d${i}`, 1]))],
  ['vector', { a: '1' }], ['vector', [1]],
  ['origin', ''], ['origin', long(MAX_DOMAIN_LENGTH + 1)],
  ['deleted', 'no'], ['deleted', 0], ['deleted', true],
  ['at', -1], ['at', 0], ['at', -0], ['at', 1.5], ['at', '1'], ['at', 1e300], ['at', Infinity], ['at', Number.NaN],
  ['conflicts', []], ['conflicts', [sibling]], ['conflicts', null], ['conflicts', [{ ...sibling, conflicts: [sibling], extra: 1 }]],
  ['conflicts', [{ ...sibling, at: -1 }]], ['conflicts', Array.from({ length: MAX_CONFLICT_SIBLINGS }, () => sibling)],
  ['conflicts', Array.from({ length: MAX_CONFLICT_SIBLINGS + 1 }, () => sibling)], ['conflicts', undefined],
  ['extraKey', 'stripped'], ['seq', 12], ['via', 'lab-c'],
  ['sig', undefined], ['sig', null], ['sig', 'x'], ['sig', []], ['sig', {}], ['sig', { ...sig, extra: 1 }]
]

/** mutations of `sig`'s own fields (undefined: the key is removed) */
const sigMutations: Array<[string, unknown]> = [
  ['by', ''], ['by', long(MAX_DOMAIN_LENGTH)], ['by', long(MAX_DOMAIN_LENGTH + 1)], ['by', 1], ['by', undefined],
  ['peer', ''], ['peer', long(MAX_PEER_ID_LENGTH)], ['peer', long(MAX_PEER_ID_LENGTH + 1)], ['peer', undefined],
  ['h', 'h'.repeat(42)], ['h', 'h'.repeat(44)], ['h', `${'h'.repeat(42)}=`], ['h', `${'h'.repeat(42)}+`], ['h', undefined],
  ['sig', 's'.repeat(85)], ['sig', 's'.repeat(87)], ['sig', `${'s'.repeat(85)}/`], ['sig', 5], ['sig', undefined],
  ['i', undefined], ['i', 0], ['i', -1], ['i', 1.5], ['i', MAX_SIGN_GROUP], ['i', MAX_SIGN_GROUP + 1], ['i', '3'], ['i', null],
  ['n', undefined], ['n', 1], ['n', 2], ['n', MAX_SIGN_GROUP], ['n', MAX_SIGN_GROUP + 1], ['n', 2.5],
  ['p', undefined], ['p', ''], ['p', 'p'.repeat(MAX_AUDIT_PATH_LENGTH)], ['p', 'p'.repeat(MAX_AUDIT_PATH_LENGTH + 1)], ['p', 'a b'], ['p', 7],
  ['id', 'S-1'], ['id', ''], ['id', long(MAX_ID_LENGTH)], ['id', long(MAX_ID_LENGTH + 1)], ['id', null], ['extra', 1]
]

describe('fast bulk-message validator = zod schema', () => {
  it('takes every generated object on the fast path, as zod would decode it', () => {
    expect(agree(wire(batch(objects)))).toBe(true)
    expect(agree(wire(objectsMessage(objects.slice(0, 50))))).toBe(true)
    expect(agree(wire(batch([])))).toBe(true)
  })

  it.each(fieldMutations.map(([field, value], i) => [i, field, value] as const))('agrees on mutation %i: %s', (_i, field, value) => {
    const changed = { ...base, [field]: value }
    if (value === undefined) delete (changed as Rec)[field]
    agree(batch([changed]))
    agree(wire(batch([changed])))
    agree(objectsMessage([changed]))
  })

  it.each(sigMutations.map(([field, value], i) => [i, field, value] as const))('agrees on signature mutation %i: %s', (_i, field, value) => {
    const changedSig: Rec = { ...sig, [field]: value }
    if (value === undefined) delete changedSig[field]
    const changed = { ...base, sig: changedSig }
    agree(batch([changed]))
    agree(wire(batch([changed])))
    agree(objectsMessage([{ ...objects[101]!, conflicts: [changed] }]))
  })

  it('takes signed and unsigned versions on the fast path alike', () => {
    const unsigned = { ...base }
    delete (unsigned as Rec).sig
    expect(agree(wire(batch([base, unsigned, { ...base, conflicts: [unsigned, { ...sibling, sig }] }])))).toBe(true)
    expect(agree(wire(batch([{ ...base, sig: { by: 'lab-a', peer: 'x', h: 'h'.repeat(43), sig: 's'.repeat(86) } }])))).toBe(true)
  })

  it('agrees on message-level boundaries', () => {
    const cases: Rec[] = [
      batch([base], { id: 2 ** 31 }), batch([base], { id: 2 ** 31 + 1 }), batch([base], { id: -1 }), batch([base], { id: 1.5 }),
      batch([base], { lastSeq: 2 ** 53 - 1 }), batch([base], { lastSeq: 2 ** 53 }), batch([base], { remaining: -1 }),
      batch([base], { last: 'yes' }), batch([base], { more: undefined }), batch([base], { v: 2 }), batch([base], { extra: 1 }),
      batch(Array.from({ length: MAX_BATCH_OBJECTS }, () => base)), batch(Array.from({ length: MAX_BATCH_OBJECTS + 1 }, () => base)),
      batch([base], { changes: 'x' }), batch([null]), batch([[]]),
      objectsMessage([base], { missing: [] }), objectsMessage([base], { missing: [''] }), objectsMessage([base], { missing: Array.from({ length: MAX_GET_UIDS + 1 }, (_, i) => `m${i}`) }),
      objectsMessage(Array.from({ length: MAX_GET_UIDS + 1 }, () => base)), objectsMessage([base], { last: 1 })
    ]
    for (const c of cases) agree(c)
  })

  it('agrees on a pushed batch\'s `from`: a field of version 2, stripped in version 1', () => {
    const agreeV2 = (value: Rec): boolean => {
      const fast = fastServerMessage(value, 2)
      const zod = decodeServerMessageWithZod(value, 2)
      if (fast !== undefined) expect(zod.ok && JSON.stringify(zod.message)).toBe(JSON.stringify(fast))
      expect(decodeServerMessage(value, 2)).toStrictEqual(zod.ok ? { ok: true, message: fast ?? (zod as { message: unknown }).message } : zod)
      return fast !== undefined
    }
    const v2 = (extra: Rec): Rec => batch([base], { v: 2, ...extra })
    expect(agreeV2(v2({ from: 7 }))).toBe(true)
    expect((fastServerMessage(v2({ from: 7 }), 2) as { from?: number }).from).toBe(7)
    expect(agreeV2(v2({}))).toBe(true)
    for (const from of [-1, 1.5, '7', null, 2 ** 53, undefined]) {
      expect(agreeV2(v2({ from }))).toBe(false)
      expect(decodeServerMessage(v2({ from }), 2).ok).toBe(from === undefined)
    }
    // version 1 knows no `from`: stripped on both paths
    expect(agree(batch([base], { from: 7 }))).toBe(true)
    expect(fastServerMessage(batch([base], { from: 7 }))).not.toHaveProperty('from')
  })

  it('leaves __proto__ keys and non-plain objects to zod', () => {
    const proto = JSON.parse(`{"a":1,"__proto__":{"polluted":true}}`) as Rec
    expect(agree({ ...batch([{ ...base, data: proto }]) })).toBe(false)
    expect(agree(batch([{ ...base, vector: JSON.parse('{"lab-a":1,"__proto__":2}') }]))).toBe(false)
    expect(agree(JSON.parse(`{"__proto__":{},"type":"batch","v":1,"id":1,"changes":[],"lastSeq":0,"last":true,"more":false,"remaining":0}`))).toBe(false)
    expect(agree(batch([Object.assign(Object.create(null) as Rec, base)]))).toBe(false)
  })

  it('agrees on 3,000 seeded random mutations', () => {
    const rng = createRng('fast-decode-fuzz')
    const pool: unknown[] = [null, true, false, 0, -0, -1, 1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 53), '', 'x', long(65), long(129), long(513), [], [''], ['u'], {}, { a: 1 }, { a: -1 }, [base], [sibling], sig, { ...sig, n: 1 }, { ...sig, h: 'h' }]
    const fields = [...Object.keys(base), 'conflicts', 'extra']
    const sigFields = [...Object.keys(sig), 'id', 'extra']
    let fast = 0
    for (let n = 0; n < 3000; n++) {
      const obj: Rec = { ...objects[rng.int(objects.length)]!, ...(rng.chance(0.2) ? { conflicts: [sibling] } : {}) }
      const edits = rng.between(0, 2)
      for (let e = 0; e < edits; e++) {
        const field = rng.pick(fields)
        const target = rng.chance(0.2) && Array.isArray(obj.conflicts) ? (obj.conflicts = [{ ...(obj.conflicts[0] as Rec) }])[0] as Rec : obj
        if (rng.chance(0.1)) delete target[field]
        else if (rng.chance(0.3) && typeof target.sig === 'object' && target.sig !== null) {
          const changedSig = target.sig = { ...(target.sig as Rec) }
          changedSig[rng.pick(sigFields)] = rng.pick(pool)
        } else target[field] = rng.pick(pool)
      }
      const message = rng.chance(0.8) ? batch([obj]) : objectsMessage([obj])
      if (rng.chance(0.1)) message[rng.pick(['id', 'lastSeq', 'remaining', 'last', 'v', 'missing'])] = rng.pick(pool)
      if (agree(rng.chance(0.5) ? wire(message) : message)) fast++
    }
    expect(fast).toBeGreaterThan(500)
  })
})
