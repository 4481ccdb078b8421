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
import { bulkBatchText, decodeBulkBatch, splitWireJson } from '../../protocol/bulk-frame.js'
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
