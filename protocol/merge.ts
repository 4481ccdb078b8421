/**
 * Three-way merge of a conflict, field by field: compare the two sides
 * (`local`, the current version, and `remote`, a sibling) with their common
 * ancestor (`base`), and build the merged content from a pick per field.
 * Pure: no I/O, no clock; every agent given the same inputs merges alike.
 *
 * Fields are paths. Top-level `type`, `id`, `parent`, `refs` and `deleted`
 * compare whole; `data` is walked: a nested object (on both sides, and in the
 * base unless the base lacks it) is compared key by key, and so is a list of
 * objects that all carry a distinct string `uid` (else all a distinct string
 * `keyword`, as SENAITE analyses do): its elements are matched by that key,
 * not by position, and shown as `data.analyses[keyword=Ca].result`. Any other
 * value (scalars, other lists, an object on one side only) is one field.
 * The order of a keyed list is not a field: the merge keeps local's order
 * and appends what only remote added, in remote's order.
 *
 * A field is `equal` (local and remote agree), `local` or `remote` (only
 * that side changed it from the base: auto-mergeable), or `both` (changed on
 * both sides, differently: a true conflict). Without a base (this agent never
 * saw the common ancestor, or it fell out of its past versions) every field
 * where the sides differ is `both`: nothing can tell which side changed it.
 */
import { AgentError } from './errors.js'
import type { ObjectVersion } from './object.js'
import { sameValue } from './changes.js'
import { compare, type VersionVector } from './version-vector.js'

/** What a merge compares and produces: the content fields of a version. */
export type MergeContent = Pick<ObjectVersion, 'type' | 'id' | 'parent' | 'refs' | 'data' | 'deleted'>

/** A version kept after it stopped being current, so that it can serve as a merge base. */
export interface PastVersion extends MergeContent {
  readonly vector: VersionVector
  readonly at: number
}

export type MergeSide = 'local' | 'remote' | 'base'
export type FieldChange = 'equal' | 'local' | 'remote' | 'both'

/** One field of the three-way comparison; a side's value is absent when that side lacks the field. */
export interface FieldDiff {
  readonly path: string
  readonly change: FieldChange
  readonly base?: unknown
  readonly local?: unknown
  readonly remote?: unknown
}

export interface ThreeWayReport {
  /** whether the common ancestor is known here (without it, every differing field is `both`) */
  readonly baseKnown: boolean
  /** every field, in walk order (top-level fields, then data) */
  readonly fields: readonly FieldDiff[]
  /** fields changed on one side only: what `merge: auto` takes */
  readonly autoMergeable: readonly string[]
  /** fields changed on both sides: `merge: auto` refuses while any is left unpicked */
  readonly conflicting: readonly string[]
}

/** `merge: auto` (or a field pick) left fields changed on both sides unpicked. */
export class MergeConflictError extends AgentError {
  readonly fields: readonly string[]
  constructor (fields: readonly string[]) {
    super('MERGE_CONFLICT', `cannot merge automatically: ${fields.length === 1 ? 'field' : 'fields'} ${fields.join(', ')} changed on both sides; pick a side for each with fields: {"${fields[0]}": "local" | "remote" | "base"} (CLI: --field ${fields[0]}=remote)`)
    this.fields = fields
  }
}

/** A field pick that cannot be applied: a field the object does not have, or `base` with no base known. */
export class MergeFieldError extends AgentError {
  readonly fields: readonly string[]
  constructor (message: string, fields: readonly string[]) {
    super('MERGE_FIELD_INVALID', message)
    this.fields = fields
  }
}

/**
 * The common ancestor among `past` (oldest first): the newest version whose
 * vector both sides descend from (or equal), undefined when none is.
 */
export function findBase (past: readonly PastVersion[], local: VersionVector, remote: VersionVector): PastVersion | undefined {
  const below = (v: VersionVector, side: VersionVector): boolean => {
    const order = compare(v, side)
    return order === 'older' || order === 'equal'
  }
  for (let i = past.length - 1; i >= 0; i--) {
    const p = past[i]!
    if (below(p.vector, local) && below(p.vector, remote)) return p
  }
  return undefined
}

