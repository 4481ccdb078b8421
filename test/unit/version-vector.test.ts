import { describe, expect, it } from 'vitest'
import {
  compare, counterOf, domainOfEntry, dominatesOrEquals, formatVector, hasEntryOf, increment, isConcurrent, merge, raise, restoreEntry, type Ordering, type VersionVector
} from '../../protocol/version-vector.js'
import { MAX_DOMAIN_LENGTH } from '../../protocol/constants.js'

const cases: Array<[VersionVector, VersionVector, Ordering | 'concurrent']> = [
  [{}, {}, 'equal'],
  [{ a: 1 }, { a: 1 }, 'equal'],
  [{ a: 1, b: 0 }, { a: 1 }, 'equal'],
  [{ a: 0 }, {}, 'equal'],
  [{ a: 2 }, { a: 1 }, 'newer'],
  [{ a: 1 }, {}, 'newer'],
  [{ a: 1, b: 1 }, { a: 1 }, 'newer'],
  [{ a: 2, b: 3 }, { a: 1, b: 3 }, 'newer'],
  [{ a: 1 }, { a: 2 }, 'older'],
  [{}, { b: 1 }, 'older'],
  [{ a: 1 }, { a: 1, b: 1 }, 'older'],
  [{ a: 1 }, { b: 1 }, 'concurrent'],
  [{ a: 2, b: 1 }, { a: 1, b: 2 }, 'concurrent'],
  [{ a: 1, c: 5 }, { a: 2 }, 'concurrent'],
  [{ x: 3, y: 1, z: 1 }, { x: 3, y: 2 }, 'concurrent']
]

describe('version vectors', () => {
  it.each(cases)('compare(%j, %j) is %s', (a, b, expected) => {
    const result = compare(a, b)
    if (expected === 'concurrent') expect(isConcurrent(result)).toBe(true)
    else expect(result).toBe(expected)
  })

  it.each(cases)('compare is antisymmetric for %j and %j', (a, b) => {
    const forward = compare(a, b)
    const backward = compare(b, a)
    const mirror: Record<Ordering, Ordering> = {
      equal: 'equal', newer: 'older', older: 'newer', 'concurrent-greater': 'concurrent-lesser', 'concurrent-lesser': 'concurrent-greater'
    }
    expect(backward).toBe(mirror[forward])
  })

  it('breaks ties between concurrent vectors the same way from both sides and on every call', () => {
    const a = { 'lab-a': 2, 'lab-b': 1 }
    const b = { 'lab-a': 1, 'lab-b': 2 }
    expect(compare(a, b)).not.toBe(compare(b, a))
    expect(compare(a, b)).toBe(compare({ 'lab-b': 1, 'lab-a': 2 }, b))
  })

  it('increment raises only the given entry and leaves its input untouched', () => {
    const v = { a: 1, b: 2 }
    const w = increment(v, 'b')
    expect(w).toEqual({ a: 1, b: 3 })
    expect(v).toEqual({ a: 1, b: 2 })
    expect(increment({}, 'c')).toEqual({ c: 1 })
    expect(Object.isFrozen(w)).toBe(true)
    expect(compare(w, v)).toBe('newer')
  })

  it('merge is the pointwise maximum and dominates every input', () => {
    const a = { a: 3, b: 1 }
    const b = { b: 4, c: 2 }
    const m = merge(a, b)
    expect(m).toEqual({ a: 3, b: 4, c: 2 })
    expect(dominatesOrEquals(m, a)).toBe(true)
    expect(dominatesOrEquals(m, b)).toBe(true)
    expect(merge()).toEqual({})
    expect(merge(a)).toEqual(a)
    // merge is commutative and idempotent
    expect(merge(b, a)).toEqual(m)
    expect(merge(m, m)).toEqual(m)
    // a resolution (merge + own increment) is strictly newer than both sides
    const resolved = increment(merge(a, b), 'a')
    expect(compare(resolved, a)).toBe('newer')
    expect(compare(resolved, b)).toBe('newer')
  })

  it('counterOf treats missing entries as zero and ignores prototype keys', () => {
    expect(counterOf({ a: 2 }, 'a')).toBe(2)
    expect(counterOf({ a: 2 }, 'b')).toBe(0)
    expect(counterOf({}, 'constructor')).toBe(0)
    expect(compare({ constructor: 1 } as VersionVector, {})).toBe('newer')
  })

  it('formats vectors sorted, without zero entries', () => {
    expect(formatVector({ b: 1, a: 2, c: 0 })).toBe('a:2,b:1')
  })

  it('is transitive over random chains of edits', () => {
    // deterministic pseudo-random walk: each step increments one of three domains
    let seed = 7
    const next = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed }
    const chain: VersionVector[] = [{}]
    for (let i = 0; i < 50; i++) chain.push(increment(chain[chain.length - 1]!, ['a', 'b', 'c'][next() % 3]!))
    for (let i = 0; i < chain.length; i++) {
      for (let j = 0; j < chain.length; j++) {
        expect(compare(chain[i]!, chain[j]!)).toBe(i === j ? 'equal' : i > j ? 'newer' : 'older')
      }
    }
  })
})

