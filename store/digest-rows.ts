/**
 * The digest's rows in the store, and how a record's leaf is computed from
 * the JSON text putObject writes anyway.
 *
 * A leaf is the VALUE of the record's type-index row (`t`, keys.ts), which
 * putObject writes for every record already: no row more per object (a new
 * row per object cost ~10 % of an initial sync; a value on an existing one
 * almost nothing). One aggregate row per group (sublevel `v`):
 *
 *   t: <type>\0<uid>        →  <hash, 32 hex><flag><origin JSON>\0<vectors JSON>
 *   v: G<group JSON>        →  <count> <hash, 32 hex>
 *
 * `flag` is 0/1 (not a tombstone / a tombstone), 2/3 likewise for a record
 * whose digest type is not its type (`@registry:other`). A group is JSON of
 * [digest type, origin]; JSON escapes every control character, so `\0`
 * separates unambiguously. A type row of an older store holds '' (no leaf)
 * until the upgrade step (upgrades/step-digest.ts) has filled it.
 */
import { OTHER_REGISTRY_TYPE, digestType, holdingLeaf, textHash, type DigestGroup, type DigestLeaf } from '../protocol/digest.js'
import type { VersionVector } from '../protocol/version-vector.js'
import { typeKey } from './keys.js'
import type { StoredObject } from './types.js'

export const GROUP_PREFIX = 'G'

/** A record's digest: its type-index row (key and value, the leaf) and its group. */
export interface RecordDigest {
  readonly typeRowKey: string
  readonly group: string
  readonly hash: string
  readonly value: string
}

/** A type-index row read back: its uid, group and leaf (undefined when the row holds no leaf). */
export interface TypeRowLeaf {
  readonly uid: string
  readonly group: DigestGroup
  readonly leaf: DigestLeaf
}

/** JSON of [type, origin] */
export function groupKey (type: string, origin: string): string {
  return JSON.stringify([type, origin])
}

export function parseGroupKey (key: string): DigestGroup {
  const [type, origin] = JSON.parse(key) as [string, string]
  return { type, origin }
}

/** The aggregate row of a group. */
export function groupRowKey (group: string): string {
  return GROUP_PREFIX + group
}

/**
 * Group keys and origins as JSON, kept by whoever computes many digests (a
 * store, an upgrade, a check): a store holds few of each, and every put
 * needs both.
 */
export class DigestKeys {
  readonly #groups = new Map<string, Map<string, string>>()
  readonly #origins = new Map<string, string>()

  group (type: string, origin: string): string {
    let byOrigin = this.#groups.get(type)
    if (byOrigin === undefined) this.#groups.set(type, byOrigin = new Map())
    let key = byOrigin.get(origin)
    if (key === undefined) byOrigin.set(origin, key = groupKey(type, origin))
    return key
  }

  origin (origin: string): string {
    let json = this.#origins.get(origin)
    if (json === undefined) this.#origins.set(origin, json = JSON.stringify(origin))
    return json
  }
}

export function leafHashOf (value: string): string {
  return value.slice(0, 32)
}

/** The uid, group and leaf of a type-index row, or undefined for a row without a leaf. */
export function parseTypeRow (key: string, value: string): TypeRowLeaf | undefined {
  if (value.length < 34) return undefined
  const cut = key.indexOf('\x00')
  const type = key.slice(0, cut)
  const flag = value.charCodeAt(32) - 48
  const sep = value.indexOf('\x00', 33)
  const origin = JSON.parse(value.slice(33, sep)) as string
  const uid = key.slice(cut + 1)
  return {
    uid,
    group: { type: flag >= 2 ? OTHER_REGISTRY_TYPE : type, origin },
    leaf: { uid, hash: value.slice(0, 32), deleted: (flag & 1) === 1, vectors: JSON.parse(value.slice(sep + 1)) as VersionVector[] }
  }
}

