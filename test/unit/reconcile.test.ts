import { describe, expect, it } from 'vitest'
import type { ObjectVersion } from '../../protocol/object.js'
import { increment, merge, raise, type VersionVector } from '../../protocol/version-vector.js'
import { holdsConflict, reconcile, type Holding } from '../../protocol/reconcile.js'

function v (vector: VersionVector, data: Record<string, unknown> = {}, extra: Partial<ObjectVersion> = {}): ObjectVersion {
  return { uid: 'u', type: 'T', id: 'i', parent: null, refs: [], data, vector, origin: 'a', deleted: false, at: 0, ...extra }
}

const hold = (current: ObjectVersion, ...conflicts: ObjectVersion[]): Holding => ({ current, conflicts })

/** The distinct sets of versions held after `versions` arrive one by one, in every order (each set as sorted JSON of `key`). */
function finalSets (versions: ObjectVersion[], key: (v: ObjectVersion) => unknown): string[] {
  const perms = (xs: ObjectVersion[]): ObjectVersion[][] => xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]))
  const finals = new Set<string>()
  for (const order of perms(versions)) {
    let h: Holding | undefined
    for (const version of order) {
      const r = reconcile(h, [version])
      if (r.changed) h = r.holding
    }
    finals.add(JSON.stringify([h!.current, ...h!.conflicts].map(key).sort((p, q) => JSON.stringify(p).localeCompare(JSON.stringify(q)))))
  }
  return [...finals]
}

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
    expect(finalSets(versions, (x) => x.vector)).toEqual([JSON.stringify([{ a: 2, b: 1, c: 1 }])])
  })
})

describe('reconcile: equal vectors with other content (a restored agent reused a counter)', () => {
  const V = { a: 3, b: 1 }
  // the write the restore lost, and the restored agent's edit that reused its vector
  const lost = v(V, { side: 'lost' }, { at: 100 })
  const edit = v(V, { side: 'edit' }, { at: 200 })

  it('keeps the other content as a sibling, never replacing the local version', () => {
    const result = reconcile(hold(lost), [edit])
    expect(result).toMatchObject({ changed: true, currentReplaced: false, newConflicts: 1 })
    if (result.changed) {
      expect(result.holding).toEqual(hold(lost, edit))
      expect(holdsConflict(result.holding)).toBe(true)
    }
    // and the same the other way round
    const back = reconcile(hold(edit), [lost])
    expect(back.changed && back.holding).toEqual(hold(edit, lost))
  })

  it('a copy of the same version is no conflict, whatever id a prefix rule presents or how its data keys are ordered', () => {
    const here = v(V, { a: 1, b: 2 }, { at: 100 })
    expect(reconcile(hold(here), [v(V, { b: 2, a: 1 }, { at: 100, id: 'lab-x-i' })]).changed).toBe(false)
    expect(holdsConflict(hold(here))).toBe(false)
  })

  it('a copy of the same signed version is no conflict, whatever its signature group', () => {
    const sig = { by: 'a', peer: 'p', h: 'H1', sig: 'S1' }
    const here = v(V, { x: 1 }, { sig })
    expect(reconcile(hold(here), [v(V, { x: 1 }, { sig: { ...sig, sig: 'S2', i: 1, n: 2, p: 'x' } })]).changed).toBe(false)
    // another signed content hash under the same vector is another version
    const other = reconcile(hold(here), [v(V, { x: 2 }, { sig: { ...sig, h: 'H2' } })])
    expect(other).toMatchObject({ changed: true, newConflicts: 1 })
  })

  it('a tombstone and an edit with one vector are a conflict', () => {
    const tomb = v(V, {}, { deleted: true, at: 100 })
    const result = reconcile(hold(tomb), [v(V, {}, { at: 100 })])
    expect(result.changed && result.holding.conflicts).toHaveLength(1)
  })

  it('does not add the sibling twice, from either side\'s current version', () => {
    expect(reconcile(hold(lost, edit), [edit]).changed).toBe(false)
    expect(reconcile(hold(lost, edit), [edit, lost]).changed).toBe(false)
    expect(reconcile(hold(edit, lost), [lost, edit]).changed).toBe(false)
  })

  it('travels: an agent new to the uid takes both; an agent holding one learns the other', () => {
    const fresh = reconcile(undefined, [edit, lost])
    expect(fresh.changed && fresh.holding).toEqual(hold(edit, lost))
    const holder = reconcile(hold(lost), [edit, lost])
    expect(holder.changed && holder.holding).toEqual(hold(lost, edit))
  })

  it('an older version of either is known already', () => {
    expect(reconcile(hold(lost, edit), [v({ a: 2, b: 1 })]).changed).toBe(false)
  })

  it('a resolution (pointwise max plus one) replaces both', () => {
    const resolved = v({ a: 4, b: 1 }, { side: 'merged' })
    const result = reconcile(hold(lost, edit), [resolved])
    expect(result.changed && result.holding).toEqual(hold(resolved))
    expect(result.changed && result.currentReplaced).toBe(true)
  })

  it('a concurrent third version joins both', () => {
    const third = v({ a: 2, b: 2 })
    const result = reconcile(hold(lost, edit), [third])
    expect(result.changed && result.holding).toEqual(hold(lost, edit, third))
    expect(result.changed && result.newConflicts).toBe(1)
  })

  it('ends with the same versions whatever the order of arrival', () => {
    const versions = [v({ a: 2, b: 1 }), lost, edit, v({ a: 2, b: 2 })]
    const finals = finalSets(versions, (x) => [x.vector, x.data])
    expect(finals).toHaveLength(1)
    expect(JSON.parse(finals[0]!)).toHaveLength(3)
  })
})

