/**
 * Version 2's bulk frame: a `batch` whose objects travel as JSON texts of
 * their own, so the receiver can store the `data` text it received instead
 * of serialising the parsed data again (for a signed version whose content
 * hash that very text matches, which proves it is the canonical text the
 * store would have written: agent/apply/provenance.ts).
 *
 * Frame body (UTF-8, behind the usual length prefix; codec.ts):
 *
 *     B<header JSON>\n<envelope 1><data 1><envelope 2><data 2>…
 *
 * The header is the batch message without `changes`, plus `sizes`: for each
 * object the length of its envelope and of its data text, in UTF-16 code
 * units of the decoded body. An envelope is the wire object without `data`
 * and the data text is its `data`; a data length of 0 means the envelope is
 * the whole wire object (objects with conflict siblings travel so). Every
 * other frame of a version-2 session is a JSON message (its body starts
 * with `{`). A JSON text holds no raw newline, so the first one ends the
 * header.
 *
 * Strictness: the decoder puts each object together again (envelope members
 * plus `data`) and hands the whole message to the version's decoder — the
 * fast path or zod — so a bulk frame is accepted exactly when the same batch
 * as one JSON message would be. The data texts are kept only for data
 * objects the decoded message holds as they were parsed.
 */
import { isAscii, isUtf8 } from 'node:buffer'
import { allocFrame, utf8Text } from './codec.js'
import { MAX_BATCH_OBJECTS, MAX_FRAME_BYTES, PROTOCOL_VERSION_2 } from './constants.js'
import { MessageTooLargeError } from './errors.js'
import { decodeServerMessage, type DecodeResult } from './decode.js'
import type { BatchMessage, ServerMessage } from './messages.js'

/** first character of a bulk frame's body */
export const BULK_MARK = 'B'

const hasOwn = Object.prototype.hasOwnProperty

export interface BulkHeader {
  readonly id: number
  readonly lastSeq: number
  readonly last: boolean
  readonly more: boolean
  readonly remaining: number
  /** pushed batches: the feed position the batch follows (messages.ts BatchMessage.from) */
  readonly from?: number
}

/**
 * Split one object's wire JSON, as the serving store cut it from its record
 * (store/stored-wire.ts: key order uid … refs, data, vector … at[, sig], no
 * conflicts), into envelope and data text; undefined when it is not of that
 * shape (then it travels whole). Between `,"data":` and the last
 * `,"vector":` lies the data: before `data` come only strings and an array
 * of strings, after `vector` only strings, numbers, booleans and the
 * signature's strings, whose text cannot hold those keys unescaped — unless
 * conflict siblings follow.
 */
export function splitWireJson (json: string): { envelope: string, data: string } | undefined {
  const at = json.indexOf(',"data":')
  const end = json.lastIndexOf(',"vector":')
  // siblings carry a `vector` of their own after the top-level one: such objects travel whole
  // (so does one whose data merely has a "conflicts" key: the safe side)
  if (at === -1 || end <= at + 8 || json.includes('"conflicts":')) return undefined
  return { envelope: json.slice(0, at) + json.slice(end), data: json.slice(at + 8, end) }
}

/** The body of a bulk frame carrying `objects` (wire JSON texts) under `header`. */
export function bulkBatchText (header: BulkHeader, objects: readonly string[]): string {
  const { head, parts } = bulkParts(header, objects)
  return `${head}${parts.join('')}`
}

/**
 * The whole frame (length prefix and body) of bulkBatchText(header,
 * objects): the same bytes, each part encoded into the frame where it goes,
 * without the body as one string first (a string over 128 KiB is made in
 * V8's large-object space, ~4 ms per MiB, then encoded again: bench/README.md,
 * round four). Throws MessageTooLargeError over `maxFrameBytes`, as
 * codec.ts encodeJsonFrame does.
 */
export function bulkBatchFrame (header: BulkHeader, objects: readonly string[], maxFrameBytes = MAX_FRAME_BYTES): Uint8Array {
  const { head, parts } = bulkParts(header, objects)
  let length = Buffer.byteLength(head)
  for (let i = 0; i < parts.length; i++) length += Buffer.byteLength(parts[i]!)
  if (length > maxFrameBytes) throw new MessageTooLargeError(length, maxFrameBytes)
  const { frame, body } = allocFrame(length)
  const out = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  // the parts are whole JSON texts or cut at ASCII characters: their encodings joined are the body's
  let at = out.write(head, 0)
  for (let i = 0; i < parts.length; i++) at += out.write(parts[i]!, at)
  return frame
}

