/**
 * The stored record's JSON text as putObject writes it (level-write-tx.ts):
 * built around a `data` text the caller already has, and measured against
 * the wire JSON without encoding that again.
 */
import type { StoredObject } from './types.js'

/**
 * JSON.stringify(stored), given the text of its `data`: the record without
 * `data` is encoded and the data's text put back where the key goes (after
 * `refs`, before `vector`: putObject's key order). Before `vector` come only
 * strings and an array of strings, whose text cannot contain `,"vector":`
 * unescaped, so its first occurrence is the key.
 */
export function recordText (stored: StoredObject, dataText: string): string {
  const { data: _data, ...rest } = stored // eslint-disable-line @typescript-eslint/no-unused-vars
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
