/**
 * Protocol version 2's bulk frame (protocol/bulk-frame.ts) against its
 * specification: a bulk frame is accepted exactly when the same batch as one
 * JSON message of version 2 would be (zod decides), with the same result;
 * the data texts it keeps are the very texts each data object was parsed
 * from; hostile framing (sizes, envelopes, trailing bytes) is refused
 * without throwing. Inputs: generated LIMS objects, seeded field mutations
 * and seeded character-level mutations of whole frames.
 */
import { describe, expect, it } from 'vitest'
import { generateLimsObjects } from '../../agent/demo/lims-data.js'
import { createRng } from '../../agent/demo/rng.js'
import { MAX_BATCH_OBJECTS } from '../../protocol/constants.js'
import { bulkBatchFrame, bulkBatchText, decodeBulkBatch, decodeBulkBatchBytes, splitWireJson } from '../../protocol/bulk-frame.js'
import { encodeJsonFrame, utf8Text } from '../../protocol/codec.js'
import { MessageTooLargeError, ProtocolError } from '../../protocol/errors.js'
import { decodeServerMessageWithZod } from '../../protocol/decode.js'
import type { BatchMessage } from '../../protocol/messages.js'
import { contentHash, matchContentHash } from '../../protocol/provenance.js'
import { serverDecoderFor } from '../../protocol/session-decoders.js'

type Rec = Record<string, unknown>

const objects = [...generateLimsObjects({ domain: 'lab-a', seed: 5, count: 60 })] as unknown as Rec[]
const sig: Rec = { by: 'lab-a', peer: '12D3KooWBXWs8xfq6T4ixwWABMpvMWvsjDgVBZm6WAHX44Cuyo9V', h: 'h'.repeat(43), sig: 's'.repeat(86) }
const header = { id: 3, lastSeq: 9, last: true, more: false, remaining: 0 }
const asJson = (changes: unknown[]): Rec => ({ type: 'batch', v: 2, ...header, changes })

/** Asserts the bulk decoder agrees with zod on the batch of these wire texts; returns whether it accepted. */
function agree (texts: string[]): boolean {
  const bulk = decodeBulkBatch(bulkBatchText(header, texts))
  let parsed: unknown[]
  try { parsed = texts.map((t) => JSON.parse(t) as unknown) } catch { expect(bulk.ok).toBe(false); return false }
  const zod = decodeServerMessageWithZod(asJson(parsed), 2)
  expect(bulk.ok).toBe(zod.ok)
  if (bulk.ok && zod.ok) {
    const { dataTexts, ...message } = bulk.message as BatchMessage
    expect(message).toStrictEqual(zod.message)
    for (const [data, text] of dataTexts ?? []) expect(JSON.parse(text)).toStrictEqual(data)
  }
  return bulk.ok
}

