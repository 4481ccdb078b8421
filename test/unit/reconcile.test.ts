import { describe, expect, it } from 'vitest'
import type { ObjectVersion } from '../../protocol/object.js'
import type { VersionVector } from '../../protocol/version-vector.js'
import { reconcile, type Holding } from '../../protocol/reconcile.js'

function v (vector: VersionVector, data: Record<string, unknown> = {}, extra: Partial<ObjectVersion> = {}): ObjectVersion {
  return { uid: 'u', type: 'T', id: 'i', parent: null, refs: [], data, vector, origin: 'a', deleted: false, at: 0, ...extra }
}

const hold = (current: ObjectVersion, ...conflicts: ObjectVersion[]): Holding => ({ current, conflicts })

describe('reconcile (DESIGN: vectors and conflicts)', () => {
  it('applies a version for a uid we do not hold', () => {
    const r = v({ a: 1 })
    const result = reconcile(undefined, [r])
    expect(result).toMatchObject({ changed: true, currentReplaced: true, newConflicts: 0 })
    if (result.changed) expect(result.holding).toEqual(hold(r))
  })

  it('fast-forwards to a newer version', () => {
    const l = v({ a: 1 }, { x: 1 })
    const r = v({ a: 2 }, { x: 2 })
    const result = reconcile(hold(l), [r])
    expect(result.changed && result.holding.current).toBe(r)
    expect(result.changed && result.currentReplaced).toBe(true)
  })

  it('ignores an equal or older version', () => {
    const l = v({ a: 2, b: 1 })
    expect(reconcile(hold(l), [v({ a: 2, b: 1 })]).changed).toBe(false)
    expect(reconcile(hold(l), [v({ a: 1 })]).changed).toBe(false)
    expect(reconcile(hold(l), [v({ b: 1 })]).changed).toBe(false)
  })

  it('keeps a concurrent version as a sibling and never overwrites the local one', () => {
    const l = v({ a: 2, b: 1 }, { side: 'a' })
    const r = v({ a: 1, b: 2 }, { side: 'b' })
    const result = reconcile(hold(l), [r])
    expect(result).toMatchObject({ changed: true, currentReplaced: false, newConflicts: 1 })
    if (result.changed) expect(result.holding).toEqual(hold(l, r))
  })

  it('does not add a sibling twice', () => {
    const l = v({ a: 2, b: 1 })
    const r = v({ a: 1, b: 2 })
    expect(reconcile(hold(l, r), [r]).changed).toBe(false)
    // nor an older version of an existing sibling
    expect(reconcile(hold(l, r), [v({ a: 1, b: 1 })]).changed).toBe(false)
  })

  it('a newer sibling replaces the older sibling', () => {
    const l = v({ a: 2, b: 1 })
    const r1 = v({ a: 1, b: 2 })
    const r2 = v({ a: 1, b: 3 })
    const result = reconcile(hold(l, r1), [r2])
    expect(result.changed && result.holding).toEqual(hold(l, r2))
    expect(result.changed && result.newConflicts).toBe(1)
  })

  it('a resolution that dominates both sides clears the conflict', () => {
    const l = v({ a: 2, b: 1 })
    const r = v({ a: 1, b: 2 })
    const resolved = v({ a: 3, b: 2 })
    const result = reconcile(hold(l, r), [resolved])
    expect(result.changed && result.holding).toEqual(hold(resolved))
  })

  it('a version newer than the current but concurrent with a sibling keeps the sibling', () => {
    const l = v({ a: 2, b: 1 })
    const r = v({ a: 1, b: 2 })
    const l2 = v({ a: 3, b: 1 })
    const result = reconcile(hold(l, r), [l2])
    expect(result.changed && result.holding).toEqual(hold(l2, r))
    expect(result.changed && result.newConflicts).toBe(0)
  })

  it('takes a sender\'s current version and its siblings together (conflicts travel)', () => {
    const a = v({ a: 2, b: 1 })
    const b = v({ a: 1, b: 2 })
    const fresh = reconcile(undefined, [a, b])
    expect(fresh.changed && fresh.holding).toEqual(hold(a, b))
    // an agent that holds one side learns the other
    const holderOfB = reconcile(hold(b), [a, b])
    expect(holderOfB.changed && holderOfB.holding).toEqual(hold(b, a))
  })

  it('tombstones follow the same rules as edits', () => {
    const l = v({ a: 1 })
    const tomb = v({ a: 2 }, {}, { deleted: true })
    const result = reconcile(hold(l), [tomb])
    expect(result.changed && result.holding.current.deleted).toBe(true)
    const concurrentEdit = v({ a: 1, b: 1 })
    const both = reconcile(hold(tomb), [concurrentEdit])
    expect(both.changed && both.holding).toEqual(hold(tomb, concurrentEdit))
  })

  it('ends in the same set of versions whatever the order of arrival', () => {
    const versions = [v({ a: 1 }), v({ a: 2 }), v({ a: 1, b: 1 }), v({ a: 2, c: 1 }), v({ a: 2, b: 1, c: 1 })]
    const perms = (xs: ObjectVersion[]): ObjectVersion[][] => xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]))
    const finals = new Set<string>()
    for (const order of perms(versions)) {
      let h: Holding | undefined
      for (const version of order) {
        const r = reconcile(h, [version])
        if (r.changed) h = r.holding
      }
      finals.add(JSON.stringify([h!.current, ...h!.conflicts].map((x) => x.vector).sort((p, q) => JSON.stringify(p).localeCompare(JSON.stringify(q)))))
    }
    expect([...finals]).toEqual([JSON.stringify([{ a: 2, b: 1, c: 1 }])])
  })
})