describe('restore entries', () => {
  const epoch = '0a1b2c3d4e5f6071'

  it('are the domain, a ~ and the first 8 hex of the new epoch, while that fits a wire entry', () => {
    expect(restoreEntry('lab-a', epoch)).toBe('lab-a~0a1b2c3d')
    const longest = 'd'.repeat(MAX_DOMAIN_LENGTH - 9)
    expect(restoreEntry(longest, epoch)).toHaveLength(MAX_DOMAIN_LENGTH)
    expect(restoreEntry(`${longest}x`, epoch)).toBeUndefined()
    expect(restoreEntry('lab-a', 'abc')).toBeUndefined()
  })

  it('belong to their domain: domainOfEntry and hasEntryOf (positive counters only)', () => {
    expect(domainOfEntry('lab-a~0a1b2c3d')).toBe('lab-a')
    expect(domainOfEntry('lab-a')).toBe('lab-a')
    expect(hasEntryOf({ 'lab-a': 1 }, 'lab-a')).toBe(true)
    expect(hasEntryOf({ 'lab-a~0a1b2c3d': 1, 'lab-a': 0 }, 'lab-a')).toBe(true)
    expect(hasEntryOf({ 'lab-a': 0 }, 'lab-a')).toBe(false)
    expect(hasEntryOf({ 'lab-a~0a1b2c3d': 0, 'lab-b': 3 }, 'lab-a')).toBe(false)
    expect(hasEntryOf({ 'lab-ab': 2, 'lab-a-x~0a1b2c3d': 1 }, 'lab-a')).toBe(false)
  })

  it('raise: a restored agent raises its restore entry, concurrent with anything its domain wrote past the snapshot', () => {
    const snapshot = { 'lab-a': 3, 'lab-b': 1 }
    const lost = [increment(snapshot, 'lab-a'), increment(increment(snapshot, 'lab-a'), 'lab-a')]
    const once = raise(snapshot, 'lab-a~0a1b2c3d', 'lab-a')
    const twice = raise(once, 'lab-a~0a1b2c3d', 'lab-a')
    expect(twice).toEqual({ 'lab-a': 3, 'lab-b': 1, 'lab-a~0a1b2c3d': 2 })
    for (const edit of [once, twice]) for (const l of lost) expect(isConcurrent(compare(edit, l))).toBe(true)
    expect(compare(twice, once)).toBe('newer')
    // the resolution: pointwise max, plus one on the restore entry, dominates both sides
    const resolved = raise(merge(twice, lost[1]!), 'lab-a~0a1b2c3d', 'lab-a')
    expect(resolved).toEqual({ 'lab-a': 5, 'lab-b': 1, 'lab-a~0a1b2c3d': 3 })
    expect([compare(resolved, twice), compare(resolved, lost[1]!)]).toEqual(['newer', 'newer'])
    expect(Object.isFrozen(resolved)).toBe(true)
  })

  it('raise: a vector without the domain\'s entry gets domain: 0 (older peers\' signer check), which compares as absent and is dropped by the next raise', () => {
    const created = raise({}, 'lab-a~0a1b2c3d', 'lab-a')
    expect(created).toEqual({ 'lab-a~0a1b2c3d': 1, 'lab-a': 0 })
    expect(compare(created, { 'lab-a~0a1b2c3d': 1 })).toBe('equal')
    expect(formatVector(created)).toBe('lab-a~0a1b2c3d:1')
    expect(raise(created, 'lab-b', 'lab-b')).toEqual({ 'lab-a~0a1b2c3d': 1, 'lab-b': 1 })
    expect(raise({ 'lab-b': 2 }, 'lab-a~0a1b2c3d', 'lab-a')).toEqual({ 'lab-b': 2, 'lab-a~0a1b2c3d': 1, 'lab-a': 0 })
    // never restored: the domain's own entry, exactly as increment
    expect(raise({ 'lab-b': 2 }, 'lab-a', 'lab-a')).toEqual(increment({ 'lab-b': 2 }, 'lab-a'))
  })
})