describe('protocol v2 bulk frames', () => {
  it('carry generated objects, signed and not, with their data texts, as the JSON batch would', () => {
    const texts = objects.map((o, i) => JSON.stringify(i % 2 === 0 ? { ...o, sig } : o))
    expect(agree(texts)).toBe(true)
    const decoded = decodeBulkBatch(bulkBatchText(header, texts))
    if (!decoded.ok) throw new Error(decoded.error)
    const message = decoded.message as BatchMessage
    expect(message.changes.length).toBe(objects.length)
    for (const change of message.changes) expect(message.dataTexts?.get(change.data)).toBe(JSON.stringify(change.data))
    expect(decodeBulkBatch(bulkBatchText(header, [])).ok).toBe(true)
  })

  it('send objects with conflict siblings whole, and still decode them', () => {
    const withSiblings = JSON.stringify({ ...objects[0], conflicts: [{ ...objects[1], uid: objects[0]!.uid }] })
    expect(splitWireJson(withSiblings)).toBeUndefined()
    expect(agree([withSiblings, JSON.stringify(objects[2])])).toBe(true)
  })

  it('split a wire text at its top-level data even when data holds "vector" and "data" keys', () => {
    const tricky = { ...objects[3], data: { vector: { a: 1 }, data: ',"vector":', note: '","data":' } }
    const split = splitWireJson(JSON.stringify(tricky))!
    expect(JSON.parse(split.data)).toEqual(tricky.data)
    expect(agree([JSON.stringify(tricky)])).toBe(true)
  })

  it('refuse hostile framing with a clear error, never a throw', () => {
    const good = bulkBatchText(header, [JSON.stringify(objects[0])])
    const body = good.slice(good.indexOf('\n') + 1)
    const head = (sizes: unknown, extra = ''): string => `B{"type":"batch","v":2,"id":1,"lastSeq":1,"last":true,"more":false,"remaining":0${extra},"sizes":${JSON.stringify(sizes)}}\n`
    const split = splitWireJson(JSON.stringify(objects[0]))!
    const cases: Array<[string, RegExp]> = [
      ['B{"type":"batch"}', /no header line/],
      ['B{oops\n', /header is not valid JSON/],
      ['B[]\n', /not an object with `sizes`/],
      [head([1]) + body, /pair envelope and data/],
      [head(new Array(2 * MAX_BATCH_OBJECTS + 2).fill(1)), /pair envelope and data/],
      [head([body.length + 1, 0]) + body, /do not fit/],
      [head([split.envelope.length, -1]) + body, /do not fit/],
      [head([0, 2]) + body, /do not fit/],
      [head([1.5, 0]) + body, /do not fit/],
      [head([split.envelope.length, split.data.length]) + body + ' ', /1 characters after/],
      [head([7, 2]) + '{"a":1}{}', /invalid message/],
      [head([`{"data":${split.data}}`.length, 2]) + `{"data":${split.data}}{}`, /envelope is not an object without `data`/],
      [head([2, 3]) + '{}{x}', /data is not valid JSON/],
      [head([3, 0]) + '{x}', /envelope is not valid JSON/],
      [head([2, 0], ',"v":1') + '{}', /unsupported protocol version 1/]
    ]
    for (const [text, error] of cases) {
      const result = decodeBulkBatch(text)
      expect(result.ok, text.slice(0, 80)).toBe(false)
      if (!result.ok) expect(result.error).toMatch(error)
    }
    expect(serverDecoderFor(2)('{"type":"notify","v":2,"head":4}')).toEqual({ ok: true, message: { type: 'notify', v: 2, head: 4 } })
    expect(serverDecoderFor(2)('{"type":"notify","v":1,"head":4}').ok).toBe(false)
    expect(serverDecoderFor(2)('X')).toEqual({ ok: false, error: 'frame is not valid JSON' })
  })

  it('agree with zod on 1,500 seeded field mutations', () => {
    const rng = createRng('bulk-frame-fuzz')
    const pool: unknown[] = [null, true, 0, -1, 1.5, 2 ** 53, '', 'x', 'x'.repeat(129), [], [''], {}, { a: 1 }, { a: -1 }, sig, { ...sig, h: 'h' }]
    const fields = [...Object.keys(objects[0]!), 'sig', 'conflicts', 'extra']
    let accepted = 0
    for (let n = 0; n < 1500; n++) {
      const texts: string[] = []
      for (let k = rng.between(1, 3); k > 0; k--) {
        const obj: Rec = { ...objects[rng.int(objects.length)]!, ...(rng.chance(0.5) ? { sig } : {}) }
        for (let e = rng.between(0, 2); e > 0; e--) {
          const field = rng.pick(fields)
          if (rng.chance(0.15)) delete obj[field]
          else obj[field] = rng.pick(pool)
        }
        texts.push(JSON.stringify(obj))
      }
      if (agree(texts)) accepted++
    }
    expect(accepted).toBeGreaterThan(100)
    expect(accepted).toBeLessThan(1500)
  })

  it('never throw on 1,500 seeded character-level mutations of whole frames', () => {
    const rng = createRng('bulk-frame-bytes')
    const frame = bulkBatchText(header, objects.slice(0, 4).map((o) => JSON.stringify({ ...o, sig })))
    const chars = ['{', '}', '"', ',', ':', '\n', '0', '9', 'a', '\\', ' ', '[', ']', 'é']
    for (let n = 0; n < 1500; n++) {
      let text = frame
      for (let e = rng.between(1, 3); e > 0; e--) {
        const at = rng.int(text.length)
        const kind = rng.int(3)
        text = kind === 0 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + rng.pick(chars) + text.slice(at + (kind === 1 ? 1 : 0))
      }
      const result = decodeBulkBatch(text)
      if (result.ok) {
        // whatever passes is a batch zod accepts as it stands
        const { dataTexts: _texts, ...message } = result.message as BatchMessage // eslint-disable-line @typescript-eslint/no-unused-vars
        expect(decodeServerMessageWithZod(JSON.parse(JSON.stringify(message)), 2).ok).toBe(true)
      }
    }
  })
})