/** Compare the three versions field by field. */
export function compareThreeWay (base: MergeContent | undefined, local: MergeContent, remote: MergeContent): ThreeWayReport {
  const walk = new MergeWalk(base !== undefined, new Map())
  walk.content(base, local, remote)
  const fields = walk.fields
  return {
    baseKnown: base !== undefined,
    fields,
    autoMergeable: fields.filter((f) => f.change === 'local' || f.change === 'remote').map((f) => f.path),
    conflicting: fields.filter((f) => f.change === 'both').map((f) => f.path)
  }
}

/**
 * The merged content: each field from the side picked for it (`choices`:
 * a path as compareThreeWay names it, or a data key without its `data.`
 * prefix; picking an object or a keyed list takes it whole), every other
 * field as `merge: auto` takes it (the side that changed it). Throws
 * MergeConflictError naming the fields changed on both sides and left
 * unpicked, MergeFieldError for a pick that names no field or picks an
 * unknown base.
 */
export function mergeThreeWay (base: MergeContent | undefined, local: MergeContent, remote: MergeContent, choices: Readonly<Record<string, MergeSide>> = {}): MergeContent {
  const picks = normalizeChoices(base, local, remote, choices)
  const walk = new MergeWalk(base !== undefined, picks)
  const merged = walk.content(base, local, remote)
  if (walk.unpicked.length > 0) throw new MergeConflictError(walk.unpicked)
  return merged
}

/** `choices` keyed by the walk's paths; refuses names that are no path and `base` without a base. */
function normalizeChoices (base: MergeContent | undefined, local: MergeContent, remote: MergeContent, choices: Readonly<Record<string, MergeSide>>): Map<string, MergeSide> {
  const survey = new MergeWalk(base !== undefined, new Map())
  survey.content(base, local, remote)
  const out = new Map<string, MergeSide>()
  const unknown: string[] = []
  for (const [name, side] of Object.entries(choices)) {
    const path = survey.paths.has(name) ? name : survey.paths.has(`data.${name}`) ? `data.${name}` : undefined
    if (path === undefined) unknown.push(name)
    else out.set(path, side)
  }
  if (unknown.length > 0) {
    throw new MergeFieldError(`no such field: ${unknown.join(', ')}; the fields are those GET /api/conflicts/:uid lists (e.g. ${[...survey.paths].filter((p) => p.startsWith('data.')).slice(0, 3).join(', ')})`, unknown)
  }
  const onBase = [...out].filter(([, side]) => side === 'base').map(([path]) => path)
  if (base === undefined && onBase.length > 0) {
    throw new MergeFieldError(`no common ancestor of this conflict is known here, so ${onBase.join(', ')} cannot take the base value: pick local or remote`, onBase)
  }
  return out
}

type Rec = Record<string, unknown>

const isRecord = (value: unknown): value is Rec => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Keys a list's elements may be matched by, in order of preference. */
const ELEMENT_KEYS = ['uid', 'keyword'] as const

