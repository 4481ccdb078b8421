import { describe, expect, it } from 'vitest'
import * as lp from 'it-length-prefixed'
import { MessageTooLargeError, ProtocolError } from '../../protocol/errors.js'
import { encodeFrame, encodeJsonFrame, FrameDecoder } from '../../protocol/codec.js'
import { MAX_VECTOR_ENTRIES, PROTOCOL_VERSION } from '../../protocol/constants.js'
import { decodeClientMessage, decodeServerMessage } from '../../protocol/decode.js'
import { type Message } from '../../protocol/messages.js'

const obj = { uid: 'u1', type: 'Client', id: 'c-1', parent: null, refs: [], data: { a: 1 }, vector: { 'lab-a': 1 }, origin: 'lab-a', deleted: false, at: 1 }

describe('framing', () => {
  it('round-trips messages, also split across chunks and coalesced in one chunk', () => {
    const messages: Message[] = [
      { type: 'hello', v: PROTOCOL_VERSION, domain: 'lab-a', head: 10, count: 5, epoch: 'abcd' },
      { type: 'pull', v: PROTOCOL_VERSION, id: 1, since: 0, limit: 100 },
      { type: 'batch', v: PROTOCOL_VERSION, id: 1, changes: [obj], lastSeq: 3, last: true, more: false, remaining: 0 }
    ]
    const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)))
    const whole = [...new FrameDecoder().decode(bytes)]
    expect(whole).toEqual(messages)
    const d = new FrameDecoder()
    const split: unknown[] = []
    for (let i = 0; i < bytes.length; i += 7) split.push(...d.decode(bytes.subarray(i, i + 7)))
    expect(split).toEqual(messages)
  })

  it('decodes one huge chunk of many frames (a busy yamux stream delivers several MiB at once)', () => {
    const frame = encodeFrame({ type: 'error', v: PROTOCOL_VERSION, code: 'x', message: 'y'.repeat(3000) })
    const count = Math.ceil((12 * 1024 * 1024) / frame.byteLength)
    const chunk = Buffer.concat(Array.from({ length: count }, () => frame))
    let n = 0
    for (const _ of new FrameDecoder({ maxFrameBytes: 64 * 1024 }).decode(chunk)) n++ // eslint-disable-line @typescript-eslint/no-unused-vars
    expect(n).toBe(count)
  })

  it('refuses an oversized frame from its length prefix alone', () => {
    const d = new FrameDecoder({ maxFrameBytes: 1024 })
    const big = lp.encode.single(new Uint8Array(4096)).subarray().subarray(0, 10)
    expect(() => [...d.decode(big)]).toThrow(MessageTooLargeError)
  })

  it('writes the same bytes as it-length-prefixed, at every varint length and for multi-byte UTF-8', () => {
    for (const n of [0, 1, 127, 128, 300, 16_383, 16_384, 70_000, 2_097_152]) {
      for (const text of ['x'.repeat(n), 'é'.repeat(Math.floor(n / 2)) + '😀']) {
        const json = JSON.stringify(text)
        // Buffer.equals, not toEqual: a deep equality walks 2 MiB element by element (over a minute on a busy machine)
        const ours = Buffer.from(encodeJsonFrame(json, 8 * 1024 * 1024))
        const theirs = Buffer.from(lp.encode.single(Buffer.from(json)).subarray())
        expect(ours.equals(theirs), `${n} characters: ours ${ours.subarray(0, 8).toString('hex')}… (${ours.length} bytes), theirs ${theirs.subarray(0, 8).toString('hex')}… (${theirs.length} bytes)`).toBe(true)
      }
    }
  })

  it('refuses to encode a frame above the cap', () => {
    expect(() => encodeFrame({ type: 'error', v: 1, code: 'x', message: 'y'.repeat(2000) }, 1024)).toThrow(MessageTooLargeError)
  })

  it('reports invalid JSON and invalid UTF-8 as protocol errors', () => {
    expect(() => [...new FrameDecoder().decode(lp.encode.single(Buffer.from('{not json')).subarray())]).toThrow(ProtocolError)
    expect(() => [...new FrameDecoder().decode(lp.encode.single(Buffer.from([0xff, 0xfe, 0xfd])).subarray())]).toThrow(ProtocolError)
  })
})

