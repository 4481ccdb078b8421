/**
 * Conversions between what the store holds and what travels: a stored object
 * becomes a WireObject (its current version plus conflict siblings, without
 * store-local metadata), serialised once and spliced into batch frames.
 *
 * Serving is the hot path of an initial sync: `storedJsonToWire` turns the
 * stored JSON text of a record without siblings into its wire JSON by cutting
 * off the store-local tail, without parsing and re-serialising it.
 */
import { toVersion, type WireObject } from '../protocol/object.js'
import type { StoredObject } from './types.js'

export function toWire (object: StoredObject): WireObject {
  const wire: WireObject = toVersion(object)
  return object.conflicts.length > 0 ? { ...wire, conflicts: object.conflicts } : wire
}


/** The store-local tail of a record without siblings, as putObject writes it. */
const STORED_TAIL = ',"conflicts":[],"via":'
/**
 * what follows STORED_TAIL up to the end: `via` (null or a peer name, which
 * NAME_RE keeps free of quotes), the optional `viaEpoch` (hex) and `seq`
 */
const TAIL_REST = /^(?:null|"([A-Za-z0-9._-]{1,63})")(?:,"viaEpoch":"([0-9a-f]{1,64})")?,"seq":\d{1,16}\}$/
/** uid and type, when neither needs JSON escapes */
const HEAD = /^\{"uid":"[^"\\]{1,128}","type":"([^"\\]{1,128})","id":/

export interface StoredWire {
  /** the wire JSON: what JSON.stringify(toWire(record)) gives */
  readonly json: string
  readonly type: string
  readonly via: string | null
  /** the epoch of the feed `via` had when this version came from it */
  readonly viaEpoch: string | undefined
}

/**
 * The wire JSON of a stored record given its JSON text, or undefined when the
 * text is not the plain shape (siblings, escapes in uid or type, another key
 * order): then parse it and use toWire.
 *
 * Why the cut is exact: JSON.stringify writes a record's keys in creation
 * order, and putObject creates them as the wire fields (uid … at) followed by
 * conflicts, via, viaEpoch (when known) and seq. Read backwards from the end
 * of valid JSON text, `,"conflicts":[],"via":<null|"name">[,"viaEpoch":"hex"],"seq":<digits>}`
 * can only be those top-level keys (every quote in it is unescaped, the last
 * value is a number), so everything before it is the wire object's members.
 */
export function storedJsonToWire (text: string): StoredWire | undefined {
  const at = text.lastIndexOf(STORED_TAIL)
  if (at === -1) return undefined
  const tail = TAIL_REST.exec(text.slice(at + STORED_TAIL.length))
  if (tail === null) return undefined
  const head = HEAD.exec(text)
  if (head === null) return undefined
  return { json: text.slice(0, at) + '}', type: head[1]!, via: tail[1] ?? null, viaEpoch: tail[2] }
}
