/**
 * The echo-loop guard's decision (agent/apply/echo-guard.ts) as a table:
 * what makes a bounce and what breaks a streak, when a loop trips, how a
 * hold is kept, ended by a person's edit or by an admin, and resumed by
 * learned fields; the field digests it compares; and simulations of two
 * instances (a loop trips within a few round trips; labs editing fast,
 * alone or against each other, never trip it).
 */
import { describe, expect, it } from 'vitest'
import { afterAdminRelease, afterRecord, afterWrite, changedFields, decideEcho, digestFields, type EchoDecision, type EchoGuardOptions, type EchoMemory, type FieldDigests, type Observation } from '../../agent/apply/echo-guard.js'
import type { VersionVector } from '../../protocol/version-vector.js'

const OPTS: EchoGuardOptions = { bounces: 3, windowMs: 1_000, roundTripMs: 60_000 }

const fields = (data: Record<string, unknown>, extra: { deleted?: boolean, refs?: string[], id?: string } = {}): FieldDigests =>
  digestFields({ type: 'Sample', id: extra.id ?? 'S-1', parent: null, refs: extra.refs ?? [], data, deleted: extra.deleted ?? false })

const observe = (now: number, current: Observation['current'], data: Record<string, unknown>, deleted = false): Observation => ({ now, current, reported: fields(data, { deleted }), deleted })
const remote = (vector: VersionVector, data: Record<string, unknown>, via = 'lab-b'): Observation['current'] => ({ vector, via, fields: fields(data) })
const own = (vector: VersionVector, data: Record<string, unknown>): Observation['current'] => ({ vector, via: null, fields: fields(data) })

/**
 * One agent's side of a loop: it recorded `date` = ours, the peer sent back
 * `date` = theirs (one more edit on its entry), the agent wrote that into
 * its instance at `t`, and the instance reports `date` = ours at `t + lag`.
 */
class Side {
  memory: EchoMemory = {}
  a = 0
  b = 0
  t = 0

  /** the agent records the lab's first edit */
  start (data: Record<string, unknown>): void {
    this.a++
    this.memory = afterRecord(this.memory, { 'lab-a': this.a }, fields(data), this.t)
  }

  /** a version comes back from lab-b with `back`, is written, and the instance reports `reported` `lag` ms later */
  round (back: Record<string, unknown>, reported: Record<string, unknown>, options: { lag?: number, gap?: number } = {}): EchoDecision {
    this.b++
    this.t += options.gap ?? 100
    this.memory = afterWrite(this.memory, this.t)
    this.t += options.lag ?? 50
    const decision = decideEcho(this.memory, observe(this.t, remote({ 'lab-a': this.a, 'lab-b': this.b }, back), reported), OPTS)
    this.memory = decision.memory
    if (decision.action === 'record') {
      this.a++
      this.memory = afterRecord(this.memory, { 'lab-a': this.a, 'lab-b': this.b }, fields(reported), this.t)
    }
    return decision
  }
}