describe('message validation (trust boundary)', () => {
  it('accepts valid client and server messages', () => {
    expect(decodeClientMessage({ type: 'get', v: 1, id: 2, uids: ['a', 'b'] }).ok).toBe(true)
    expect(decodeServerMessage({ type: 'notify', v: 1, head: 7 }).ok).toBe(true)
    expect(decodeServerMessage({ type: 'objects', v: 1, id: 2, objects: [obj], missing: ['x'], last: true }).ok).toBe(true)
  })

  it.each([
    ['unknown type', { type: 'explode', v: 1 }],
    ['negative since', { type: 'pull', v: 1, id: 1, since: -1, limit: 10 }],
    ['fractional since', { type: 'pull', v: 1, id: 1, since: 1.5, limit: 10 }],
    ['huge limit', { type: 'pull', v: 1, id: 1, since: 0, limit: 1e12 }],
    ['zero limit', { type: 'pull', v: 1, id: 1, since: 0, limit: 0 }],
    ['empty get', { type: 'get', v: 1, id: 1, uids: [] }],
    ['too many uids', { type: 'get', v: 1, id: 1, uids: Array.from({ length: 5000 }, (_, i) => `u${i}`) }],
    ['uid not a string', { type: 'get', v: 1, id: 1, uids: [5] }],
    ['server message from a client', { type: 'notify', v: 1, head: 1 }],
    ['not an object', 'hello'],
    ['null', null]
  ])('rejects a client message with %s', (_name, value) => {
    expect(decodeClientMessage(value).ok).toBe(false)
  })

  it.each([
    ['a vector with too many entries', { ...obj, vector: Object.fromEntries(Array.from({ length: MAX_VECTOR_ENTRIES + 1 }, (_, i) => [`d${i}`, 1])) }],
    ['a negative counter', { ...obj, vector: { a: -1 } }],
    ['a non-integer counter', { ...obj, vector: { a: 0.5 } }],
    ['data that is an array', { ...obj, data: [1, 2] }],
    ['a missing uid', { ...obj, uid: undefined }],
    ['deleted not boolean', { ...obj, deleted: 'no' }],
    ['an over-long uid', { ...obj, uid: 'x'.repeat(500) }]
  ])('rejects a batch carrying %s', (_name, change) => {
    expect(decodeServerMessage({ type: 'batch', v: 1, id: 1, changes: [change], lastSeq: 1, last: true, more: false, remaining: 0 }).ok).toBe(false)
  })

  it('names an unsupported protocol version', () => {
    const r = decodeClientMessage({ type: 'hello', v: 2, domain: 'x', head: 0, count: 0, epoch: 'e' })
    expect(r.ok).toBe(false)
    expect(!r.ok && r.error).toContain('unsupported protocol version 2')
  })
})

describe('framing edge cases found by the fault suite', () => {
  it('knows when a stream stops inside a frame', () => {
    const frame = encodeFrame({ type: 'pull', v: PROTOCOL_VERSION, id: 1, since: 0, limit: 10 })
    const d = new FrameDecoder()
    expect([...d.decode(frame.subarray(0, 5))]).toEqual([])
    expect(d.pending).toBe(5)
    expect([...d.decode(frame.subarray(5))]).toHaveLength(1)
    expect(d.pending).toBe(0)
  })

  it('refuses an empty frame, a length prefix longer than any frame needs, and a non-minimal one, at once', () => {
    expect(() => [...new FrameDecoder().decode(Uint8Array.from([0]))]).toThrow(ProtocolError)
    expect(() => [...new FrameDecoder().decode(Uint8Array.from(Array.from({ length: 12 }, () => 0x80)))]).toThrow(MessageTooLargeError)
    expect(() => [...new FrameDecoder().decode(Uint8Array.from([0x81, 0x00, 0x7b]))]).toThrow(ProtocolError)
  })

  it('refuses data nested deeper than the limit', () => {
    let data: Record<string, unknown> = { leaf: 1 }
    for (let i = 0; i < 100; i++) data = { a: data }
    expect(decodeServerMessage({ type: 'batch', v: 1, id: 1, changes: [{ ...obj, data }], lastSeq: 1, last: true, more: false, remaining: 0 }).ok).toBe(false)
    expect(decodeServerMessage({ type: 'batch', v: 1, id: 1, changes: [{ ...obj, data: { a: { b: [{ c: 1 }] } } }], lastSeq: 1, last: true, more: false, remaining: 0 }).ok).toBe(true)
  })
})
