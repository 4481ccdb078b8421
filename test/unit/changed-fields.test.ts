/**
 * changedFields (protocol/changes.ts) walks the union of two data objects'
 * keys without building it (round four): the same paths as the former
 * Set-of-all-keys walk, for data with missing, added, nested and inherited
 * names (`constructor`, `toString`, an own `__proto__` from JSON.parse).
 */
import { describe, expect, it } from 'vitest'
import { changedFields, sameValue } from '../../protocol/changes.js'
import type { ObjectVersion } from '../../protocol/object.js'
import { withSeed, type Rng } from '../helpers/seeded.js'

const FILE = 'test/unit/changed-fields.test.ts'
const KEYS = ['a', 'b', 'c', 'constructor', 'toString', '__proto__', '10', 'é']

type Rec = Record<string, unknown>
const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v)

/** changedFields as it was: the reference */
function formerChangedFields (before: ObjectVersion, after: ObjectVersion): string[] {
  const out: string[] = []
  for (const field of ['type', 'id', 'parent', 'deleted'] as const) if (before[field] !== after[field]) out.push(field)
  if (!sameValue(before.refs, after.refs)) out.push('refs')
  const diff = (a: Rec, b: Rec, prefix: string): void => {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const path = `${prefix}.${key}`
      const x = a[key]
      const y = b[key]
      if (isRecord(x) && isRecord(y)) diff(x, y, path)
      else if (!sameValue(x, y)) out.push(path)
    }
  }
  diff(before.data, after.data, 'data')
  return out.sort()
}

function value (rng: Rng, depth: number): unknown {
  const kind = depth <= 0 ? rng.int(3) : rng.int(5)
  if (kind === 0) return rng.pick([1, 2, 'x', null, true])
  if (kind === 1) return rng.pick([[], [1], [1, { a: 1 }]])
  if (kind === 2) return {}
  return object(rng, depth - 1)
}

function object (rng: Rng, depth: number): Rec {
  // through JSON.parse, as data arrives: `__proto__` is then an own key
  return JSON.parse(JSON.stringify(Object.fromEntries(KEYS.filter((k) => k !== '__proto__' && rng.chance(0.4)).map((k) => [k, value(rng, depth)]))).replace(/^\{/, rng.chance(0.2) ? '{"__proto__":{"a":1},' : '{').replace(',}', '}')) as Rec
}

/** `data` with a few keys changed, dropped or added, at any depth */
function edited (data: Rec, rng: Rng, depth: number): Rec {
  const out: Rec = JSON.parse(JSON.stringify(data)) as Rec
  for (const key of Object.keys(out)) {
    if (rng.chance(0.15)) delete out[key] // eslint-disable-line @typescript-eslint/no-dynamic-delete
    else if (isRecord(out[key]) && rng.chance(0.5)) out[key] = edited(out[key], rng, depth - 1)
    else if (rng.chance(0.15)) out[key] = value(rng, depth)
  }
  if (rng.chance(0.3)) out[rng.pick(KEYS.filter((k) => k !== '__proto__'))] = value(rng, depth)
  return out
}

const version = (data: Rec, rng: Rng): ObjectVersion => ({
  uid: 'u', type: rng.pick(['A', 'B']), id: 'i', parent: rng.pick([null, 'p']), refs: rng.pick([[], ['r']]), data, vector: { a: 1 }, origin: 'o', deleted: rng.chance(0.1), at: 1
})

describe('changedFields', () => {
  it('reports the paths the former union-of-keys walk reported', async () => {
    await withSeed('changed-fields', FILE, async (rng) => {
      let changed = 0
      for (let i = 0; i < 3000; i++) {
        const data = object(rng, 3)
        const before = version(data, rng)
        const after = version(edited(data, rng, 3), rng)
        const paths = changedFields(before, after)
        expect(paths).toEqual(formerChangedFields(before, after))
        if (paths.some((p) => p.startsWith('data.'))) changed++
      }
      expect(changed).toBeGreaterThan(1000)
    })
  })
})
