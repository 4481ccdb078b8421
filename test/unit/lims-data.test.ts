/**
 * The LIMS-like generator: deterministic, dependency-ordered, ~1 KiB per
 * object, lazy; edits keep identity and vector.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  createRng, editObject, generateLimsObjects, isEditable, limsUid, planLimsSetup, type LimsDataOptions
} from '../../agent/demo/lims-data.js'
import type { ObjectVersion } from '../../protocol/object.js'

const base: LimsDataOptions = { domain: 'lab-a', seed: 42, count: 20_000 }

function collect (options: LimsDataOptions): ObjectVersion[] {
  return [...generateLimsObjects(options)]
}

function take (iter: Iterator<ObjectVersion>, n: number): ObjectVersion[] {
  const out: ObjectVersion[] = []
  for (let r = iter.next(); !r.done && out.length < n; r = iter.next()) out.push(r.value)
  return out
}

describe('generateLimsObjects', () => {
  it('is deterministic for the same options', () => {
    const a = JSON.stringify(collect({ ...base, count: 5_000 }))
    const b = JSON.stringify(collect({ ...base, count: 5_000 }))
    expect(a).toBe(b)
  })

  it('still produces the pinned data set (benchmark figures stay comparable across commits)', () => {
    // If this fails on purpose (vocabulary or generator changed), update the hash and say so in the commit:
    // earlier benchmark figures were measured on different data.
    const hash = createHash('sha256')
    for (const o of generateLimsObjects({ domain: 'lab-a', seed: 1, count: 2_000 })) hash.update(JSON.stringify(o) + '\n')
    expect(hash.digest('hex')).toBe('ca356546ac56cb8f7f1aa069d9bddad78aa8ae8909c9f017841a7d7ff4826053')
  })

  it('differs by seed and by domain', () => {
    const a = collect({ ...base, count: 300 })
    const b = collect({ ...base, count: 300, seed: 43 })
    const c = collect({ ...base, count: 300, domain: 'lab-b' })
    expect(a[0]?.uid).not.toBe(b[0]?.uid)
    expect(a[0]?.uid).not.toBe(c[0]?.uid)
    expect(JSON.stringify(a.map((o) => o.data))).not.toBe(JSON.stringify(b.map((o) => o.data)))
  })

  it('a longer stream with the same set-up plan starts with the shorter one', () => {
    const short = collect({ ...base, count: 1_000 })
    const long = take(generateLimsObjects({ ...base, count: 1_000 + 50 }), 1_000)
    expect(JSON.stringify(long)).toBe(JSON.stringify(short))
  })

  it('yields exactly count objects with well-formed envelopes and unique uids', () => {
    const objects = collect(base)
    expect(objects).toHaveLength(base.count)
    const uids = new Set<string>()
    objects.forEach((o, i) => {
      expect(o.uid).toMatch(/^[0-9a-f]{32}$/)
      expect(o.uid).toBe(limsUid(base.domain, base.seed, i))
      expect(o.vector).toEqual({ [base.domain]: 1 })
      expect(o.origin).toBe(base.domain)
      expect(o.deleted).toBe(false)
      expect(Number.isSafeInteger(o.at)).toBe(true)
      uids.add(o.uid)
    })
    expect(uids.size).toBe(objects.length)
  })

  it('emits every parent and ref before the object that needs it', () => {
    const seen = new Set<string>()
    for (const o of generateLimsObjects(base)) {
      if (o.parent !== null) expect(seen.has(o.parent)).toBe(true)
      for (const ref of o.refs) expect(seen.has(ref)).toBe(true)
      seen.add(o.uid)
    }
  })

  it('stays in dependency order when count cuts the set-up short', () => {
    for (const count of [0, 1, 5, 30, planLimsSetup(200).total + 3]) {
      const seen = new Set<string>()
      const objects = collect({ ...base, count })
      expect(objects).toHaveLength(count)
      for (const o of objects) {
        for (const ref of [...o.refs, ...(o.parent === null ? [] : [o.parent])]) expect(seen.has(ref)).toBe(true)
        seen.add(o.uid)
      }
    }
  })

  it('produces the set-up, then mostly samples and analyses with the right links', () => {
    const objects = collect(base)
    const byUid = new Map(objects.map((o) => [o.uid, o]))
    const counts = new Map<string, number>()
    for (const o of objects) counts.set(o.type, (counts.get(o.type) ?? 0) + 1)
    for (const type of ['LabContact', 'Department', 'AnalysisCategory', 'AnalysisService', 'SampleType', 'Client', 'Contact']) {
      expect(counts.get(type) ?? 0).toBeGreaterThan(0)
    }
    const bulk = (counts.get('AnalysisRequest') ?? 0) + (counts.get('Analysis') ?? 0)
    expect(bulk / objects.length).toBeGreaterThan(0.95)
    expect(counts.get('Analysis') ?? 0).toBeGreaterThan(counts.get('AnalysisRequest') ?? 0)
    for (const o of objects) {
      if (o.type === 'AnalysisRequest') {
        expect(byUid.get(o.parent ?? '')?.type).toBe('Client')
        expect(o.refs.map((r) => byUid.get(r)?.type).slice(0, 3)).toEqual(['Client', 'Contact', 'SampleType'])
        expect(o.refs.slice(3).every((r) => byUid.get(r)?.type === 'AnalysisService')).toBe(true)
        expect(Array.isArray(o.data.review_history)).toBe(true)
      }
      if (o.type === 'Analysis') {
        expect(byUid.get(o.parent ?? '')?.type).toBe('AnalysisRequest')
        expect(typeof o.data.Keyword).toBe('string')
        expect(typeof o.data.Unit).toBe('string')
      }
    }
  })

  it('averages about 1 KiB of JSON per object', () => {
    let bytes = 0
    let n = 0
    for (const o of generateLimsObjects(base)) {
      bytes += Buffer.byteLength(JSON.stringify(o))
      n++
    }
    const avgKiB = bytes / n / 1024
    expect(avgKiB).toBeGreaterThanOrEqual(0.8)
    expect(avgKiB).toBeLessThanOrEqual(1.3)
  })

  it('is lazy: a billion-object stream yields its first objects at once', () => {
    const stream = generateLimsObjects({ ...base, count: 1_000_000_000 })
    expect(Array.isArray(stream)).toBe(false)
    expect(typeof stream.next).toBe('function')
    const started = performance.now()
    const first = take(stream, 5_000)
    expect(first).toHaveLength(5_000)
    // Materialising 1e9 objects would take hours and run out of memory; a lazy stream takes milliseconds.
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('rejects a bad count', () => {
    expect(() => collect({ ...base, count: -1 })).toThrow(RangeError)
  })
})

describe('editObject', () => {
  const objects = collect({ ...base, count: 3_000 })
  const editable = objects.filter(isEditable)

  it('appends one transition, keeps identity and vector, moves at forward', () => {
    const rng = createRng(7)
    for (const o of editable.slice(0, 500)) {
      const before = JSON.stringify(o)
      const edited = editObject(o, rng)
      expect(JSON.stringify(o)).toBe(before)
      for (const key of ['uid', 'type', 'id', 'parent', 'origin', 'deleted'] as const) expect(edited[key]).toBe(o[key])
      expect(edited.vector).toBe(o.vector)
      expect(edited.refs).toBe(o.refs)
      expect(edited.at).toBeGreaterThan(o.at)
      const h0 = o.data.review_history as unknown[]
      const h1 = edited.data.review_history as { review_state: string }[]
      expect(h1).toHaveLength(h0.length + 1)
      expect(edited.data.review_state).toBe(h1[h1.length - 1]?.review_state)
    }
  })

  it('gives an analysis a result when it is submitted', () => {
    const rng = createRng(8)
    const pending = editable.find((o) => o.type === 'Analysis' && o.data.review_state === 'unassigned')
    expect(pending).toBeDefined()
    const edited = editObject(pending as ObjectVersion, rng)
    expect(edited.data.review_state).toBe('to_be_verified')
    expect(edited.data.Result).not.toBe('')
  })

  it('is deterministic for the same rng seed and can be repeated', () => {
    const o = editable[0] as ObjectVersion
    const a = editObject(editObject(o, createRng(9)), createRng(10))
    const b = editObject(editObject(o, createRng(9)), createRng(10))
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
  })

  it('edits other types without touching their vector', () => {
    const client = objects.find((o) => o.type === 'Client') as ObjectVersion
    const edited = editObject(client, createRng(1))
    expect(edited.vector).toBe(client.vector)
    expect(edited.data).not.toEqual(client.data)
  })
})

describe('createRng', () => {
  it('repeats for a seed and stays in range', () => {
    const a = createRng(123)
    const b = createRng(123)
    for (let i = 0; i < 1_000; i++) {
      const x = a.next()
      expect(x).toBe(b.next())
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
      const k = a.between(3, 5)
      b.between(3, 5)
      expect(k).toBeGreaterThanOrEqual(3)
      expect(k).toBeLessThanOrEqual(5)
    }
  })
})
