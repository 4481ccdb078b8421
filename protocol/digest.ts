/**
 * The anti-entropy digest's definitions, which two agents must share to
 * compare what they hold (issue 13, verify): which bucket a uid falls in,
 * which group a holding counts in, what is hashed per uid, and how hashes
 * combine. Pure: no I/O. store/digest*.ts keeps it; agent/verify compares it.
 *
 * What is hashed, per uid (a "leaf"): every version the agent holds — the
 * current one and its conflict siblings, in a canonical order, since the
 * current/sibling split may differ between holders — each as the JSON of
 * `uid, type, parent, refs, data, vector, origin, deleted, at`. NOT `id`
 * (prefix rules present it differently on every lab) and NOT the
 * store-local fields (`via`, `viaEpoch`, `seq`, `conflictVia`). So two
 * agents holding the same versions agree, whatever their rules show.
 * Nor the signature (`sig`, provenance.ts): its content hash `sig.h` is not
 * used for `data` either. A verify must find a record changed behind the
 * store's back, which leaves `sig.h` as it was, so a leaf hashes what the
 * store holds; whether content matches its signature is the provenance
 * check's (on apply). Signed and unsigned copies of a version hash alike.
 *
 * Leaves combine by XOR (and a count): a group's hash is the XOR of its
 * leaves', so a write changes each touched group's aggregate once per
 * transaction, without reading its other leaves; so does a bucket's (the
 * uids whose FNV hash has a given prefix), which a verify computes as it
 * descends. Groups are (type, origin) of the current version: a peer's view
 * under serve and import rules (which decide by type, and for updateOnly by
 * origin) is a set of groups. Two holders whose current versions differ in
 * type (a concurrent type change: rare) count the uid in different groups;
 * the verify then finds it on both sides and compares the leaves.
 */
import { createHash, hash as oneShotHash } from 'node:crypto'
import type { ObjectVersion } from './object.js'
import type { VersionVector } from './version-vector.js'

/** bits of a uid's bucket hash (uidBucket) */
export const DIGEST_HASH_BITS = 16
/**
 * The levels of the tree under a group that a verify descends, top down:
 * the group (0 bits), its 64 buckets, their 4096; a bucket of the last level
 * is listed leaf by leaf.
 */
export const DIGEST_LEVELS = [0, 6, 12] as const
/** the finest level: listed leaf by leaf */
export const DIGEST_LEAF_BITS = 12

/** `@registry` records that no agent imports (not bika/senaite records) count in a group of their own */
export const OTHER_REGISTRY_TYPE = '@registry:other'

/** One uid's entry: its versions' vectors, whether it is a tombstone, and the hash of everything it holds. */
export interface DigestLeaf {
  readonly uid: string
  /** the vectors of the versions held, current and siblings, in canonical order */
  readonly vectors: readonly VersionVector[]
  /** the current version is a tombstone (shown, not compared: which version is current may differ between holders) */
  readonly deleted: boolean
  /** 128 bits, 32 hex digits */
  readonly hash: string
}

/** Where a holding counts: its digest type and its origin. */
export interface DigestGroup {
  readonly type: string
  readonly origin: string
}

/** A set of leaves: how many, and the XOR of their hashes (4 × 32 bits). */
export interface DigestAggregate {
  count: number
  h0: number
  h1: number
  h2: number
  h3: number
}

/** SENAITE.SYNC imports the registry records whose key contains "bika" or "senaite" (agent/rules/inbound.ts applies it). */
export function isLimsRegistryKey (key: string): boolean {
  const k = key.toLowerCase()
  return k.includes('bika') || k.includes('senaite')
}

/** The type a version counts under: its own, except registry records no agent imports. */
export function digestType (type: string, id: string): string {
  return type === '@registry' && !isLimsRegistryKey(id) ? OTHER_REGISTRY_TYPE : type
}

/** The portal type a digest type stands for (what serve and import rules decide on). */
export function ruleTypeOf (digestType: string): string {
  return digestType === OTHER_REGISTRY_TYPE ? '@registry' : digestType
}

/** The uid's bucket, 0 … 2^16 − 1: FNV-1a over its UTF-16 units, folded to 16 bits. */
export function uidBucket (uid: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < uid.length; i++) {
    h ^= uid.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h >>>= 0
  return ((h >>> 16) ^ h) & 0xffff
}

/** A uid bucket's prefix at a level of DIGEST_LEVELS. */
export function bucketAt (bucket16: number, bits: number): number {
  return bucket16 >>> (DIGEST_HASH_BITS - bits)
}

/** The level below `bits` in DIGEST_LEVELS (undefined at the last). */
export function levelBelow (bits: number): number | undefined {
  const i = (DIGEST_LEVELS as readonly number[]).indexOf(bits)
  return i === -1 ? undefined : DIGEST_LEVELS[i + 1]
}

/**
 * The canonical text of one version: JSON of uid, type, parent, refs, data,
 * vector, origin, deleted and at, in that order, without the closing brace
 * (so that the store can cut the same text out of a record's JSON).
 */