describe('echo-loop guard: what is a bounce', () => {
  it('an instance edit of a new object, or on our own version, is recorded and breaks a streak', () => {
    const streak: EchoMemory = { streak: { signature: { echo: ['data.date'], back: ['data.date'] }, bounces: 2 } }
    expect(decideEcho({}, observe(10, undefined, { t: 1 }), OPTS)).toEqual({ action: 'record', memory: {} })
    const d = decideEcho(streak, observe(10, own({ 'lab-a': 3 }, { t: 1 }), { t: 2 }), OPTS)
    expect(d.action).toBe('record')
    expect(d.memory.streak).toBeUndefined()
  })

  it('three prompt returns with the same fields trip it: held, with the fields learned', () => {
    const side = new Side()
    side.start({ date: 'ours', x: 1 })
    expect(side.round({ date: 'theirs', x: 1 }, { date: 'ours', x: 1 })).toMatchObject({ action: 'record', memory: { streak: { bounces: 1 } } })
    expect(side.round({ date: 'theirs', x: 1 }, { date: 'ours', x: 1 })).toMatchObject({ action: 'record', memory: { streak: { bounces: 2 } } })
    const third = side.round({ date: 'theirs', x: 1 }, { date: 'ours', x: 1 })
    expect(third.action).toBe('hold')
    expect(third).toMatchObject({ event: 'tripped', memory: { learned: { echo: ['data.date'], back: ['data.date'] }, hold: { bounces: 3, resumed: false, signature: { echo: ['data.date'], back: ['data.date'] }, on: { 'lab-a': 3, 'lab-b': 3 } } } })
    expect(third.memory.streak).toBeUndefined()
  })

  it('a loop whose values drift (a stamp on every write) trips as well: the fields repeat, not the values', () => {
    const side = new Side()
    side.start({ stamp: 0 })
    let decision: EchoDecision | undefined
    for (let i = 1; i <= 3; i++) decision = side.round({ stamp: i * 10 }, { stamp: i * 10 + 1 })
    expect(decision!.action).toBe('hold')
  })

  it('a loop over different fields on each side (echo ≠ back) trips', () => {
    const side = new Side()
    side.start({ mine: 0, theirs: 0 })
    let decision: EchoDecision | undefined
    for (let i = 1; i <= 3; i++) decision = side.round({ mine: i - 1, theirs: i }, { mine: i, theirs: i })
    expect(decision).toMatchObject({ action: 'hold', memory: { hold: { signature: { echo: ['data.mine'], back: ['data.theirs'] } } } })
  })

  it('bounces: 2 trips on the second bounce', () => {
    const side = new Side()
    side.start({ d: 1 })
    expect(side.round({ d: 2 }, { d: 1 }).action).toBe('record')
    const memory = side.memory
    const d = decideEcho(afterWrite(memory, side.t + 100), observe(side.t + 120, remote({ 'lab-a': 2, 'lab-b': 2 }, { d: 2 }), { d: 1 }), { ...OPTS, bounces: 2 })
    expect(d.action).toBe('hold')
  })

  it('an edit reported after the window is a person, not an echo: the streak breaks', () => {
    const side = new Side()
    side.start({ d: 1 })
    side.round({ d: 2 }, { d: 1 })
    side.round({ d: 2 }, { d: 1 })
    const late = side.round({ d: 2 }, { d: 1 }, { lag: OPTS.windowMs + 1 })
    expect(late.action).toBe('record')
    expect(late.memory.streak).toBeUndefined()
  })

  it('with no write of ours noted (e.g. after a restart) nothing is prompt', () => {
    const memory = afterRecord({}, { 'lab-a': 1 }, fields({ d: 1 }), 0)
    const d = decideEcho(memory, observe(10, remote({ 'lab-a': 1, 'lab-b': 1 }, { d: 2 }), { d: 1 }), OPTS)
    expect(d).toMatchObject({ action: 'record' })
    expect(d.memory.streak).toBeUndefined()
  })

  it('a return later than the round trip is not a bounce', () => {
    const side = new Side()
    side.start({ d: 1 })
    const d = side.round({ d: 2 }, { d: 1 }, { gap: OPTS.roundTripMs + 1 })
    expect(d.memory.streak).toBeUndefined()
  })

  it('a remote version that is not a return of ours (concurrent, equal or older than what we sent) is not a bounce', () => {
    const base = afterWrite(afterRecord({}, { 'lab-a': 2 }, fields({ d: 1 }), 0), 10)
    const vectors: VersionVector[] = [{ 'lab-a': 1, 'lab-b': 5 }, { 'lab-a': 2 }, { 'lab-a': 1 }, { 'lab-b': 1 }]
    for (const vector of vectors) {
      const d = decideEcho(base, observe(20, remote(vector, { d: 2 }), { d: 1 }), OPTS)
      expect(d.action).toBe('record')
      expect(d.memory.streak).toBeUndefined()
    }
  })

  it('a return that the peer did not change (back empty) is not a bounce', () => {
    const side = new Side()
    side.start({ d: 1, e: 1 })
    const d = side.round({ d: 1, e: 1 }, { d: 1, e: 2 })
    expect(d.action).toBe('record')
    expect(d.memory.streak).toBeUndefined()
  })

  it('an instance that shows exactly the current version neither counts nor breaks the streak', () => {
    const side = new Side()
    side.start({ d: 1 })
    side.round({ d: 2 }, { d: 1 })
    const memory = afterWrite(side.memory, side.t + 10)
    const d = decideEcho(memory, observe(side.t + 20, remote({ 'lab-a': 2, 'lab-b': 2 }, { d: 2 }), { d: 2 }), OPTS)
    expect(d).toEqual({ action: 'record', memory })
    expect(d.memory.streak?.bounces).toBe(1)
  })

  it('other fields than the last bounce start the streak again', () => {
    const side = new Side()
    side.start({ d: 1, e: 1 })
    side.round({ d: 2, e: 1 }, { d: 1, e: 1 })
    side.round({ d: 2, e: 1 }, { d: 1, e: 1 })
    const other = side.round({ d: 1, e: 2 }, { d: 1, e: 1 })
    expect(other).toMatchObject({ action: 'record', memory: { streak: { bounces: 1, signature: { echo: ['data.e'], back: ['data.e'] } } } })
  })

  it('a delete in the instance is never a bounce', () => {
    const side = new Side()
    side.start({ d: 1 })
    side.round({ d: 2 }, { d: 1 })
    const memory = afterWrite(side.memory, side.t + 10)
    const d = decideEcho(memory, observe(side.t + 20, remote({ 'lab-a': 2, 'lab-b': 2 }, { d: 2 }), {}, true), OPTS)
    expect(d.action).toBe('record')
    expect(d.memory.streak).toBeUndefined()
  })
})

