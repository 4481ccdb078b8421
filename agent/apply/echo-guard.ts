/**
 * The echo-loop guard's decision, as pure functions of values: no store, no
 * clock, no logger (echo-holds.ts does the I/O around them).
 *
 * An echo loop: this agent writes a remote version into its instance; the
 * instance changes it (computes a title, formats a date, stamps a field);
 * the poll reports that as a local edit; it goes out; the other side's
 * instance does the same to it, and so on, with no person involved. Seen
 * from one agent, each turn is a **bounce**: an instance edit that
 *
 * 1. lands on a version pulled from a peer (`via` set) that descends from
 *    the version this agent last recorded from its instance, within
 *    `roundTripMs` of recording it — our own edit came back, changed (the
 *    `back` fields: what the round trip through the other side changed);
 * 2. changes fields of that version (`echo`: what our instance did to it);
 * 3. is reported within `windowMs` of the agent writing that version into
 *    the instance — an instance reacting to a write, not a person who read
 *    the new data and typed.
 *
 * `bounces` consecutive bounces with the same fields (echo and back) make a
 * loop: the object is held — its instance edits are no longer recorded as
 * versions — and the fields are learned. No false positive, by design:
 * an edit on top of our own version (a lab editing fast), an edit on top of
 * a peer's version that is not a return of ours (the first import, a
 * cascade the agent's writes set off in the instance), a change reported
 * after the window, a delete, or a bounce with other fields than the last
 * one breaks the streak.
 *
 * While held, the instance edit is still watched, and a person's edit
 * releases it (it is recorded): one that changes fields beyond the bouncing
 * ones, or comes later than `windowMs` after the last write (or with no
 * write since the hold), or deletes the object. A new remote version written
 * into the instance whose prompt echo changes only the bouncing fields stays
 * held, so a peer's real edits still arrive here while our instance's
 * rendering of them is not sent back. After a release by an edit beyond the
 * bouncing fields, the learned fields stay: the next bounce over them holds
 * at once instead of after another `bounces` round trips. An admin's release
 * forgets the hold, the streak and the learned fields.
 */
import { createHash } from 'node:crypto'
import { compare, type VersionVector } from '../../protocol/version-vector.js'
import type { ObjectContent } from '../../protocol/object.js'

/** field name → digest of its value; fields: type, id, parent, refs, deleted, data.<key> */
export type FieldDigests = Readonly<Record<string, string>>

export interface EchoGuardOptions {
  /** consecutive bounces with the same fields that make a loop (≥ 2) */
  readonly bounces: number
  /** longest time from writing a version into the instance to the instance's edit of it that counts as its echo */
  readonly windowMs: number
  /** longest time from recording a version here to its return (changed) that counts as a round trip */
  readonly roundTripMs: number
}

/** The fields that bounce: what our instance changes (`echo`) and what the round trip changed (`back`), each sorted. */
export interface Signature {
  readonly echo: readonly string[]
  readonly back: readonly string[]
}

/** A hold: what the guard knows of an object whose instance edits it does not record. */
export interface Hold {
  readonly since: number
  readonly signature: Signature
  /** bounces seen when it was held (1 when it resumed a learned loop) */
  readonly bounces: number
  /** the vector of the object's current version when the instance's edit was last held */
  readonly on: VersionVector
  /** the instance's content last held */
  readonly reported: FieldDigests
  /** held at once, by fields learned from an earlier loop */
  readonly resumed: boolean
}

/** What the guard remembers of one object. */
export interface EchoMemory {
  /** the version last recorded here from the instance */
  readonly sent?: { readonly vector: VersionVector, readonly fields: FieldDigests, readonly at: number }
  /** when the agent last wrote a version of it into the instance */
  readonly writtenAt?: number
  readonly streak?: { readonly signature: Signature, readonly bounces: number }
  /** fields of a loop seen before, kept after a release by a person's edit elsewhere */
  readonly learned?: Signature
  readonly hold?: Hold
}

