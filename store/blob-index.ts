/**
 * The blob reference index (`b` and `g` rows, keys.ts): which objects
 * reference which blob, and when a blob last lost a reference. Kept by
 * putObject in the SAME batch as the record it describes, whatever wrote the
 * record (local writes, applied batches, resolutions, tombstones), so the
 * index never disagrees with the objects: serve rules ("a peer gets a blob
 * only if it may see an object that references it") and garbage collection
 * read it. An object's references are those of every version it holds —
 * current and conflict siblings — since siblings travel and may become
 * current.
 */
import { blobRefsOfVersions } from '../protocol/blob-ref.js'
import type { ObjectVersion } from '../protocol/object.js'
import { blobRefKey } from './keys.js'
import type { BatchOp, Sub } from './sublevels.js'

/** JSON of any blob reference holds this text (the key, as JSON.stringify writes it) */
const BLOB_KEY_JSON = '"blob":'
const NONE: readonly string[] = Object.freeze([])

/**
 * The hashes a record's versions reference, each once. `json`, the record's
 * JSON when the caller has it, lets the (common) record without any `blob`
 * key skip the walk through its data.
 */
export function recordBlobHashes (record: ObjectVersion & { readonly conflicts: readonly ObjectVersion[] }, json?: string): readonly string[] {
  if (json !== undefined && !json.includes(BLOB_KEY_JSON)) return NONE
  const versions = record.conflicts.length === 0 ? [record] : [record, ...record.conflicts]
  const refs = blobRefsOfVersions(versions)
  return refs.length === 0 ? NONE : refs.map((r) => r.blob)
}

/** How one record's references changed: rows to write, and per hash whether `uid` now references it. */
export interface BlobIndexChange {
  readonly ops: BatchOp[]
  readonly refs: Array<[hash: string, referenced: boolean]>
}

/**
 * The `b` and `g` operations that move `uid` from referencing `before` to
 * referencing `after`: a row per new reference, a deleted row and an orphan
 * mark (now) per reference that went away.
 */
export function blobIndexChange (subs: { blobRefs: Sub, blobOrphans: Sub }, uid: string, before: readonly string[], after: readonly string[], now: number): BlobIndexChange | undefined {
  if (before.length === 0 && after.length === 0) return undefined
  const ops: BatchOp[] = []
  const refs: Array<[string, boolean]> = []
  for (const hash of after) {
    if (before.includes(hash)) continue
    ops.push({ type: 'put', sublevel: subs.blobRefs, key: blobRefKey(hash, uid), value: '' })
    refs.push([hash, true])
  }
  for (const hash of before) {
    if (after.includes(hash)) continue
    ops.push({ type: 'del', sublevel: subs.blobRefs, key: blobRefKey(hash, uid) })
    ops.push({ type: 'put', sublevel: subs.blobOrphans, key: hash, value: now })
    refs.push([hash, false])
  }
  return ops.length === 0 ? undefined : { ops, refs }
}