export function versionText (v: ObjectVersion): string {
  return JSON.stringify({ uid: v.uid, type: v.type, parent: v.parent, refs: v.refs, data: v.data, vector: v.vector, origin: v.origin, deleted: v.deleted, at: v.at }).slice(0, -1)
}

/** The leaf hash of a single version, from its canonical text. */
export function textHash (text: string): string {
  return sha256Hex(text).slice(0, 32)
}

/** A vector as sortable text: its non-zero entries by domain. */
export function vectorKey (vector: VersionVector): string {
  return JSON.stringify(Object.entries(vector).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/**
 * The versions of a holding in canonical order, each with its text's hash:
 * by vector, then by that hash. Concurrent versions have distinct vectors;
 * two versions with ONE vector and other content (a counter reused after a
 * restore, kept as siblings: protocol/same-version.ts) are ordered by their
 * hashes, so every holder of both lists them alike whichever it holds as
 * current.
 */
function canonicalOrder (versions: readonly ObjectVersion[]): Array<{ readonly v: ObjectVersion, readonly h: string }> {
  const keyed = versions.map((v) => ({ v, k: vectorKey(v.vector), h: sha256Hex(versionText(v)) }))
  return keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
}

/**
 * The leaf of a holding (the current version first, then its siblings): the
 * hash of its versions in canonical order, and their vectors in that order.
 * `deleted` is the current version's (which version is current may differ
 * between holders: it is shown, not compared).
 */
export function holdingLeaf (versions: readonly ObjectVersion[]): DigestLeaf {
  if (versions.length === 1) return { uid: versions[0]!.uid, vectors: [versions[0]!.vector], deleted: versions[0]!.deleted, hash: textHash(versionText(versions[0]!)) }
  const ordered = canonicalOrder(versions)
  // the hash of the versions' hashes: several versions never hash like one, whose text starts with `{`
  const hash = sha256Hex(ordered.map((e) => e.h).join('\n')).slice(0, 32)
  return { uid: versions[0]!.uid, vectors: ordered.map((e) => e.v.vector), deleted: versions[0]!.deleted, hash }
}

/** The group a holding counts in: its current version's digest type and origin (what serve rules decide by). */
export function holdingGroup (current: ObjectVersion): DigestGroup {
  return { type: digestType(current.type, current.id), origin: current.origin }
}

function sha256Hex (text: string): string {
  // the one-shot hash (Node ≥ 20.12) skips the Hash object: a third of the cost for a ~1 KiB record
  return typeof oneShotHash === 'function' ? oneShotHash('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex')
}

// ---- aggregates ----

export function emptyAggregate (): DigestAggregate {
  return { count: 0, h0: 0, h1: 0, h2: 0, h3: 0 }
}

/** Add (or, since XOR is its own inverse, remove: `sign` −1) a leaf hash to an aggregate, in place. */
export function xorLeaf (agg: DigestAggregate, hash: string, sign: 1 | -1): void {
  agg.count += sign
  agg.h0 = (agg.h0 ^ Number.parseInt(hash.slice(0, 8), 16)) >>> 0
  agg.h1 = (agg.h1 ^ Number.parseInt(hash.slice(8, 16), 16)) >>> 0
  agg.h2 = (agg.h2 ^ Number.parseInt(hash.slice(16, 24), 16)) >>> 0
  agg.h3 = (agg.h3 ^ Number.parseInt(hash.slice(24, 32), 16)) >>> 0
}

/** Combine `b` into `a`, in place (`sign` −1 takes a delta back out). */
export function combine (a: DigestAggregate, b: DigestAggregate, sign: 1 | -1 = 1): void {
  a.count += sign * b.count
  a.h0 = (a.h0 ^ b.h0) >>> 0
  a.h1 = (a.h1 ^ b.h1) >>> 0
  a.h2 = (a.h2 ^ b.h2) >>> 0
  a.h3 = (a.h3 ^ b.h3) >>> 0
}

/** The aggregate's hash as 32 hex digits. */
export function aggregateHash (agg: DigestAggregate): string {
  return hex8(agg.h0) + hex8(agg.h1) + hex8(agg.h2) + hex8(agg.h3)
}

export function aggregateFrom (count: number, hash: string): DigestAggregate {
  const agg = { count, h0: 0, h1: 0, h2: 0, h3: 0 }
  xorLeaf(agg, hash, 1)
  agg.count = count
  return agg
}

export function sameAggregate (a: DigestAggregate | undefined, b: DigestAggregate | undefined): boolean {
  const x = a ?? EMPTY
  const y = b ?? EMPTY
  return x.count === y.count && x.h0 === y.h0 && x.h1 === y.h1 && x.h2 === y.h2 && x.h3 === y.h3
}

const EMPTY: DigestAggregate = Object.freeze(emptyAggregate())

function hex8 (n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0')
}