/** One instance edit, as the guard sees it. */
export interface Observation {
  readonly now: number
  /** the object's current version here (undefined: new) */
  readonly current: { readonly vector: VersionVector, readonly via: string | null, readonly fields: FieldDigests } | undefined
  /** the instance's content */
  readonly reported: FieldDigests
  readonly deleted: boolean
}

/** Why a hold ended with the edit being recorded. */
export type ReleaseCause =
  /** the edit changed fields beyond the bouncing ones */
  | 'edited-beyond'
  /** the edit came with no write of ours to echo (none since the hold, or too long after it) */
  | 'edited-unprompted'
  | 'deleted'

export type EchoDecision =
  /** record it as a local version (then tell the guard with `afterRecord`) */
  | { readonly action: 'record', readonly memory: EchoMemory, readonly released?: { readonly cause: ReleaseCause, readonly fields: readonly string[] } }
  /** do not record it; `event` says whether the loop is news (undefined: it stays held) */
  | { readonly action: 'hold', readonly memory: EchoMemory, readonly event: 'tripped' | 'resumed' | undefined }
  /** the content already held, reported again: nothing to do */
  | { readonly action: 'ignore', readonly memory: EchoMemory }

/** Decide what to do with one instance edit of an object. */
export function decideEcho (memory: EchoMemory, obs: Observation, options: EchoGuardOptions): EchoDecision {
  return memory.hold !== undefined ? decideHeld(memory, memory.hold, obs, options) : decideFree(memory, obs, options)
}

/** After a recorded edit: it is the version that may come back. */
export function afterRecord (memory: EchoMemory, vector: VersionVector, fields: FieldDigests, now: number): EchoMemory {
  return { ...memory, sent: { vector, fields, at: now } }
}

/** After the agent wrote a version of the object into the instance. */
export function afterWrite (memory: EchoMemory, now: number): EchoMemory {
  return { ...memory, writtenAt: now }
}

/** An admin's release: the hold, the streak and the learned fields are forgotten. */
export function afterAdminRelease (memory: EchoMemory): EchoMemory {
  return { ...(memory.sent !== undefined ? { sent: memory.sent } : {}), ...(memory.writtenAt !== undefined ? { writtenAt: memory.writtenAt } : {}) }
}

function decideFree (memory: EchoMemory, obs: Observation, options: EchoGuardOptions): EchoDecision {
  const bounce = bounceOf(memory, obs, options)
  if (bounce === 'neutral') return { action: 'record', memory }
  if (bounce === undefined) return { action: 'record', memory: without(memory, 'streak') }
  const held = (bounces: number, resumed: boolean): Hold => ({ since: obs.now, signature: bounce, bounces, on: obs.current!.vector, reported: obs.reported, resumed })
  if (memory.learned !== undefined && sameSignature(memory.learned, bounce)) {
    return { action: 'hold', memory: { ...without(memory, 'streak'), hold: held(1, true) }, event: 'resumed' }
  }
  const bounces = memory.streak !== undefined && sameSignature(memory.streak.signature, bounce) ? memory.streak.bounces + 1 : 1
  if (bounces >= options.bounces) {
    return { action: 'hold', memory: { ...without(memory, 'streak'), learned: bounce, hold: held(bounces, false) }, event: 'tripped' }
  }
  return { action: 'record', memory: { ...memory, streak: { signature: bounce, bounces } } }
}

/**
 * The bounce this edit is, if it is one; 'neutral' for an edit that shows
 * exactly the current version (neither a bounce nor a break); undefined for
 * anything that breaks a streak.
 */
