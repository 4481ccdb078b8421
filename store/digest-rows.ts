/**
 * The digest's rows in the store (sublevel `v`, keys.ts): one leaf row per
 * uid and one aggregate row per (group, stored bucket), and how a record's
 * leaf is computed from the JSON text putObject writes anyway.
 *
 *   L<group>\0<bucket16, 4 hex>\0<uid>  →  <hash, 32 hex><deleted 0|1><vectors JSON>
 *   B<group>\0<bucket6, 2 hex>          →  <count> <hash, 32 hex>
 *
 * `<group>` is JSON of [digest type, origin]: JSON escapes every control
 * character, so the `\0` after it is unambiguous whatever a type holds. Leaf
 * rows sort by group, then bucket, then uid: a bucket at any level is one
 * key range.
 */
import {
  DIGEST_BUCKET_BITS, DIGEST_STORED_BITS, aggregateFrom, aggregateHash, bucketAt, digestType, holdingDigest, textHash, uidBucket,
  type DigestAggregate, type DigestGroup, type DigestLeaf
} from '../protocol/digest.js'
import type { VersionVector } from '../protocol/version-vector.js'
import type { StoredObject } from './types.js'

export const LEAF_PREFIX = 'L'
export const BUCKET_PREFIX = 'B'

/** A record's digest: its leaf, where the leaf row goes, and the row's value. */
export interface RecordDigest {
  readonly leafKey: string
  readonly bucketKey: string
  readonly hash: string
  readonly value: string
}

/** JSON of [type, origin] */
export function groupKey (type: string, origin: string): string {
  return JSON.stringify([type, origin])
}

/**
 * Group keys by type and origin, kept by whoever computes many digests (a
 * store, an upgrade, a check): a store holds few groups, and every put needs one.
 */
export class GroupKeys {
  readonly #keys = new Map<string, Map<string, string>>()

  of (type: string, origin: string): string {
    let byOrigin = this.#keys.get(type)
    if (byOrigin === undefined) this.#keys.set(type, byOrigin = new Map())
    let key = byOrigin.get(origin)
    if (key === undefined) byOrigin.set(origin, key = groupKey(type, origin))
    return key
  }
}

export function parseGroupKey (key: string): DigestGroup {
  const [type, origin] = JSON.parse(key) as [string, string]
  return { type, origin }
}

export function leafKey (group: string, bucket16: number, uid: string): string {
  return `${LEAF_PREFIX}${group}\x00${hex(bucket16, 4)}\x00${uid}`
}

/** The first and last leaf keys of `group` whose buckets have `prefix` at `bits` (a level of DIGEST_LEVELS). */
export function leafRange (group: string, bits: number, prefix: number): { gte: string, lt: string } {
  const shift = DIGEST_BUCKET_BITS - bits
  const lo = bits === 0 ? 0 : prefix << shift
  const hi = bits === 0 ? 1 << DIGEST_BUCKET_BITS : (prefix + 1) << shift
  return {
    gte: `${LEAF_PREFIX}${group}\x00${hex(lo, 4)}\x00`,
    // `hi` may be 0x10000: the key after every bucket of the group
    lt: hi >= 1 << DIGEST_BUCKET_BITS ? `${LEAF_PREFIX}${group}\x01` : `${LEAF_PREFIX}${group}\x00${hex(hi, 4)}\x00`
  }
}

export function bucketKey (group: string, bucket6: number): string {
  return `${BUCKET_PREFIX}${group}\x00${hex(bucket6, 2)}`
}

/** The aggregate row a leaf row counts in. */
export function bucketKeyOfLeaf (leafRowKey: string): string {
  const end = leafRowKey.indexOf('\x00')
  const bucket16 = Number.parseInt(leafRowKey.slice(end + 1, end + 5), 16)
  return bucketKey(leafRowKey.slice(LEAF_PREFIX.length, end), bucketAt(bucket16, DIGEST_STORED_BITS))
}

/** group key, 16-bit bucket and uid of a leaf row's key */
export function parseLeafKey (key: string): { group: string, bucket16: number, uid: string } {
  const end = key.indexOf('\x00')
  return { group: key.slice(LEAF_PREFIX.length, end), bucket16: Number.parseInt(key.slice(end + 1, end + 5), 16), uid: key.slice(end + 6) }
}

/** group key and stored bucket of an aggregate row's key */
export function parseBucketKey (key: string): { group: string, bucket6: number } {
  return { group: key.slice(BUCKET_PREFIX.length, -3), bucket6: Number.parseInt(key.slice(-2), 16) }
}

export function leafValue (hash: string, deleted: boolean, vectorsJson: string): string {
  return `${hash}${deleted ? '1' : '0'}${vectorsJson}`
}

export function leafHashOf (value: string): string {
  return value.slice(0, 32)
}

export function parseLeafValue (uid: string, value: string): DigestLeaf {
  return { uid, hash: value.slice(0, 32), deleted: value[32] === '1', vectors: JSON.parse(value.slice(33)) as VersionVector[] }
}

export function aggregateValue (agg: DigestAggregate): string {
  return `${agg.count} ${aggregateHash(agg)}`
}

export function parseAggregateValue (value: string): DigestAggregate {
  const space = value.indexOf(' ')
  return aggregateFrom(Number.parseInt(value.slice(0, space), 10), value.slice(space + 1))
}

/** `,"conflicts":[],"via":` — what follows `at` in a record without siblings (putObject's key order) */
const PLAIN_TAIL = ',"conflicts":[],"via":'

/**
 * The digest of a record. `text` is the record's JSON as putObject wrote it:
 * for a record without siblings (nearly all), the canonical version text is
 * cut out of it — `{"uid":…,"type":…` before `id`, and `,"parent":…,"at":…`
 * after it — instead of serialising the version again. Why the cuts are
 * exact: `,"id":` and `,"parent":` with unescaped quotes can only be those
 * keys (uid, type and id are JSON strings before them), and the tail after
 * `at` is fixed (see stored-wire.ts). Other records take the general path.
 */
export function recordDigest (record: StoredObject, text: string | undefined, groups: GroupKeys): RecordDigest {
  let canonical: string | undefined
  if (text !== undefined && record.conflicts.length === 0) {
    const idAt = text.indexOf(',"id":')
    const parentAt = idAt === -1 ? -1 : text.indexOf(',"parent":', idAt)
    const end = text.lastIndexOf(PLAIN_TAIL)
    if (parentAt !== -1 && end > parentAt) canonical = text.slice(0, idAt) + text.slice(parentAt, end)
  }
  let hash: string
  let group: string
  let vectorsJson: string
  let deleted: boolean
  if (canonical !== undefined) {
    hash = textHash(canonical)
    group = groups.of(digestType(record.type, record.id), record.origin)
    vectorsJson = `[${JSON.stringify(record.vector)}]`
    deleted = record.deleted
  } else {
    const { leaf, group: g } = holdingDigest(record.conflicts.length === 0 ? [record] : [record, ...record.conflicts])
    hash = leaf.hash
    group = groups.of(g.type, g.origin)
    vectorsJson = JSON.stringify(leaf.vectors)
    deleted = leaf.deleted
  }
  const bucket16 = uidBucket(record.uid)
  return {
    leafKey: leafKey(group, bucket16, record.uid),
    bucketKey: bucketKey(group, bucketAt(bucket16, DIGEST_STORED_BITS)),
    hash,
    value: leafValue(hash, deleted, vectorsJson)
  }
}

function hex (n: number, width: number): string {
  return n.toString(16).padStart(width, '0')
}
