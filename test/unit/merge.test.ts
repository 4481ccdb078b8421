import { describe, expect, it } from 'vitest'
import { compareThreeWay, findBase, mergeThreeWay, MergeConflictError, MergeFieldError, type MergeContent, type PastVersion } from '../../protocol/merge.js'

const content = (data: Record<string, unknown>, extra: Partial<MergeContent> = {}): MergeContent =>
  ({ type: 'AnalysisRequest', id: 'W-1', parent: null, refs: [], deleted: false, data, ...extra })

const fieldOf = (report: ReturnType<typeof compareThreeWay>, path: string): unknown => report.fields.find((f) => f.path === path)

describe('three-way field classification', () => {
  // every combination of one field's value on the three sides (undefined: the side lacks it)
  const values = [undefined, 1, 2, 3] as const
  const expected = (b: unknown, l: unknown, r: unknown, baseKnown: boolean): string => {
    if (l === r) return 'equal'
    if (!baseKnown) return 'both'
    if (b === l) return 'remote'
    if (b === r) return 'local'
    return 'both'
  }
  for (const baseKnown of [true, false]) {
    for (const b of values) {
      for (const l of values) {
        for (const r of values) {
          // a field neither side has, and no known base has, is no field at all
          if (l === undefined && r === undefined && (b === undefined || !baseKnown)) continue
          it(`base ${baseKnown ? String(b) : 'unknown'}, local ${String(l)}, remote ${String(r)}`, () => {
            const side = (v: unknown): MergeContent => content(v === undefined ? {} : { x: v })
            const base = baseKnown ? side(b) : undefined
            const report = compareThreeWay(base, side(l), side(r))
            const change = expected(b, l, r, baseKnown)
            expect(fieldOf(report, 'data.x')).toMatchObject({ path: 'data.x', change })
            expect(report.conflicting).toEqual(change === 'both' ? ['data.x'] : [])
            expect(report.autoMergeable).toEqual(change === 'local' || change === 'remote' ? ['data.x'] : [])
            if (change === 'both') {
              expect(() => mergeThreeWay(base, side(l), side(r))).toThrow(MergeConflictError)
              expect(mergeThreeWay(base, side(l), side(r), { x: 'remote' }).data).toEqual(side(r).data)
              expect(mergeThreeWay(base, side(l), side(r), { 'data.x': 'local' }).data).toEqual(side(l).data)
            } else {
              // auto takes the side that changed it; equal fields stay as they are
              expect(mergeThreeWay(base, side(l), side(r)).data).toEqual(side(change === 'remote' ? r : l).data)
            }
          })
        }
      }
    }
  }
})