/** decodeBulkBatch of the body decoded as text, or the error that decoding threw */
function viaText (bytes: Uint8Array): unknown {
  try {
    return decodeBulkBatch(utf8Text(bytes))
  } catch (err) {
    return err
  }
}

/** decodeBulkBatchBytes, or the error it threw */
function viaBytes (bytes: Uint8Array): unknown {
  try {
    return decodeBulkBatchBytes(bytes)
  } catch (err) {
    return err
  }
}

/** Asserts the bytes decoder gives what decoding the body as text first gives: verdict, message, data texts, error text or thrown error. */
function sameFromBytes (bytes: Uint8Array): boolean {
  const text = viaText(bytes)
  const fromBytes = viaBytes(bytes)
  if (text instanceof Error) {
    expect(fromBytes).toBeInstanceOf(ProtocolError)
    expect((fromBytes as Error).message).toBe(text.message)
    return false
  }
  expect(fromBytes).toStrictEqual(text)
  const a = text as { ok: boolean, message?: BatchMessage }
  const b = fromBytes as { ok: boolean, message?: BatchMessage }
  if (a.ok) {
    // the data texts are keyed by each change's own data object: the same texts, change by change
    const texts = (m: BatchMessage): unknown[] => m.changes.map((c) => m.dataTexts?.get(c.data))
    expect(texts(b.message!)).toStrictEqual(texts(a.message!))
  }
  return a.ok
}

