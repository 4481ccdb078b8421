import { describe, expect, it } from 'vitest'
import { inPastOrder, PAST_VERSIONS_KEPT, pastWrite } from '../../store/past-versions.js'
import type { ObjectWrite, StoredObject } from '../../store/types.js'
import { useTempStore } from '../helpers/temp-store.js'

const record = (vector: Record<string, number>, data: Record<string, unknown> = {}, over: Partial<StoredObject> = {}): StoredObject =>
  ({ uid: 's-1', type: 'Sample', id: 'S-1', parent: null, refs: [], data, vector, origin: 'lab-a', deleted: false, at: 0, conflicts: [], via: null, seq: 1, ...over })

describe('which write keeps a past version', () => {
  it('a newer version keeps the one it replaces, in the slot of its total edits', () => {
    expect(pastWrite(record({ a: 1 }, { r: 1 }), record({ a: 2 }), 4)).toEqual({ slot: 1, version: { type: 'Sample', id: 'S-1', parent: null, refs: [], data: { r: 1 }, deleted: false, vector: { a: 1 }, at: 0 } })
    expect(pastWrite(record({ a: 3, b: 2 }), record({ a: 4, b: 2 }), 4)?.slot).toBe(1)
  })

  it('nothing for a new object, a concurrent takeover, the same version, or none kept', () => {
    expect(pastWrite(undefined, record({ a: 1 }), 4)).toBeUndefined()
    expect(pastWrite(record({ a: 1 }), record({ b: 1 }), 4)).toBeUndefined()
    expect(pastWrite(record({ a: 1 }), record({ a: 1 }, {}, { via: 'hub' }), 4)).toBeUndefined()
    expect(pastWrite(record({ a: 1 }), record({ a: 2 }), 0)).toBeUndefined()
  })

  it('orders kept versions oldest first', () => {
    const v = (vector: Record<string, number>, at = 0): ReturnType<typeof inPastOrder>[number] => ({ type: 'T', id: 'x', parent: null, refs: [], data: {}, deleted: false, vector, at })
    expect(inPastOrder([v({ a: 3 }), v({ a: 1 }), v({ a: 1, b: 1 }, 5), v({ a: 2 }, 1)]).map((p) => p.vector)).toEqual([{ a: 1 }, { a: 2 }, { a: 1, b: 1 }, { a: 3 }])
  })
})

describe('past versions in the store', () => {
  const temp = useTempStore('lab-a')
  const put = (vector: Record<string, number>, data: Record<string, unknown>): ObjectWrite =>
    ({ uid: 's-1', type: 'Sample', id: 'S-1', parent: null, refs: [], data, vector, origin: 'lab-a', deleted: false, at: 0, conflicts: [], via: null })

  it('keeps the last PAST_VERSIONS_KEPT replaced versions; a transaction reads its own and its pipelined predecessors\' writes', async () => {
    const { store } = temp
    const edits = PAST_VERSIONS_KEPT + 3
    // pipelined: each write starts before the one before it has committed
    await Promise.all(Array.from({ length: edits }, async (_, i) => await store.write(async (tx) => {
      await tx.get('s-1')
      tx.putObject(put({ 'lab-a': i + 1 }, { n: i + 1 }))
      // what this transaction sees: every version replaced so far, up to the ring's size
      const seen = await tx.getPastVersions('s-1')
      expect(seen.map((p) => p.data.n)).toEqual(Array.from({ length: Math.min(i, PAST_VERSIONS_KEPT) }, (_, k) => i - Math.min(i, PAST_VERSIONS_KEPT) + k + 1))
    })))
    expect((await store.getPastVersions('s-1')).map((p) => p.vector['lab-a'])).toEqual(Array.from({ length: PAST_VERSIONS_KEPT }, (_, k) => edits - PAST_VERSIONS_KEPT + k))
    expect(await store.getPastVersions('nothing')).toEqual([])
  })
})
