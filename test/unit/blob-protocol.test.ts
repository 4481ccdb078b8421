/**
 * The blob reference shape and the blob protocol's frames and messages,
 * as pure functions: what is a reference and what is refused at the edge
 * (the wire schema, and the fast path that must never be more lenient),
 * data frames round-tripped and bounded, control messages validated, and
 * the HTTP Range header.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { parseRange } from '../../agent/admin/blobs.js'
import { blobFrameDecoder, encodeBlobData, parseBlobFrame } from '../../protocol/blob-codec.js'
import { BLOB_CHUNK_BYTES, BLOB_PROTOCOL_VERSION, BLOB_WINDOW_BYTES, MAX_BLOB_CONTROL_BYTES } from '../../protocol/blob-constants.js'
import { decodeBlobClientMessage, decodeBlobServerMessage } from '../../protocol/blob-messages.js'
import { blobRefsOfVersions, isBlobHash, MAX_BLOB_BYTES, MAX_BLOB_REFS, scanBlobRefs } from '../../protocol/blob-ref.js'
import { encodeFrame, encodeJsonFrame } from '../../protocol/codec.js'
import { MAX_DATA_DEPTH, PROTOCOL_VERSION } from '../../protocol/constants.js'
import { decodeServerMessage, decodeServerMessageWithZod } from '../../protocol/decode.js'
import { MessageTooLargeError, ProtocolError } from '../../protocol/errors.js'
import { fastWireObject } from '../../protocol/fast-decode.js'
import { wireObjectSchema } from '../../protocol/messages.js'
import type { ObjectVersion } from '../../protocol/object.js'

const H = `sha256:${'ab'.repeat(32)}`
const ref = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ blob: H, size: 10, name: 'a.pdf', mediaType: 'application/pdf', ...over })
const version = (data: Record<string, unknown>, over: Partial<ObjectVersion> = {}): ObjectVersion => ({
  uid: 'u-1', type: 'Attachment', id: 'A-1', parent: null, refs: [], data, vector: { 'lab-a': 1 }, origin: 'lab-a', deleted: false, at: 1, ...over
})

describe('blob references', () => {
  it('recognises a hash only as sha256: and 64 lowercase hex digits', () => {
    expect(isBlobHash(H)).toBe(true)
    for (const bad of [H.toUpperCase(), H.slice(0, -1), `${H}0`, `sha512:${'ab'.repeat(32)}`, `sha256:${'zz'.repeat(32)}`, 42, undefined]) expect(isBlobHash(bad)).toBe(false)
  })

  it('finds references at any depth, in arrays and siblings, one per hash; tombstones reference nothing', () => {
    const data = { file: ref(), list: [{ x: 1 }, ref({ blob: `sha256:${'cd'.repeat(32)}`, name: undefined, mediaType: undefined })], deep: { a: { b: [[ref()]] } } }
    expect(scanBlobRefs(data)).toEqual({ refs: [ref(), { blob: `sha256:${'cd'.repeat(32)}`, size: 10 }, ref()].map((r) => expect.objectContaining({ blob: r.blob })) })
    const sibling = version({ f: ref({ blob: `sha256:${'ef'.repeat(32)}` }) })
    expect(blobRefsOfVersions([version(data), sibling]).map((r) => r.blob)).toEqual([H, `sha256:${'cd'.repeat(32)}`, `sha256:${'ef'.repeat(32)}`])
    expect(blobRefsOfVersions([version(data, { deleted: true })])).toEqual([])
    expect(scanBlobRefs({ blobby: 1, note: 'blob' })).toEqual({ refs: [] })
  })

  it('refuses a malformed reference with what is wrong', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [ref({ blob: 'sha256:xyz' }), /64 lowercase hex/],
      [ref({ blob: 7 }), /64 lowercase hex/],
      [ref({ size: -1 }), /size must be/],
      [ref({ size: 1.5 }), /size must be/],
      [ref({ size: MAX_BLOB_BYTES + 1 }), /size must be/],
      [{ blob: H }, /size must be/],
      [ref({ name: 5 }), /name must be/],
      [ref({ name: 'x'.repeat(1025) }), /name must be/],
      [ref({ mediaType: 'x'.repeat(256) }), /mediaType must be/],
      [ref({ extra: true }), /not "extra"/]
    ]
    for (const [bad, message] of cases) {
      expect(scanBlobRefs({ a: [bad] }).problem, JSON.stringify(bad)).toMatch(message)
      const parsed = wireObjectSchema.safeParse(version({ a: [bad] }))
      expect(parsed.success).toBe(false)
      expect(parsed.error?.issues[0]?.message).toMatch(/invalid blob reference/)
    }
    expect(scanBlobRefs({ many: Array.from({ length: MAX_BLOB_REFS + 1 }, () => ref()) }).problem).toMatch(/at most 256 blob references/)
    expect(scanBlobRefs({ many: Array.from({ length: MAX_BLOB_REFS }, () => ref()) }).problem).toBeUndefined()
    let deep: Record<string, unknown> = ref()
    for (let i = 0; i < MAX_DATA_DEPTH + 5; i++) deep = { d: deep }
    expect(scanBlobRefs(deep).problem).toMatch(/nest at most/)
  })

  it('the fast path leaves data with references to zod, which alone decides', () => {
    const good = version({ file: ref() })
    expect(fastWireObject(good)).toBeUndefined()
    expect(wireObjectSchema.safeParse(good).success).toBe(true)
    const batch = (data: Record<string, unknown>): unknown => JSON.parse(JSON.stringify({ type: 'batch', v: PROTOCOL_VERSION, id: 1, changes: [version(data)], lastSeq: 1, last: true, more: false, remaining: 0 }))
    for (const data of [{ file: ref() }, { file: ref({ size: -5 }) }, { plain: 1 }]) {
      expect(decodeServerMessage(batch(data))).toEqual(decodeServerMessageWithZod(batch(data)))
    }
    expect(decodeServerMessage(batch({ file: ref({ size: -5 }) })).ok).toBe(false)
  })
})

describe('blob protocol frames', () => {
  const decodeAll = (bytes: Uint8Array): unknown[] => [...blobFrameDecoder().decode(bytes)]

  it('round-trips data frames at any offset, and control messages as JSON', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff)
    const offset = 2 ** 40 + 17
    const frames = Buffer.concat([encodeBlobData(offset, data), encodeFrame({ type: 'info', v: BLOB_PROTOCOL_VERSION, hash: H, size: 5 }), encodeBlobData(0, data.subarray(0, 1))])
    const [first, info, last] = decodeAll(frames) as Array<{ type: string, offset?: number, bytes?: Uint8ArrayList }>
    expect(first).toMatchObject({ type: 'data', offset })
    expect(Buffer.from(first!.bytes!.subarray()).equals(Buffer.from(data))).toBe(true)
    expect(decodeBlobServerMessage(info)).toEqual({ ok: true, message: { type: 'info', v: 1, hash: H, size: 5 } })
    expect(last).toMatchObject({ type: 'data', offset: 0 })
  })

  it('refuses frames over the chunk, empty data frames, large control frames and bad offsets', () => {
    expect(() => encodeBlobData(0, new Uint8Array(BLOB_CHUNK_BYTES + 1))).toThrow(RangeError)
    const oversized = new Uint8Array(BLOB_CHUNK_BYTES + 10)
    oversized[0] = 0
    expect(() => decodeAll(encodeJsonFrame('x'.repeat(BLOB_CHUNK_BYTES + 100), 2 ** 24))).toThrow(MessageTooLargeError)
    expect(() => parseBlobFrame(new Uint8Array(9))).toThrow(ProtocolError)
    expect(() => parseBlobFrame(Buffer.from(JSON.stringify({ type: 'credit', pad: 'x'.repeat(MAX_BLOB_CONTROL_BYTES) })))).toThrow(MessageTooLargeError)
    const huge = Buffer.alloc(10)
    huge.writeBigUInt64BE(2n ** 60n, 1)
    expect(() => parseBlobFrame(huge)).toThrow(/out of range/)
  })

  it('validates control messages by role: a client sends no data, credit stays within a window', () => {
    const data = parseBlobFrame(encodeBlobData(0, new Uint8Array(3)).subarray(1))
    expect(decodeBlobClientMessage(data)).toMatchObject({ ok: false, error: /may not send blob data/ })
    expect(decodeBlobServerMessage(data).ok).toBe(true)
    expect(decodeBlobClientMessage({ type: 'get', v: 1, hash: H, offset: 0 }).ok).toBe(true)
    expect(decodeBlobClientMessage({ type: 'get', v: 1, hash: 'sha256:x', offset: 0 }).ok).toBe(false)
    expect(decodeBlobClientMessage({ type: 'get', v: 1, hash: H, offset: -1 }).ok).toBe(false)
    expect(decodeBlobClientMessage({ type: 'credit', v: 1, bytes: BLOB_WINDOW_BYTES }).ok).toBe(true)
    expect(decodeBlobClientMessage({ type: 'credit', v: 1, bytes: BLOB_WINDOW_BYTES + 1 }).ok).toBe(false)
    expect(decodeBlobClientMessage({ type: 'credit', v: 1, bytes: 0 }).ok).toBe(false)
    expect(decodeBlobClientMessage({ type: 'get', v: 2, hash: H, offset: 0 })).toMatchObject({ ok: false, error: /unsupported blob protocol version 2/ })
    expect(decodeBlobServerMessage({ type: 'get', v: 1, hash: H, offset: 0 }).ok).toBe(false)
  })
})

describe('Range', () => {
  it('takes one byte range, clipped to the file; several ranges or other units mean the whole file', () => {
    expect(parseRange(undefined, 100)).toBeUndefined()
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 })
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable')
    expect(parseRange('bytes=5-4', 100)).toBe('unsatisfiable')
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable')
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined()
    expect(parseRange('items=0-1', 100)).toBeUndefined()
  })
})
