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
import { MAX_BATCH_OBJECTS, PROTOCOL_VERSION_2 } from './constants.js'
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
  return `${BULK_MARK}${head}\n${parts.join('')}`
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

/** A bulk frame's body (after BULK_MARK) as the batch it carries, validated as that batch would be as JSON. */
export function decodeBulkBatch (text: string): DecodeResult<BatchMessage> {
  const nl = text.indexOf('\n')
  if (text[0] !== BULK_MARK || nl === -1) return refused('no header line')
  const header = parse(text.slice(1, nl))
  if (!header.ok) return refused('its header is not valid JSON')
  if (!isPlain(header.value) || !Array.isArray(header.value.sizes)) return refused('its header is not an object with `sizes`')
  const { sizes, ...fields } = header.value as { sizes: unknown[] }
  if (sizes.length % 2 !== 0 || sizes.length > 2 * MAX_BATCH_OBJECTS) return refused(`\`sizes\` must pair envelope and data lengths of at most ${MAX_BATCH_OBJECTS} objects`)
  const n = sizes.length / 2
  const changes: unknown[] = new Array(n)
  const datas: Array<[object, string] | undefined> = new Array(n)
  let at = nl + 1
  for (let i = 0; i < n; i++) {
    const e = sizes[2 * i]
    const d = sizes[2 * i + 1]
    if (!Number.isSafeInteger(e) || (e as number) < 1 || !Number.isSafeInteger(d) || (d as number) < 0 || at + (e as number) + (d as number) > text.length) {
      return refused(`the sizes of object ${i} do not fit the frame`)
    }
    const envelope = parse(text.slice(at, at += e as number))
    if (!envelope.ok) return refused(`object ${i}: its envelope is not valid JSON`)
    if (d === 0) {
      changes[i] = envelope.value
      continue
    }
    if (!isPlain(envelope.value) || hasOwn.call(envelope.value, 'data')) return refused(`object ${i}: its envelope is not an object without \`data\``)
    const dataText = text.slice(at, at += d as number)
    const data = parse(dataText)
    if (!data.ok) return refused(`object ${i}: its data is not valid JSON`)
    // the parsed envelope itself gets its data (no copy): the decoder below returns a fresh object anyway
    envelope.value.data = data.value
    changes[i] = envelope.value
    if (typeof data.value === 'object' && data.value !== null) datas[i] = [data.value, dataText]
  }
  if (at !== text.length) return refused(`${text.length - at} characters after its last object`)
  const decoded = decodeServerMessage({ ...fields, changes }, PROTOCOL_VERSION_2)
  if (!decoded.ok) return decoded
  if (decoded.message.type !== 'batch') return refused('it must carry a batch')
  const dataTexts = new Map<object, string>()
  const decodedChanges = decoded.message.changes
  for (let i = 0; i < n; i++) {
    const pair = datas[i]
    if (pair !== undefined && decodedChanges[i]?.data === pair[0]) dataTexts.set(pair[0], pair[1])
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