describe('echo-loop guard: while held', () => {
  function held (): Side {
    const side = new Side()
    side.start({ d: 'ours', note: 'a' })
    for (let i = 0; i < 3; i++) side.round({ d: 'theirs', note: 'a' }, { d: 'ours', note: 'a' })
    expect(side.memory.hold).toBeDefined()
    return side
  }
  const heldOn = (side: Side): VersionVector => side.memory.hold!.on

  it('the same content reported again is ignored', () => {
    const side = held()
    const d = decideEcho(side.memory, observe(side.t + 500, remote(heldOn(side), { d: 'theirs', note: 'a' }), { d: 'ours', note: 'a' }), OPTS)
    expect(d).toEqual({ action: 'ignore', memory: side.memory })
  })

  it('a new version from the peer whose prompt echo changes only the bouncing fields stays held, silently', () => {
    const side = held()
    const memory = afterWrite(side.memory, side.t + 100)
    const next = { 'lab-a': 3, 'lab-b': 4 }
    const d = decideEcho(memory, observe(side.t + 150, remote(next, { d: 'theirs', note: 'b' }), { d: 'ours', note: 'b' }), OPTS)
    expect(d).toMatchObject({ action: 'hold', event: undefined, memory: { hold: { on: next, bounces: 3 } } })
    expect(d.memory.hold!.reported).toEqual(fields({ d: 'ours', note: 'b' }))
  })

  it('a new version from the peer, then an instance edit beyond the bouncing fields: released, recorded, fields kept', () => {
    const side = held()
    const memory = afterWrite(side.memory, side.t + 100)
    const d = decideEcho(memory, observe(side.t + 150, remote({ 'lab-a': 3, 'lab-b': 4 }, { d: 'theirs', note: 'b' }), { d: 'ours', note: 'mine' }), OPTS)
    expect(d).toMatchObject({ action: 'record', released: { cause: 'edited-beyond', fields: ['data.note'] }, memory: { learned: { echo: ['data.d'] } } })
    expect(d.memory.hold).toBeUndefined()
  })

  it('a new version from the peer and an echo of only the bouncing fields, but late: a person — released, fields forgotten', () => {
    const side = held()
    const memory = afterWrite(side.memory, side.t + 100)
    const d = decideEcho(memory, observe(side.t + 100 + OPTS.windowMs + 1, remote({ 'lab-a': 3, 'lab-b': 4 }, { d: 'theirs', note: 'a' }), { d: 'corrected', note: 'a' }), OPTS)
    expect(d).toMatchObject({ action: 'record', released: { cause: 'edited-unprompted', fields: ['data.d'] } })
    expect(d.memory.learned).toBeUndefined()
  })

  it('no write since the hold: a change of the bouncing field is a person, released and forgotten', () => {
    const side = held()
    const d = decideEcho(side.memory, observe(side.t + 10_000, remote(heldOn(side), { d: 'theirs', note: 'a' }), { d: 'fixed', note: 'a' }), OPTS)
    expect(d).toMatchObject({ action: 'record', released: { cause: 'edited-unprompted', fields: ['data.d'] } })
    expect(d.memory.learned).toBeUndefined()
    expect(d.memory.hold).toBeUndefined()
  })

  it('no write since the hold: a change of other fields is a person, released with the fields kept', () => {
    const side = held()
    const d = decideEcho(side.memory, observe(side.t + 10, remote(heldOn(side), { d: 'theirs', note: 'a' }), { d: 'ours', note: 'z' }), OPTS)
    expect(d).toMatchObject({ action: 'record', released: { cause: 'edited-beyond', fields: ['data.note'] }, memory: { learned: { echo: ['data.d'], back: ['data.d'] } } })
  })

  it('our own version since the hold counts as no write of ours into the instance', () => {
    const side = held()
    expect(decideEcho(side.memory, observe(side.t + 10, own({ 'lab-a': 9 }, { d: 'x' }), { d: 'ours', note: 'a' }), OPTS).action).toBe('ignore')
  })

  it('a delete releases it', () => {
    const side = held()
    expect(decideEcho(side.memory, observe(side.t + 10, remote(heldOn(side), { d: 'theirs', note: 'a' }), {}, true), OPTS)).toMatchObject({ action: 'record', released: { cause: 'deleted' } })
  })

  it('learned fields hold the next bounce over them at once (resumed); other fields start a normal streak', () => {
    const side = held()
    // a person edits the note: released, recorded
    const released = decideEcho(side.memory, observe(side.t + 10, remote(heldOn(side), { d: 'theirs', note: 'a' }), { d: 'ours', note: 'z' }), OPTS)
    side.t += 10
    side.a++
    side.memory = afterRecord(released.memory, { 'lab-a': side.a, 'lab-b': side.b }, fields({ d: 'ours', note: 'z' }), side.t)
    const resumed = side.round({ d: 'theirs', note: 'z' }, { d: 'ours', note: 'z' })
    expect(resumed).toMatchObject({ action: 'hold', event: 'resumed', memory: { hold: { bounces: 1, resumed: true } } })

    const other: EchoMemory = { ...released.memory, learned: { echo: ['data.q'], back: ['data.q'] } }
    const fresh = new Side()
    fresh.memory = afterRecord(other, { 'lab-a': 1 }, fields({ d: 'ours', note: 'z' }), 0)
    fresh.a = 1
    expect(fresh.round({ d: 'theirs', note: 'z' }, { d: 'ours', note: 'z' })).toMatchObject({ action: 'record', memory: { streak: { bounces: 1 } } })
  })

  it('an admin release forgets the hold, the streak and the learned fields, and keeps what was sent and written', () => {
    const side = held()
    const memory = afterAdminRelease({ ...side.memory, writtenAt: 5, streak: { signature: { echo: [], back: [] }, bounces: 1 } })
    expect(memory).toEqual({ sent: side.memory.sent, writtenAt: 5 })
    expect(afterAdminRelease({})).toEqual({})
  })
})