describe('reconcile: a restored agent raises its restore entry (counters that do not meet exactly)', () => {
  // the snapshot held X at {a: 3}; the original then wrote lost1 {a: 4} (and lost2 {a: 5}); the restored agent raises a~t
  const snapshot = { a: 3, b: 1 }
  const lost1 = v(increment(snapshot, 'a'), { side: 'lost-1' })
  const lost2 = v(increment(lost1.vector, 'a'), { side: 'lost-2' })
  const edit1 = v(raise(snapshot, 'a~t', 'a'), { side: 'edit-1' })
  const edit2 = v(raise(edit1.vector, 'a~t', 'a'), { side: 'edit-2' })

  it('two edits against one lost write: a conflict on either side, never a fast-forward', () => {
    for (const [local, incoming] of [[lost1, edit2], [edit2, lost1]] as const) {
      const r = reconcile(hold(local), [incoming])
      expect(r.changed && r.holding).toEqual(hold(local, incoming))
      expect(r.changed && holdsConflict(r.holding)).toBe(true)
    }
    // the restored agent's first edit, relayed after its second, is known already
    expect(reconcile(hold(edit2, lost1), [edit1]).changed).toBe(false)
  })

  it('one edit against two lost writes: a conflict on either side, never replaced', () => {
    for (const [local, incoming] of [[lost2, edit1], [edit1, lost2]] as const) {
      const r = reconcile(hold(local), [incoming])
      expect(r.changed && r.holding).toEqual(hold(local, incoming))
    }
    // the first lost write, arriving after the second, is known already
    expect(reconcile(hold(edit1, lost2), [lost1]).changed).toBe(false)
  })

  it('ends with the same versions whatever the order of arrival, and the resolution replaces them all', () => {
    const finals = finalSets([lost1, lost2, edit1, edit2], (x) => x.data)
    expect(finals).toEqual([JSON.stringify([{ side: 'edit-2' }, { side: 'lost-2' }])])
    const resolved = v(raise(merge(edit2.vector, lost2.vector), 'a~t', 'a'), { side: 'merged' })
    const r = reconcile(hold(edit2, lost2), [resolved])
    expect(r.changed && r.holding).toEqual(hold(resolved))
  })

  it('a write made after catching up descends from what it was made over: no conflict', () => {
    const caughtUp = reconcile(hold(v(snapshot)), [lost2])
    expect(caughtUp.changed && caughtUp.holding).toEqual(hold(lost2))
    const next = v(raise(lost2.vector, 'a~t', 'a'), { side: 'next' })
    const onPeer = reconcile(hold(lost2), [next])
    expect(onPeer.changed && onPeer.holding).toEqual(hold(next))
    expect(onPeer.changed && holdsConflict(onPeer.holding)).toBe(false)
  })
})
