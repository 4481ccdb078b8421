/**
 * The replicated object: one version of one record, as it travels between
 * agents and as the rules see it (DESIGN.md, "Data model").
 *
 * `uid` is the mesh-wide identity and is never rewritten; `id` is the human
 * ID that prefix rules may rewrite. `origin` is the domain that created the
 * object and never changes. A tombstone is a version with `deleted: true`.
 */
import type { VersionVector } from './version-vector.js'

/** What an object is, whoever holds it: the fields a lab writes (a version adds its history). */
export interface ObjectContent {
  readonly uid: string
  /** portal type, e.g. `AnalysisRequest`, `Client`, `SampleType` */
  readonly type: string
  /** human id, e.g. `W-0042`; prefix rules rewrite it on import */
  readonly id: string
  /** uid of the container, or null for top-level objects */
  readonly parent: string | null
  /** uids this object needs to exist first (referenced objects) */
  readonly refs: readonly string[]
  readonly data: Readonly<Record<string, unknown>>
}

export interface ObjectVersion extends ObjectContent {
  readonly vector: VersionVector
  /** domain where the object was created */
  readonly origin: string
  readonly deleted: boolean
  /** wall-clock time (ms since epoch) when this version was written by its author; informational only */
  readonly at: number
}

/**
 * What a feed entry carries on the wire: the holder's current version plus any
 * concurrent siblings it keeps (so every agent that comes to hold both
 * versions shows the same conflict).
 */
export interface WireObject extends ObjectVersion {
  readonly conflicts?: readonly ObjectVersion[]
}

/** Copy only the version fields (drops store-local metadata such as seq). */
export function toVersion (o: ObjectVersion): ObjectVersion {
  return {
    uid: o.uid,
    type: o.type,
    id: o.id,
    parent: o.parent,
    refs: o.refs,
    data: o.data,
    vector: o.vector,
    origin: o.origin,
    deleted: o.deleted,
    at: o.at
  }
}

/** The versions a wire object carries: its current one first, then siblings. */
export function versionsOf (wire: WireObject): ObjectVersion[] {
  // Most objects carry no siblings and no `conflicts` key: the wire object is
  // then its own current version, and copying it would only make garbage.
  if (!Object.prototype.hasOwnProperty.call(wire, 'conflicts')) return [wire]
  const { conflicts, ...current } = wire
  return conflicts !== undefined && conflicts.length > 0 ? [current, ...conflicts] : [current]
}