/** A bulk frame body's header line (BULK_MARK included) and its parts in order: envelope, data text, envelope, … */
function bulkParts (header: BulkHeader, objects: readonly string[]): { head: string, parts: string[] } {
  const sizes: number[] = new Array(objects.length * 2)
  const parts: string[] = new Array(objects.length * 2)
  for (let i = 0; i < objects.length; i++) {
    const split = splitWireJson(objects[i]!)
    parts[2 * i] = split?.envelope ?? objects[i]!
    parts[2 * i + 1] = split?.data ?? ''
    sizes[2 * i] = parts[2 * i]!.length
    sizes[2 * i + 1] = parts[2 * i + 1]!.length
  }
  const head = `{"type":"batch","v":${PROTOCOL_VERSION_2},"id":${header.id},"lastSeq":${header.lastSeq},"last":${header.last},"more":${header.more},"remaining":${header.remaining}${header.from !== undefined ? `,"from":${header.from}` : ''},"sizes":[${sizes.join(',')}]}`
  return { head: `${BULK_MARK}${head}\n`, parts }
}

function refused (error: string): { ok: false, error: string } {
  return { ok: false, error: `invalid bulk frame: ${error}` }
}

function parse (text: string): { ok: true, value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

function isPlain (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Where the objects of a bulk frame are read from, segment by segment: the
 * next `units` UTF-16 code units as a string, PAST_END when they run past the
 * frame, SPLIT when they end inside a character (bytes only; a surrogate
 * pair split between two JSON texts makes neither valid JSON: the caller
 * decodes the frame whole instead, which refuses it with the usual error);
 * and how many code units are left after the last object.
 */
interface Segments {
  take (units: number): string | typeof PAST_END | typeof SPLIT
  rest (): number
}

const PAST_END = 0
const SPLIT = 1

function textSegments (text: string, at: number): Segments {
  return {
    take (units) {
      if (at + units > text.length) return PAST_END
      return text.slice(at, at += units)
    },
    rest: () => text.length - at
  }
}

/**
 * Segments read straight from the frame's UTF-8 bytes (checked valid
 * before): each envelope and data text becomes a string of its own, decoded
 * from its bytes — the same string as a slice of the whole body decoded,
 * without that body as one string: V8 puts a string over 128 KiB (a bulk
 * frame is up to ~1 MiB) in its large-object space, and making one cost
 * ~4 ms per MiB, 30× a small string's copy (bench/README.md, round four).
 * An ASCII text has one byte per code unit; in others the units are counted
 * over the bytes.
 */
function byteSegments (bytes: Uint8Array, at: number): Segments {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const length = bytes.byteLength
  if (isAscii(bytes)) {
    return {
      take (units) {
        if (at + units > length) return PAST_END
        return buf.toString('latin1', at, at += units)
      },
      rest: () => length - at
    }
  }
  return {
    take (units) {
      // most texts are ASCII even in a frame that is not (a "µg/L" here and there): one native check, then one byte per unit
      const end = at + units <= length && isAscii(bytes.subarray(at, at + units)) ? at + units : unitsEnd(bytes, at, units)
      if (end < 0) return end === -1 ? PAST_END : SPLIT
      return buf.toString('utf8', at, at = end)
    },
    rest () {
      let units = 0
      for (let i = at; i < length; i++) {
        const c = bytes[i]!
        // a character's first byte: one code unit, or two for a 4-byte character
        if ((c & 0xc0) !== 0x80) units += c >= 0xf0 ? 2 : 1
      }
      return units
    }
  }
}

/**
 * The byte after `units` UTF-16 code units of valid UTF-8 from `at`; -1 when
 * the bytes end first, -2 when the last unit is the first half of a 4-byte
 * character's surrogate pair.
 */
function unitsEnd (bytes: Uint8Array, at: number, units: number): number {
  const length = bytes.byteLength
  while (units > 0) {
    if (at >= length) return -1
    const c = bytes[at]!
    if (c < 0x80) { at++; units-- } else if (c >= 0xf0) {
      if (units === 1) return -2
      at += 4; units -= 2
    } else if (c >= 0xe0) { at += 3; units-- } else { at += 2; units-- }
  }
  return at
}

/** A bulk frame's body (after BULK_MARK) as the batch it carries, validated as that batch would be as JSON. */
export function decodeBulkBatch (text: string): DecodeResult<BatchMessage> {
  const nl = text.indexOf('\n')
  if (text[0] !== BULK_MARK || nl === -1) return refused('no header line')
  return decodeBulk(text.slice(1, nl), textSegments(text, nl + 1)) as DecodeResult<BatchMessage>
}

const BULK_BYTE = BULK_MARK.charCodeAt(0)
const NEWLINE_BYTE = 0x0a

/**
 * decodeBulkBatch of a bulk frame's body as UTF-8 bytes: the same verdict,
 * message and error texts as decoding the body to text first, and invalid
 * UTF-8 throws the same ProtocolError as utf8Text.
 */
export function decodeBulkBatchBytes (bytes: Uint8Array): DecodeResult<BatchMessage> {
  if (!isUtf8(bytes)) return decodeBulkBatch(utf8Text(bytes))
  // the first 0x0a byte is the first newline character: UTF-8 encodes no other character with it
  const nl = bytes.indexOf(NEWLINE_BYTE)
  if (bytes[0] !== BULK_BYTE || nl === -1) return refused('no header line')
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', 1, nl)
  const decoded = decodeBulk(header, byteSegments(bytes, nl + 1))
  return decoded === SPLIT ? decodeBulkBatch(utf8Text(bytes)) : decoded
}

function decodeBulk (headerText: string, segments: Segments): DecodeResult<BatchMessage> | typeof SPLIT {
  const header = parse(headerText)
  if (!header.ok) return refused('its header is not valid JSON')
  if (!isPlain(header.value) || !Array.isArray(header.value.sizes)) return refused('its header is not an object with `sizes`')
  const { sizes, ...fields } = header.value as { sizes: unknown[] }
  if (sizes.length % 2 !== 0 || sizes.length > 2 * MAX_BATCH_OBJECTS) return refused(`\`sizes\` must pair envelope and data lengths of at most ${MAX_BATCH_OBJECTS} objects`)
  const n = sizes.length / 2
  const changes: unknown[] = new Array(n)
  // each data object parsed, and the text it was parsed from, at 2i and 2i + 1 (flat: no pair per object)
  const datas: unknown[] = new Array(2 * n)
  for (let i = 0; i < n; i++) {
    const e = sizes[2 * i]
    const d = sizes[2 * i + 1]
    if (!Number.isSafeInteger(e) || (e as number) < 1 || !Number.isSafeInteger(d) || (d as number) < 0) {
      return refused(`the sizes of object ${i} do not fit the frame`)
    }
    const envelopeText = segments.take(e as number)
    const dataText = d === 0 ? '' : segments.take(d as number)
    if (envelopeText === SPLIT || dataText === SPLIT) return SPLIT
    if (envelopeText === PAST_END || dataText === PAST_END) return refused(`the sizes of object ${i} do not fit the frame`)
    const envelope = parse(envelopeText)
    if (!envelope.ok) return refused(`object ${i}: its envelope is not valid JSON`)
    if (d === 0) {
      changes[i] = envelope.value
      continue
    }
    if (!isPlain(envelope.value) || hasOwn.call(envelope.value, 'data')) return refused(`object ${i}: its envelope is not an object without \`data\``)
    const data = parse(dataText)
    if (!data.ok) return refused(`object ${i}: its data is not valid JSON`)
    // the parsed envelope itself gets its data (no copy): the decoder below returns a fresh object anyway
    envelope.value.data = data.value
    changes[i] = envelope.value
    if (typeof data.value === 'object' && data.value !== null) {
      datas[2 * i] = data.value
      datas[2 * i + 1] = dataText
    }
  }
  const rest = segments.rest()
  if (rest !== 0) return refused(`${rest} characters after its last object`)
  const decoded = decodeServerMessage({ ...fields, changes }, PROTOCOL_VERSION_2)
  if (!decoded.ok) return decoded
  if (decoded.message.type !== 'batch') return refused('it must carry a batch')
  const dataTexts = new Map<object, string>()
  const decodedChanges = decoded.message.changes
  for (let i = 0; i < n; i++) {
    const data = datas[2 * i]
    if (data !== undefined && decodedChanges[i]?.data === data) dataTexts.set(data as object, datas[2 * i + 1] as string)
  }
  return { ok: true, message: { ...decoded.message, dataTexts } }
}

/** A frame of a version-2 session, from a server: a bulk batch or a JSON message. */
export function decodeServerTextV2 (text: string): DecodeResult<ServerMessage> {
  if (text[0] === BULK_MARK) return decodeBulkBatch(text)
  const value = parse(text)
  if (!value.ok) return { ok: false, error: 'frame is not valid JSON' }
  return decodeServerMessage(value.value, PROTOCOL_VERSION_2)
}

/** decodeServerTextV2 of a frame's body as UTF-8 bytes (a bulk frame is never made one string: byteSegments). */
export function decodeServerBytesV2 (bytes: Uint8Array): DecodeResult<ServerMessage> {
  if (bytes[0] === BULK_BYTE) return decodeBulkBatchBytes(bytes)
  return decodeServerTextV2(utf8Text(bytes))
}