describe('three-way merge of a sample', () => {
  const base = content({ result: '5.1', remarks: '', analyst: 'ann', analyses: [{ keyword: 'Ca', result: '1' }, { keyword: 'Mg', result: '2' }] })

  it('takes A\'s result and B\'s remarks with no question', () => {
    const local = content({ ...base.data, result: '5.3' })
    const remote = content({ ...base.data, remarks: 'rechecked' })
    const report = compareThreeWay(base, local, remote)
    expect(report.baseKnown).toBe(true)
    expect(report.conflicting).toEqual([])
    expect([...report.autoMergeable].sort()).toEqual(['data.remarks', 'data.result'])
    expect(fieldOf(report, 'data.result')).toEqual({ path: 'data.result', change: 'local', base: '5.1', local: '5.3', remote: '5.1' })
    expect(fieldOf(report, 'data.analyst')).toMatchObject({ change: 'equal' })
    expect(mergeThreeWay(base, local, remote).data).toEqual({ ...base.data, result: '5.3', remarks: 'rechecked' })
  })

  it('refuses the same field changed on both sides, naming it, and merges with a pick', () => {
    const local = content({ ...base.data, result: '5.3', remarks: 'x' })
    const remote = content({ ...base.data, result: '5.4' })
    let refused: unknown
    try { mergeThreeWay(base, local, remote) } catch (err) { refused = err }
    expect(refused).toBeInstanceOf(MergeConflictError)
    expect((refused as MergeConflictError).code).toBe('MERGE_CONFLICT')
    expect((refused as MergeConflictError).fields).toEqual(['data.result'])
    expect((refused as Error).message).toContain('data.result changed on both sides')
    expect(mergeThreeWay(base, local, remote, { result: 'remote' }).data).toEqual({ ...base.data, result: '5.4', remarks: 'x' })
    expect(mergeThreeWay(base, local, remote, { result: 'base', remarks: 'base' }).data).toEqual(base.data)
  })

  it('matches list elements by keyword, not by position', () => {
    // A reorders and changes Ca; B changes Mg and adds K
    const local = content({ ...base.data, analyses: [{ keyword: 'Mg', result: '2' }, { keyword: 'Ca', result: '1.5' }] })
    const remote = content({ ...base.data, analyses: [{ keyword: 'Ca', result: '1' }, { keyword: 'Mg', result: '2.5' }, { keyword: 'K', result: '9' }] })
    const report = compareThreeWay(base, local, remote)
    expect(report.conflicting).toEqual([])
    // in walk order: local's elements first
    expect(report.autoMergeable).toEqual(['data.analyses[keyword=Mg].result', 'data.analyses[keyword=Ca].result', 'data.analyses[keyword=K]'])
    // local's order, then what remote added
    expect(mergeThreeWay(base, local, remote).data.analyses).toEqual([{ keyword: 'Mg', result: '2.5' }, { keyword: 'Ca', result: '1.5' }, { keyword: 'K', result: '9' }])
  })

  it('an element removed on one side and changed on the other is a conflict of that element', () => {
    const local = content({ ...base.data, analyses: [{ keyword: 'Mg', result: '2' }] })
    const remote = content({ ...base.data, analyses: [{ keyword: 'Ca', result: '7' }, { keyword: 'Mg', result: '2' }] })
    expect(compareThreeWay(base, local, remote).conflicting).toEqual(['data.analyses[keyword=Ca]'])
    expect(mergeThreeWay(base, local, remote, { 'data.analyses[keyword=Ca]': 'local' }).data.analyses).toEqual([{ keyword: 'Mg', result: '2' }])
    // removed on one side, untouched on the other: removed
    const untouched = content({ ...base.data })
    expect(mergeThreeWay(base, local, untouched).data.analyses).toEqual([{ keyword: 'Mg', result: '2' }])
  })

  it('prefers uid over keyword, and compares a list without distinct keys whole', () => {
    const b = content({ items: [{ uid: 'u1', keyword: 'A', v: 1 }, { uid: 'u2', keyword: 'A', v: 2 }] })
    const l = content({ items: [{ uid: 'u1', keyword: 'A', v: 5 }, { uid: 'u2', keyword: 'A', v: 2 }] })
    expect(compareThreeWay(b, l, b).autoMergeable).toEqual(['data.items[uid=u1].v'])
    const dup = content({ items: [{ keyword: 'A', v: 1 }, { keyword: 'A', v: 2 }] })
    const dup2 = content({ items: [{ keyword: 'A', v: 1 }, { keyword: 'A', v: 3 }] })
    expect(compareThreeWay(dup, dup2, dup).autoMergeable).toEqual(['data.items'])
    // plain lists of scalars are one field
    expect(compareThreeWay(content({ tags: ['a'] }), content({ tags: ['a', 'b'] }), content({ tags: ['a'] })).autoMergeable).toEqual(['data.tags'])
  })

  it('walks nested objects key by key; an object on one side only is one field', () => {
    const b = content({ result: { value: '1', unit: 'mg' } })
    const l = content({ result: { value: '2', unit: 'mg' } })
    const r = content({ result: { value: '1', unit: 'g' } })
    expect(mergeThreeWay(b, l, r).data).toEqual({ result: { value: '2', unit: 'g' } })
    // deleted on one side, changed inside on the other: the object as a whole conflicts
    const gone = content({})
    expect(compareThreeWay(b, gone, l).conflicting).toEqual(['data.result'])
    // added on both sides with different keys: merged key by key
    expect(mergeThreeWay(content({}), content({ extra: { a: 1 } }), content({ extra: { b: 2 } })).data).toEqual({ extra: { a: 1, b: 2 } })
    // an odd key is quoted in its path
    expect(compareThreeWay(content({}), content({ 'a.b': 1 }), content({})).autoMergeable).toEqual(['data["a.b"]'])
  })

  it('a pick on an object takes it whole', () => {
    const b = content({ result: { value: '1', unit: 'mg' } })
    const l = content({ result: { value: '2', unit: 'mg' } })
    const r = content({ result: { value: '3', unit: 'g' } })
    expect(mergeThreeWay(b, l, r, { 'data.result': 'remote' }).data).toEqual({ result: { value: '3', unit: 'g' } })
  })

  it('top-level fields compare whole', () => {
    const b = content({}, { id: 'W-1', refs: ['c1'] })
    const l = content({}, { id: 'W-1', refs: ['c1', 'c2'] })
    const r = content({}, { id: 'W-9', refs: ['c1'] })
    const merged = mergeThreeWay(b, l, r)
    expect(merged).toMatchObject({ id: 'W-9', refs: ['c1', 'c2'], deleted: false, type: 'AnalysisRequest', parent: null })
    // a delete on one side and an edit on the other cannot be merged silently
    const del = content({}, { deleted: true })
    expect(compareThreeWay(base, del, content({ ...base.data, result: '6' })).conflicting).toContain('data.result')
  })

  it('without a base every differing field is a conflict, and base cannot be picked', () => {
    const local = content({ result: '5.3', remarks: '' })
    const remote = content({ result: '5.1', remarks: 'rechecked' })
    const report = compareThreeWay(undefined, local, remote)
    expect(report.baseKnown).toBe(false)
    expect(report.conflicting).toEqual(['data.result', 'data.remarks'])
    expect(fieldOf(report, 'data.result')).toEqual({ path: 'data.result', change: 'both', local: '5.3', remote: '5.1' })
    expect(() => mergeThreeWay(undefined, local, remote, { result: 'base', remarks: 'local' })).toThrow(MergeFieldError)
    expect(mergeThreeWay(undefined, local, remote, { result: 'local', remarks: 'remote' }).data).toEqual({ result: '5.3', remarks: 'rechecked' })
  })

  it('refuses a pick that names no field', () => {
    let refused: unknown
    try { mergeThreeWay(base, base, base, { nope: 'local' }) } catch (err) { refused = err }
    expect(refused).toBeInstanceOf(MergeFieldError)
    expect((refused as MergeFieldError).fields).toEqual(['nope'])
    expect((refused as Error).message).toContain('no such field: nope')
  })
})

describe('findBase', () => {
  const past = (vector: Record<string, number>): PastVersion => ({ ...content({ v: JSON.stringify(vector) }), vector, at: 0 })

  it('is the newest past version both sides descend from', () => {
    const kept = [past({ a: 1 }), past({ a: 2 }), past({ a: 3 })]
    expect(findBase(kept, { a: 3, b: 1 }, { a: 2, c: 1 })?.vector).toEqual({ a: 2 })
    expect(findBase(kept, { a: 3 }, { a: 3, c: 1 })?.vector).toEqual({ a: 3 })
  })

  it('is none when no kept version is below both', () => {
    expect(findBase([past({ a: 2 })], { a: 3 }, { a: 1, b: 1 })).toBeUndefined()
    expect(findBase([], { a: 1 }, { b: 1 })).toBeUndefined()
    expect(findBase([past({ a: 1, b: 1 })], { a: 2 }, { b: 2 })).toBeUndefined()
  })
})