/** A path segment for a key: `.key` when plain, else `["key"]`. */
function segment (key: string): string {
  return /^[A-Za-z0-9_$@:-]+$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

function elementSegment (prop: string, key: string): string {
  return /^[A-Za-z0-9_$@:.-]+$/.test(key) ? `[${prop}=${key}]` : `[${prop}=${JSON.stringify(key)}]`
}

/** The property every element of every list is matched by (a distinct string in each list), if any. */
function elementKey (lists: ReadonlyArray<readonly unknown[]>): string | undefined {
  if (lists.every((l) => l.length === 0)) return undefined
  return ELEMENT_KEYS.find((prop) => lists.every((list) => {
    const seen = new Set<string>()
    for (const e of list) {
      if (!isRecord(e) || typeof e[prop] !== 'string' || seen.has(e[prop])) return false
      seen.add(e[prop])
    }
    return true
  }))
}

/** Union of keys in first-seen order: local's, then remote's, then the base's. */
function unionKeys (...keyLists: ReadonlyArray<Iterable<string>>): string[] {
  const out = new Set<string>()
  for (const keys of keyLists) for (const k of keys) out.add(k)
  return [...out]
}

/**
 * One walk over the three versions: records every field's diff and every
 * path it visits, builds the merged value, and collects the fields changed
 * on both sides that no pick covers. `undefined` stands for "absent" (JSON
 * data has no undefined values).
 */
class MergeWalk {
  readonly fields: FieldDiff[] = []
  readonly paths = new Set<string>()
  readonly unpicked: string[] = []
  readonly #baseKnown: boolean
  readonly #picks: ReadonlyMap<string, MergeSide>

  constructor (baseKnown: boolean, picks: ReadonlyMap<string, MergeSide>) {
    this.#baseKnown = baseKnown
    this.#picks = picks
  }

  content (base: MergeContent | undefined, local: MergeContent, remote: MergeContent): MergeContent {
    const top = (field: 'type' | 'id' | 'parent' | 'refs' | 'deleted'): unknown => this.node(field, base?.[field], local[field], remote[field])
    const type = top('type') as string
    const id = top('id') as string
    const parent = top('parent') as string | null
    const refs = top('refs') as string[]
    const deleted = top('deleted') as boolean
    const data = this.node('data', base?.data ?? {}, local.data, remote.data) as Rec | undefined
    return { type, id, parent, refs, deleted, data: data ?? {} }
  }

  node (path: string, b: unknown, l: unknown, r: unknown): unknown {
    this.paths.add(path)
    const pick = this.#picks.get(path)
    if (pick !== undefined) {
      // a pick takes the node whole (an object or keyed list with everything in it)
      return pick === 'local' ? l : pick === 'remote' ? r : b
    }
    const baseFits = (fits: (v: unknown) => boolean): boolean => !this.#baseKnown || b === undefined || fits(b)
    if (isRecord(l) && isRecord(r) && baseFits(isRecord)) return this.#record(path, isRecord(b) ? b : {}, l, r)
    if (Array.isArray(l) && Array.isArray(r) && baseFits(Array.isArray)) {
      const lists = [l, r, ...(Array.isArray(b) ? [b] : [])]
      const prop = elementKey(lists)
      if (prop !== undefined) return this.#keyedList(path, prop, Array.isArray(b) ? b : [], l, r)
    }
    return this.#leaf(path, b, l, r)
  }

  #record (path: string, b: Rec, l: Rec, r: Rec): Rec {
    const out: Rec = {}
    for (const key of unionKeys(Object.keys(l), Object.keys(r), Object.keys(b))) {
      const value = this.node(`${path}${segment(key)}`, b[key], l[key], r[key])
      if (value !== undefined) out[key] = value
    }
    return out
  }

  #keyedList (path: string, prop: string, b: readonly unknown[], l: readonly unknown[], r: readonly unknown[]): unknown[] {
    const byKey = (list: readonly unknown[]): Map<string, unknown> => new Map(list.map((e) => [(e as Rec)[prop] as string, e]))
    const [bm, lm, rm] = [byKey(b), byKey(l), byKey(r)]
    const out: unknown[] = []
    for (const key of unionKeys(lm.keys(), rm.keys(), bm.keys())) {
      const value = this.node(`${path}${elementSegment(prop, key)}`, bm.get(key), lm.get(key), rm.get(key))
      if (value !== undefined) out.push(value)
    }
    return out
  }

  #leaf (path: string, b: unknown, l: unknown, r: unknown): unknown {
    const change = this.#classify(b, l, r)
    this.fields.push({
      path,
      change,
      ...(this.#baseKnown && b !== undefined ? { base: b } : {}),
      ...(l !== undefined ? { local: l } : {}),
      ...(r !== undefined ? { remote: r } : {})
    })
    if (change === 'remote') return r
    if (change === 'both') this.unpicked.push(path)
    return l
  }

  #classify (b: unknown, l: unknown, r: unknown): FieldChange {
    if (sameValue(l, r)) return 'equal'
    if (!this.#baseKnown) return 'both'
    if (sameValue(b, l)) return 'remote'
    if (sameValue(b, r)) return 'local'
    return 'both'
  }
}
