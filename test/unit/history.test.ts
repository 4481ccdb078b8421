/**
 * Which history entries a write adds (store/history.ts) and which fields
 * changed (protocol/changes.ts): pure functions, case by case.
 */
import { describe, expect, it } from 'vitest'
import { changedFields, sameValue } from '../../protocol/changes.js'
import type { ObjectVersion } from '../../protocol/object.js'
import { appendEntries, entriesForWrite, rejectedEntry, seededEntries } from '../../store/history.js'
import type { StoredObject } from '../../store/types.js'

const v = (vector: Record<string, number>, data: Record<string, unknown> = {}, extra: Partial<ObjectVersion> = {}): ObjectVersion => ({
  uid: 'u', type: 'Sample', id: 'S-1', parent: null, refs: [], data, vector, origin: 'lab-a', deleted: false, at: 5, ...extra
})
const rec = (current: ObjectVersion, conflicts: ObjectVersion[] = [], via: string | null = 'hub'): StoredObject => ({ ...current, conflicts, via, seq: 1 })
const ctx = { appliedAt: 100, source: 'hub', domain: 'lab-b' }
const sig = { by: 'lab-c', peer: 'P', h: 'h'.repeat(43), sig: 's'.repeat(86) }

describe('changed fields', () => {
  it('names top-level fields and data paths, descending into nested objects only', () => {
    const a = v({}, { x: 1, nested: { deep: { k: 1, same: 2 } }, list: [1, 2], gone: true })
    const b = v({}, { x: 1, nested: { deep: { k: 2, same: 2 }, added: null }, list: [1, 3], fresh: 'y' }, { id: 'S-2', refs: ['r'], deleted: true })
    expect(changedFields(a, b)).toEqual(['data.fresh', 'data.gone', 'data.list', 'data.nested.added', 'data.nested.deep.k', 'deleted', 'id', 'refs'])
    expect(changedFields(a, a)).toEqual([])
    // an object replaced by a scalar is one change at its path
    expect(changedFields(v({}, { o: { a: 1 } }), v({}, { o: 1 }))).toEqual(['data.o'])
  })

  it('compares JSON values deeply, key order ignored', () => {
    expect(sameValue({ a: [1, { b: 2 }], c: null }, { c: null, a: [1, { b: 2 }] })).toBe(true)
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(false)
    expect(sameValue([1], { 0: 1 })).toBe(false)
    expect(sameValue(null, {})).toBe(false)
  })
})

describe('history entries of a write', () => {
  it('a first version: one entry, nothing changed yet; origin from its signature, else the one entry it raised', () => {
    expect(entriesForWrite(undefined, rec(v({ 'lab-a': 1 })), ctx)).toEqual([{
      event: 'version', vector: { 'lab-a': 1 }, deleted: false, id: 'S-1', origin: 'lab-a', peerId: null, signature: 'unsigned', at: 5, appliedAt: 100, via: 'hub', changed: null
    }])
    expect(entriesForWrite(undefined, rec(v({ 'lab-a': 1, 'lab-c': 1 }, {}, { sig })), ctx)[0]).toMatchObject({ origin: 'lab-c', peerId: 'P', signature: 'valid' })
    expect(entriesForWrite(undefined, rec(v({ 'lab-a': 1, 'lab-c': 1 })), ctx)[0]!.origin).toBeNull()
    // an unsigned version that raised a restore entry was made by that entry's domain
    expect(entriesForWrite(rec(v({ 'lab-a': 1 })), rec(v({ 'lab-a': 1, 'lab-c~0a1b2c3d': 1 })), ctx)[0]!.origin).toBe('lab-c')
    // written here: this agent is its origin
    expect(entriesForWrite(undefined, rec(v({ 'lab-a': 1, 'lab-c': 1 }), [], null), ctx)[0]).toMatchObject({ origin: 'lab-b', via: null })
  })

  it('a fast-forward: a version entry with the changed fields; a store-local change adds nothing', () => {
    const prev = rec(v({ 'lab-a': 1 }, { r: 1 }))
    expect(entriesForWrite(prev, rec(v({ 'lab-a': 2 }, { r: 2 })), ctx).map((e) => [e.event, e.origin, e.changed])).toEqual([['version', 'lab-a', ['data.r']]])
    expect(entriesForWrite(prev, { ...prev, via: 'other' }, ctx)).toEqual([])
  })

  it('a concurrent version: kept beside (conflict, relayed by the source) or taking over (conflict)', () => {
    const prev = rec(v({ 'lab-a': 1 }, { r: 1 }))
    const sibling = v({ 'lab-c': 1 }, { r: 3 })
    expect(entriesForWrite(prev, rec(prev, [sibling]), ctx).map((e) => [e.event, e.origin, e.via, e.changed])).toEqual([['conflict', 'lab-c', 'hub', ['data.r']]])
    expect(entriesForWrite(prev, rec(sibling, [prev], 'hub'), ctx).map((e) => [e.event, e.origin])).toEqual([['conflict', 'lab-c']])
  })

  it('a resolution: a version newer than every one held, clearing the siblings', () => {
    const prev = rec(v({ 'lab-a': 1 }, { r: 1 }), [v({ 'lab-c': 1 }, { r: 3 })])
    const resolved = v({ 'lab-a': 1, 'lab-c': 1, 'lab-b': 1 }, { r: 3 })
    expect(entriesForWrite(prev, rec(resolved, [], null), ctx).map((e) => [e.event, e.origin, e.changed])).toEqual([['resolution', 'lab-b', ['data.r']]])
  })

  it('refused and seeded versions; rows keep the newest entries', () => {
    const bad = rejectedEntry(v({ 'lab-a': 2 }, { r: 9 }, { sig: { ...sig, by: 'lab-a' } }), { appliedAt: 7, via: 'hub', reason: 'changed after signing', held: v({ 'lab-a': 1 }, { r: 1 }) })
    expect(bad).toMatchObject({ event: 'rejected', signature: 'bad', origin: 'lab-a', via: 'hub', changed: ['data.r'], reason: 'changed after signing' })
    expect(seededEntries(rec(v({ 'lab-a': 1 }), [v({ 'lab-c': 1 }, {}, { sig, id: 'A-S-1' })])).map((e) => [e.event, e.via, e.signature, e.appliedAt])).toEqual([['seeded', 'hub', 'unsigned', null], ['seeded', null, 'valid', null]])
    const entries = [1, 2, 3, 4].map((n) => ({ ...bad, appliedAt: n }))
    expect(appendEntries(entries.slice(0, 3), [entries[3]!], 3).map((e) => e.appliedAt)).toEqual([2, 3, 4])
    expect(appendEntries(undefined, entries.slice(0, 2), 3).map((e) => e.appliedAt)).toEqual([1, 2])
  })
})