function bounceOf (memory: EchoMemory, obs: Observation, options: EchoGuardOptions): Signature | 'neutral' | undefined {
  const { current } = obs
  if (obs.deleted || current === undefined || current.via === null) return undefined
  const echo = changedFields(current.fields, obs.reported)
  if (echo.length === 0) return 'neutral'
  if (!prompt(memory, obs, options)) return undefined
  const sent = memory.sent
  if (sent === undefined || obs.now - sent.at > options.roundTripMs || compare(current.vector, sent.vector) !== 'newer') return undefined
  const back = changedFields(sent.fields, current.fields)
  if (back.length === 0) return undefined
  return { echo, back }
}

function decideHeld (memory: EchoMemory, hold: Hold, obs: Observation, options: EchoGuardOptions): EchoDecision {
  const release = (cause: ReleaseCause, fields: readonly string[], keepLearned: boolean): EchoDecision => ({
    action: 'record',
    memory: keepLearned ? without(without(memory, 'hold'), 'streak') : without(without(without(memory, 'hold'), 'streak'), 'learned'),
    released: { cause, fields }
  })
  if (obs.deleted) return release('deleted', ['deleted'], false)
  const { current } = obs
  const rewritten = current !== undefined && current.via !== null && compare(current.vector, hold.on) !== 'equal'
  if (rewritten) {
    // a new version from a peer was written into the instance since the hold
    const echo = changedFields(current.fields, obs.reported)
    const beyond = echo.filter((f) => !hold.signature.echo.includes(f))
    if (beyond.length > 0) return release('edited-beyond', beyond, true)
    if (echo.length > 0 && !prompt(memory, obs, options)) return release('edited-unprompted', echo, false)
    return { action: 'hold', memory: { ...memory, hold: { ...hold, on: current.vector, reported: obs.reported } }, event: undefined }
  }
  // no write of ours since the hold: anything new in the instance is a person's edit
  const changed = changedFields(hold.reported, obs.reported)
  if (changed.length === 0) return { action: 'ignore', memory }
  const beyond = changed.filter((f) => !hold.signature.echo.includes(f))
  return beyond.length > 0 ? release('edited-beyond', beyond, true) : release('edited-unprompted', changed, false)
}

/** Whether the edit came soon enough after the agent's last write of the object to be the instance's reaction to it. */
function prompt (memory: EchoMemory, obs: Observation, options: EchoGuardOptions): boolean {
  return memory.writtenAt !== undefined && obs.now - memory.writtenAt <= options.windowMs
}

function sameSignature (a: Signature, b: Signature): boolean {
  return sameList(a.echo, b.echo) && sameList(a.back, b.back)
}

function sameList (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function without<K extends keyof EchoMemory> (memory: EchoMemory, key: K): EchoMemory {
  if (memory[key] === undefined) return memory
  const { [key]: _dropped, ...rest } = memory // eslint-disable-line @typescript-eslint/no-unused-vars
  return rest
}

/** The fields whose digests differ between two contents, sorted. */
export function changedFields (a: FieldDigests, b: FieldDigests): string[] {
  const out: string[] = []
  for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[field] !== b[field]) out.push(field)
  return out.sort()
}

/** The content of an object (or an instance's edit of it), field by field. */
export function contentFields (c: Pick<ObjectContent, 'type' | 'id' | 'parent' | 'refs' | 'data'> & { readonly deleted: boolean }): Record<string, unknown> {
  const fields: Record<string, unknown> = { type: c.type, id: c.id, parent: c.parent, refs: c.refs, deleted: c.deleted }
  for (const [key, value] of Object.entries(c.data)) fields[`data.${key}`] = value
  return fields
}

/** Digests of each field (sha-256 of its canonical JSON, 16 hex digits): what the guard keeps instead of values. */
export function digestFields (c: Parameters<typeof contentFields>[0]): FieldDigests {
  const out: Record<string, string> = {}
  for (const [field, value] of Object.entries(contentFields(c))) {
    // an absent data key and one set to undefined are the same to the instance
    if (value === undefined) continue
    out[field] = createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16)
  }
  return out
}

/** JSON with object keys sorted, so equal values have one text whatever the order their keys were set in. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
