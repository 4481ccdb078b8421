import { describe, expect, it } from 'vitest'
import { toWire } from '../../store/stored-wire.js'
import { storeLocalBytes } from '../../store/level-write-tx.js'
import type { StoredObject } from '../../store/types.js'

const version = (data: Record<string, unknown>, vector: Record<string, number>) => ({
  uid: 'ü-1', type: 'Sample', id: 'S-ü', parent: null, refs: ['r-1'], data, vector, origin: 'lab-a', deleted: false, at: 1_700_000_000_000
})

describe('storeLocalBytes: the stored record\'s JSON minus its store-local fields is the wire JSON, byte for byte', () => {
  const cases: Array<[string, StoredObject]> = [
    ['local, no siblings', { ...version({ n: 1 }, { 'lab-a': 3 }), conflicts: [], via: null, seq: 7 }],
    ['pulled, with the epoch', { ...version({ text: 'Ω≈ç√ 😀' }, { 'lab-a': 1, 'lab-b': 2 }), conflicts: [], via: 'lab-b', viaEpoch: '0123abcd', seq: 123456789 }],
    ['siblings and conflictVia', { ...version({ n: 2 }, { 'lab-a': 2 }), conflicts: [version({ n: 3, note: 'ß' }, { 'lab-b': 1 })], via: null, conflictVia: ['lab-b', 'lab-ü'], seq: 1 }],
    ['pulled siblings', { ...version({}, { 'lab-a': 2 }), conflicts: [version({ x: [1, 2] }, { 'lab-c': 4 }), version({ y: null }, { 'lab-d': 1 })], via: 'lab-c', viaEpoch: 'ff', conflictVia: ['lab-c'], seq: 9007199254740991 }]
  ]
  it.each(cases)('%s', (_name, stored) => {
    const storedBytes = Buffer.byteLength(JSON.stringify(stored))
    expect(storedBytes - storeLocalBytes(stored)).toBe(Buffer.byteLength(JSON.stringify(toWire(stored))))
  })
})
