/**
 * canonicalize copies only the objects (and the arrays holding them) that
 * are out of canonical order (protocol/canonical.ts): its result must be the
 * same JSON as the full copy it made before round four, its input left as
 * it was, and canonicalForm's `exact` must say what canonicalText would
 * find by walking the result.
 */
import { describe, expect, it } from 'vitest'
import { canonicalForm, canonicalize, canonicalJson, canonicalText, inCanonicalOrder } from '../../protocol/canonical.js'
import { withSeed, type Rng } from '../helpers/seeded.js'

const FILE = 'test/unit/canonicalize.test.ts'
const KEYS = ['a', 'b', 'B', '_', 'é', '10', '9', '0', '01', '4294967295', '-1', 'a"b', '😀', 'z']

/** canonicalize as it was: a full copy, every object's keys sorted */
function formerCanonicalize<T> (value: T): T {
  if (Array.isArray(value)) return value.map(formerCanonicalize) as T
  if (typeof value === 'object' && value !== null) {
    const rec = value as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(rec).sort()) out[k] = formerCanonicalize(rec[k])
    return out as T
  }
  return value
}

function json (rng: Rng, depth: number): unknown {
  const kind = depth === 0 ? rng.int(3) : rng.int(5)
  if (kind === 0) return rng.pick([0, -1.5, 'x', 'µ', null, true])
  if (kind === 1) return []
  if (kind === 2) return {}
  if (kind === 3) return Array.from({ length: rng.int(4) }, () => json(rng, depth - 1))
  const keys = KEYS.filter(() => rng.chance(0.35))
  // sorted most of the time (the path that keeps objects), else shuffled
  if (rng.chance(0.7)) keys.sort()
  else for (let i = keys.length - 1; i > 0; i--) { const j = rng.int(i + 1); [keys[i], keys[j]] = [keys[j]!, keys[i]!] }
  return Object.fromEntries(keys.map((k) => [k, json(rng, depth - 1)]))
}

describe('canonicalize', () => {
  it('gives the JSON of the former full copy, leaves its input alone, and knows when JSON.stringify is canonical', async () => {
    await withSeed('canonicalize', FILE, async (rng) => {
      let kept = 0
      for (let i = 0; i < 3000; i++) {
        const value = json(rng, 4)
        const before = JSON.stringify(value)
        const { value: out, exact } = canonicalForm(value)
        expect(JSON.stringify(out)).toBe(JSON.stringify(formerCanonicalize(value)))
        expect(JSON.stringify(canonicalize(value))).toBe(JSON.stringify(out))
        expect(JSON.stringify(value)).toBe(before)
        expect(exact).toBe(inCanonicalOrder(out))
        expect(exact ? JSON.stringify(out) : canonicalJson(out)).toBe(canonicalText(formerCanonicalize(value)))
        if (out === value && typeof value === 'object' && value !== null) kept++
      }
      expect(kept).toBeGreaterThan(100)
    })
  })

  it('copies an object with a __proto__ key as before (the key does not survive a copy)', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"a":1}') as Record<string, unknown>
    expect(JSON.stringify(canonicalize(value))).toBe(JSON.stringify(formerCanonicalize(value)))
    expect(JSON.stringify(canonicalize([value]))).toBe(JSON.stringify(formerCanonicalize([value])))
  })
})