/** The group key a type-index row counts in (read without parsing its vectors). */
export function groupOfTypeRow (key: string, value: string, keys: DigestKeys): string | undefined {
  if (value.length < 34) return undefined
  const type = key.slice(0, key.indexOf('\x00'))
  const sep = value.indexOf('\x00', 33)
  return keys.group(value.charCodeAt(32) >= 50 ? OTHER_REGISTRY_TYPE : type, JSON.parse(value.slice(33, sep)) as string)
}

export function aggregateText (count: number, hash: string): string {
  return `${count} ${hash}`
}

/** `,"conflicts":[],"via":` — what follows `at` in a record without siblings (putObject's key order) */
const PLAIN_TAIL = ',"conflicts":[],"via":'

const SIG_KEY = ',"sig":{'

/**
 * Where the version's canonical text ends in a record's JSON: before the
 * tail, and before the signature when there is one (`sig` follows `at`; the
 * digest hashes what the store holds, never the signature: see
 * protocol/digest.ts). -1 when the text is not as putObject writes it.
 * `own`: the text is the one putObject has just made of `record`, so the
 * signature is where it puts it — its key's last occurrence before the tail
 * (the signature's own members are strings and numbers) — and need not be
 * serialised again to be found; a text read back from disk is checked.
 */
function plainEnd (text: string, record: StoredObject, own: boolean): number {
  const tail = text.lastIndexOf(PLAIN_TAIL)
  if (record.sig === undefined || tail === -1) return tail
  if (own) return text.lastIndexOf(SIG_KEY, tail)
  const sigText = `,"sig":${JSON.stringify(record.sig)}`
  return text.endsWith(sigText, tail) ? tail - sigText.length : -1
}

/**
 * The digest of a record. `text` is the record's JSON as putObject wrote it:
 * for a record without siblings (nearly all) the canonical version text is
 * cut out of it — `{"uid":…,"type":…` before `id`, and `,"parent":…,"at":…`
 * after it — instead of serialising the version again, and so is its vector
 * (`,"vector":{` … before `,"origin":`). Why the cuts are exact: `,"id":`,
 * `,"parent":` and `,"origin":` with unescaped quotes can only be those keys
 * where they are searched for (strings before them, nothing but `origin`,
 * `deleted` and `at` after the last), `,"vector":{` only the key (a vector's
 * own values are numbers), and the tail after `at` is fixed (see
 * stored-wire.ts). Other records take the general path (protocol/digest.ts).
 * `own`: `text` is what putObject has just made of `record` (see plainEnd).
 */
export function recordDigest (record: StoredObject, text: string | undefined, keys: DigestKeys, own = false): RecordDigest {
  const type = digestType(record.type, record.id)
  const flag = (type === record.type ? 0 : 2) + (record.deleted ? 1 : 0)
  if (text !== undefined && record.conflicts.length === 0) {
    const idAt = text.indexOf(',"id":')
    const parentAt = idAt === -1 ? -1 : text.indexOf(',"parent":', idAt)
    const end = plainEnd(text, record, own)
    const originAt = end === -1 ? -1 : text.lastIndexOf(',"origin":', end)
    const vectorAt = originAt === -1 ? -1 : text.lastIndexOf(',"vector":{', originAt)
    if (parentAt !== -1 && vectorAt > parentAt) {
      const hash = textHash(text.slice(0, idAt) + text.slice(parentAt, end))
      return {
        typeRowKey: typeKey(record.type, record.uid),
        group: keys.group(type, record.origin),
        hash,
        value: `${hash}${flag}${keys.origin(record.origin)}\x00[${text.slice(vectorAt + 10, originAt)}]`
      }
    }
  }
  const leaf = holdingLeaf(record.conflicts.length === 0 ? [record] : [record, ...record.conflicts])
  return {
    typeRowKey: typeKey(record.type, record.uid),
    // the group (and the tombstone flag) of the current version, as serve rules see it, even when a sibling's type differs
    group: keys.group(type, record.origin),
    hash: leaf.hash,
    value: `${leaf.hash}${flag}${keys.origin(record.origin)}\x00${JSON.stringify(leaf.vectors)}`
  }
}