describe('echo-loop guard: field digests', () => {
  it('name type, id, parent, refs, deleted and each data key; equal values have equal digests whatever their key order', () => {
    expect(Object.keys(fields({ a: 1, b: { y: 1, x: 2 } })).sort()).toEqual(['data.a', 'data.b', 'deleted', 'id', 'parent', 'refs', 'type'])
    expect(fields({ b: { x: 2, y: 1 }, a: 1 })).toEqual(fields({ a: 1, b: { y: 1, x: 2 } }))
    expect(changedFields(fields({ a: 1, b: [1, 2] }), fields({ a: 1, b: [2, 1] }))).toEqual(['data.b'])
    expect(changedFields(fields({ a: 1 }), fields({ a: 1, c: 3 }))).toEqual(['data.c'])
    expect(changedFields(fields({ a: 1, gone: undefined }), fields({ a: 1 }))).toEqual([])
    expect(changedFields(fields({}, { refs: ['x'] }), fields({}, { refs: ['y'] }))).toEqual(['refs'])
    expect(changedFields(fields({}, { id: 'A' }), fields({}, { id: 'B', deleted: true }))).toEqual(['deleted', 'id'])
    expect(fields({ a: null })['data.a']).not.toBe(fields({ a: 'null' })['data.a'])
  })
})

