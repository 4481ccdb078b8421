/**
 * The stored record and its JSON text as putObject writes them
 * (level-write-tx.ts): fields in a fixed order (agent/wire.ts relies on it),
 * the text built around a `data` text the caller already has, and measured
 * against MAX_OBJECT_BYTES and the wire limit without encoding it again. Pure:
 * a record over a limit throws ObjectTooLargeError before anything is written.
 */
import { ObjectTooLargeError } from '../protocol/errors.js'
import { MAX_OBJECT_BYTES } from '../protocol/constants.js'
import { utf8BytesOver } from '../protocol/json-size.js'
import type { ObjectWrite, PutLimits, StoredObject } from './types.js'

/** The record `object` becomes at feed position `seq`, and its stored text. */
export function storedRecord (object: ObjectWrite, seq: number, limits: PutLimits | undefined): { stored: StoredObject, text: string } {
  // field by field rather than toVersion + spread: one object instead of two
  // on the hot path; stored key order fixed (agent/wire.ts storedJsonToWire
  // relies on it)
  const stored: StoredObject = {
    uid: object.uid,
    type: object.type,
    id: object.id,
    parent: object.parent,
    refs: object.refs,
    data: object.data,
    vector: object.vector,
    origin: object.origin,
    deleted: object.deleted,
    at: object.at,
    ...(object.sig !== undefined ? { sig: object.sig } : {}),
    conflicts: object.conflicts,
    via: object.via,
    ...(object.viaEpoch !== undefined ? { viaEpoch: object.viaEpoch } : {}),
    ...(object.conflictVia !== undefined ? { conflictVia: object.conflictVia } : {}),
    seq
  }
  // encoded here, once: the size check costs nothing more, and writeBatch
  // puts the text as is (with the data's text when the caller has it already)
  const text = limits?.dataText !== undefined ? recordText(stored, limits.dataText) : JSON.stringify(stored)
  const over = utf8BytesOver(text, MAX_OBJECT_BYTES)
  if (over !== undefined) throw new ObjectTooLargeError(stored.uid, over, MAX_OBJECT_BYTES)
  if (limits?.maxWireBytes !== undefined) {
    // the wire JSON is the stored text without its store-local fields: measured from the text already made
    const local = storeLocalBytes(stored)
    const wireOver = utf8BytesOver(text, limits.maxWireBytes + local)
    if (wireOver !== undefined) throw new ObjectTooLargeError(stored.uid, wireOver - local, limits.maxWireBytes)
  }
  return { stored, text }
}

/**
 * JSON.stringify(stored), given the text of its `data`: the record without
 * `data` is encoded and the data's text put back where the key goes (after
 * `refs`, before `vector`: putObject's key order). Before `vector` come only
 * strings and an array of strings, whose text cannot contain `,"vector":`
 * unescaped, so its first occurrence is the key.
 */
export function recordText (stored: StoredObject, dataText: string): string {
  // the record without `data` as a literal in storedRecord's key order: a
  // rest-destructuring copy (`{ data, ...rest }`) is V8's slow generic
  // property copy, and this runs once per stored version on both sides
  const rest = {
    uid: stored.uid,
    type: stored.type,
    id: stored.id,
    parent: stored.parent,
    refs: stored.refs,
    vector: stored.vector,
    origin: stored.origin,
    deleted: stored.deleted,
    at: stored.at,
    sig: stored.sig,
    conflicts: stored.conflicts,
    via: stored.via,
    viaEpoch: stored.viaEpoch,
    conflictVia: stored.conflictVia,
    seq: stored.seq
  }
  const text = JSON.stringify(rest)
  const at = text.indexOf(',"vector":')
  return `${text.slice(0, at)},"data":${dataText}${text.slice(at)}`
}

/**
 * UTF-8 bytes that the stored record's JSON has and its wire JSON
 * (agent/wire.ts toWire) has not: an empty `conflicts`, `via`, `viaEpoch`,
 * `conflictVia` and `seq` — putObject writes exactly these after `at`.
 */
export function storeLocalBytes (stored: StoredObject): number {
  let bytes = stored.conflicts.length === 0 ? EMPTY_CONFLICTS.length : 0
  bytes += Buffer.byteLength(`,"via":${JSON.stringify(stored.via)}`)
  if (stored.viaEpoch !== undefined) bytes += Buffer.byteLength(`,"viaEpoch":${JSON.stringify(stored.viaEpoch)}`)
  if (stored.conflictVia !== undefined) bytes += Buffer.byteLength(`,"conflictVia":${JSON.stringify(stored.conflictVia)}`)
  return bytes + `,"seq":${stored.seq}`.length
}
const EMPTY_CONFLICTS = ',"conflicts":[]'