describe('protocol v2 bulk frames decoded from their bytes', () => {
  const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'))
  // non-ASCII of every UTF-8 length: 2 (µ, é), 3 (€, ℃), 4 (an astral character: a surrogate pair in the text)
  const wide = objects.slice(0, 6).map((o, i) => JSON.stringify({ ...o, id: i === 2 ? 'id-€' : o.id as string, data: { ...(o.data as Rec), unit: 'µg/L', note: 'é € ℃ 😀', ['k😀' + i]: '\ud83d\ude00' }, ...(i % 2 === 0 ? { sig } : {}) }))

  it('give what decoding the body as text gives: ASCII, non-ASCII and astral frames', () => {
    const ascii = objects.slice(0, 8).map((o) => JSON.stringify({ ...o, data: { plain: 'ascii only', n: 1 } }))
    expect(sameFromBytes(utf8(bulkBatchText(header, ascii)))).toBe(true)
    expect(sameFromBytes(utf8(bulkBatchText(header, wide)))).toBe(true)
    expect(sameFromBytes(utf8(bulkBatchText(header, [...ascii, ...wide, ...ascii])))).toBe(true)
    expect(sameFromBytes(utf8(bulkBatchText(header, objects.map((o) => JSON.stringify(o)))))).toBe(true)
    expect(sameFromBytes(utf8(bulkBatchText(header, [])))).toBe(true)
    // a sub-array of a larger buffer (frames arrive so): offsets are the view's
    const body = utf8(bulkBatchText(header, wide))
    const padded = new Uint8Array(body.length + 7)
    padded.set(body, 3)
    expect(viaBytes(padded.subarray(3, 3 + body.length))).toStrictEqual(viaText(body))
  })

  it('refuse hostile framing as the text decoder does, also sizes that end inside a character', () => {
    const body = bulkBatchText(header, [wide[0]!]).split('\n')[1]!
    const head = (sizes: unknown): string => `B{"type":"batch","v":2,"id":1,"lastSeq":1,"last":true,"more":false,"remaining":0,"sizes":${JSON.stringify(sizes)}}\n`
    const split = splitWireJson(wide[0]!)!
    const astral = split.data.indexOf('😀')
    const cases = [
      'B{"type":"batch"}', 'B{oops\n', 'B[]\n', 'Bé\n', head([1]) + body, head([body.length + 1, 0]) + body,
      head([split.envelope.length, split.data.length]) + body + ' é',
      head([split.envelope.length, split.data.length]) + body + '😀',
      // the data ends inside the surrogate pair of an astral character, and the next envelope starts in it
      head([split.envelope.length, astral + 1, 3, 0]) + split.envelope + split.data.slice(0, astral + 1) + split.data.slice(astral + 1, astral + 4),
      head([split.envelope.length, astral + 1]) + split.envelope + split.data,
      head([split.envelope.length, split.data.length + 1]) + split.envelope + split.data,
      head([split.envelope.length - 1, split.data.length + 1]) + split.envelope + split.data,
      head([split.envelope.length, split.data.length, 1, 0]) + split.envelope + split.data + '😀'
    ]
    // an envelope cut inside a surrogate pair whose sizes fit the frame exactly: refused for its envelope, not for its sizes
    const astralId = splitWireJson(JSON.stringify({ ...objects[1], id: 'id-😀' }))!
    const cut = astralId.envelope.indexOf('😀') + 1
    cases.push(head([cut, astralId.envelope.length - cut + astralId.data.length]) + astralId.envelope + astralId.data)
    expect(decodeBulkBatch(cases.at(-1)!)).toEqual({ ok: false, error: 'invalid bulk frame: object 0: its envelope is not valid JSON' })
    for (const text of cases) expect(sameFromBytes(utf8(text)), text.slice(0, 120)).toBe(false)
  })

  it('are built as bytes exactly as the text is encoded (bulkBatchFrame), and refused over the frame cap alike', () => {
    const lone = JSON.stringify({ ...objects[4], data: { lone: '\ud83d', low: '\ude00 x', both: '😀' } })
    const sets = [[], [JSON.stringify(objects[0])], wide, objects.map((o) => JSON.stringify({ ...o, sig })), [lone, ...wide, JSON.stringify({ ...objects[5], conflicts: [] })]]
    for (const texts of sets) {
      for (const h of [header, { ...header, from: 7 }]) {
        expect(Buffer.from(bulkBatchFrame(h, texts)).equals(Buffer.from(encodeJsonFrame(bulkBatchText(h, texts))))).toBe(true)
      }
    }
    const body = Buffer.byteLength(bulkBatchText(header, wide))
    expect(bulkBatchFrame(header, wide, body).byteLength).toBe(encodeJsonFrame(bulkBatchText(header, wide), body).byteLength)
    expect(() => bulkBatchFrame(header, wide, body - 1)).toThrow(MessageTooLargeError)
    expect(() => encodeJsonFrame(bulkBatchText(header, wide), body - 1)).toThrow(MessageTooLargeError)
  })

  it('agree with the text decoder on 3,000 seeded byte-level mutations, invalid UTF-8 included', () => {
    const rng = createRng('bulk-frame-utf8')
    const frames = [utf8(bulkBatchText(header, wide)), utf8(bulkBatchText(header, objects.slice(0, 4).map((o) => JSON.stringify({ ...o, sig }))))]
    const bytes = [0x00, 0x0a, 0x22, 0x2c, 0x30, 0x41, 0x5c, 0x7b, 0x7d, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xc3, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff]
    let accepted = 0
    let invalidUtf8 = 0
    for (let n = 0; n < 3000; n++) {
      let frame = Array.from(rng.pick(frames))
      for (let e = rng.between(1, 3); e > 0; e--) {
        const at = rng.int(frame.length)
        const kind = rng.int(4)
        if (kind === 0) frame.splice(at, 1)
        else if (kind === 1) frame[at] = rng.pick(bytes)
        else if (kind === 2) frame.splice(at, 0, rng.pick(bytes))
        // a whole character moved or doubled: valid UTF-8 whose sizes no longer fit
        else frame = [...frame.slice(0, at), ...Buffer.from(rng.pick(['é', '€', '😀', 'x'])), ...frame.slice(at)]
      }
      const mutated = Uint8Array.from(frame)
      if (viaText(mutated) instanceof Error) invalidUtf8++
      if (sameFromBytes(mutated)) accepted++
    }
    expect(invalidUtf8).toBeGreaterThan(300)
    expect(accepted).toBeGreaterThan(0)
  })
})

describe('content hash of a received data text', () => {
  const v = { type: 'Client', id: 'c-1', parent: null, refs: [] as string[], data: { a: 1, b: [true, 'x'] } }
  const h = contentHash(v, 'c-1').h

  it('takes the received text when it is the signed canonical text', () => {
    const received = '{"a":1,"b":[true,"x"]}'
    const result = matchContentHash(v, 'c-1', h, received)
    expect(result).toEqual({ ok: true, dataText: received })
    expect(result.dataText).toBe(received)
  })

  it('falls back to the text of the parsed data for any other spelling, with the same verdict', () => {
    expect(matchContentHash(v, 'c-1', h, '{ "a": 1, "b": [true, "x"] }')).toEqual(matchContentHash(v, 'c-1', h))
    expect(matchContentHash(v, 'c-1', h, '{"b":[true,"x"],"a":1}')).toEqual({ ok: true, dataText: '{"a":1,"b":[true,"x"]}' })
    expect(matchContentHash(v, 'c-1', 'x'.repeat(43), '{"a":1,"b":[true,"x"]}').ok).toBe(false)
  })
})