describe('echo-loop guard: two sides', () => {
  /**
   * Two instances that each format `date` their own way, modelled at the
   * decision level: each side records what its instance shows unless its
   * guard holds it; the other side then gets it.
   */
  function loop (formatA: (v: string) => string, formatB: (v: string) => string, options = OPTS): { versions: number, heldBy: string | undefined } {
    const sides = { a: { memory: {} as EchoMemory, name: 'lab-a', format: formatA }, b: { memory: {} as EchoMemory, name: 'lab-b', format: formatB } }
    let vector: Record<string, number> = { 'lab-a': 1 }
    let data = { date: formatA('2024-01-01'), n: 1 }
    sides.a.memory = afterRecord({}, vector, fields(data), 0)
    let t = 0
    let versions = 1
    let to = sides.b
    for (let turn = 0; turn < 20; turn++) {
      t += 20
      to.memory = afterWrite(to.memory, t)
      const reported = { ...data, date: to.format(data.date) }
      t += 20
      const from = to === sides.a ? 'lab-b' : 'lab-a'
      const d = decideEcho(to.memory, observe(t, { vector, via: from, fields: fields(data) }, reported), options)
      to.memory = d.memory
      if (d.action !== 'record') return { versions, heldBy: to.name }
      if (changedFields(fields(data), fields(reported)).length === 0) return { versions, heldBy: undefined }
      vector = { ...vector, [to.name]: (vector[to.name] ?? 0) + 1 }
      data = reported
      to.memory = afterRecord(to.memory, vector, fields(data), t)
      versions++
      to = to === sides.a ? sides.b : sides.a
    }
    return { versions, heldBy: undefined }
  }

  it('instances that format a date differently bounce it until one side trips, within three round trips of its own', () => {
    const result = loop((v) => v.replace(/-/g, '/'), (v) => v.replace(/\//g, '-'))
    expect(result.heldBy).toBeDefined()
    expect(result.versions).toBeLessThanOrEqual(1 + 2 * OPTS.bounces)
  })

  it('instances that agree (one normalises, the other keeps what it gets) settle without the guard', () => {
    expect(loop((v) => v.replace(/-/g, '/'), (v) => v)).toEqual({ versions: 1, heldBy: undefined })
    expect(loop((v) => v.toUpperCase(), (v) => v.toUpperCase())).toMatchObject({ heldBy: undefined })
  })

  it('a lab editing fast, alone or answering the other lab, never trips it (seeded)', () => {
    let seed = 7
    const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
    let memory: EchoMemory = {}
    let vector: Record<string, number> = {}
    let data: Record<string, unknown> = { result: 0, remarks: '' }
    let t = 0
    for (let i = 0; i < 500; i++) {
      const fromPeer = random() < 0.5
      if (fromPeer) {
        // the other lab edits on top of ours, and it is written here
        vector = { ...vector, 'lab-b': (vector['lab-b'] ?? 0) + 1 }
        data = { ...data, result: i }
        t += 10 + Math.floor(random() * 50)
        memory = afterWrite(memory, t)
      }
      // our lab edits: the same field every time, as fast as a person can after reading it (a few seconds)
      t += OPTS.windowMs + 1 + Math.floor(random() * 3000)
      const edited = { ...data, remarks: `r${i}` }
      const d = decideEcho(memory, observe(t, vector['lab-b'] !== undefined && fromPeer ? { vector, via: 'lab-b', fields: fields(data) } : { vector, via: null, fields: fields(data) }, edited), OPTS)
      expect(d.action).toBe('record')
      vector = { ...vector, 'lab-a': (vector['lab-a'] ?? 0) + 1 }
      data = edited
      memory = afterRecord(d.memory, vector, fields(data), t)
    }
    expect(memory.hold).toBeUndefined()
    expect(memory.learned).toBeUndefined()
  })
})
