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
  /** who made this version, and their signature over it (protocol/provenance.ts); absent on versions written before signing */
  readonly sig?: VersionSignature
}

/**
 * The provenance of one version: the agent that made it and its Ed25519
 * signature (protocol/provenance.ts says what exactly is signed). Versions
 * written in one transaction are signed together, as the leaves of one
 * Merkle tree whose root is signed once; each carries its audit path.
 */
export interface VersionSignature {
  /** domain of the agent that made the version: the vector entry it incremented */
  readonly by: string
  /** that agent's libp2p peer ID (an Ed25519 peer ID is its public key) */
  readonly peer: string
  /** content hash: base64url SHA-256 of the canonical JSON of [type, id, parent, refs, data] as the signer wrote them */
  readonly h: string
  /** base64url Ed25519 signature over the root of the group signed together */
  readonly sig: string
  /** position in that group (absent for a group of one) */
  readonly i?: number
  /** size of that group (absent for a group of one) */
  readonly n?: number
  /** audit path from this version's leaf to the group's root: base64url of 32-byte hashes (absent for a group of one) */
  readonly p?: string
  /** the id as the signer wrote it, kept when the id presented here differs (prefix rules rewrite ids in transit) */
  readonly id?: string
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
    at: o.at,
    ...(o.sig !== undefined ? { sig: o.sig } : {})
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
