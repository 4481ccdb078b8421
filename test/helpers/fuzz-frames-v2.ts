/**
 * Hostile frames of protocol version 2 for the fuzzers: version-1 frames
 * turned into version 2, compressed frames (honest, zip bombs, damaged,
 * oversized), bulk batch frames whose framing lies (sizes, splits, trailing
 * text, data in the envelope, oversized), and a reader of what an agent
 * sends in a version-2 session (compressed frames inflated, bulk frames
 * decoded). From a seeded PRNG, like fuzz-frames.ts.
 */
import * as zlib from 'node:zlib'
import { bulkBatchText } from '../../protocol/bulk-frame.js'
import { FrameDecoder, utf8Text } from '../../protocol/codec.js'
import { MAX_BATCH_OBJECTS, MAX_FRAME_BYTES } from '../../protocol/constants.js'
import { COMPRESSED_MARK, FrameCompression, MIN_COMPRESS_BYTES } from '../../protocol/frame-compression.js'
import { rawFrame, toJsonText, validObject } from './fuzz-frames.js'
import type { Rng } from './seeded.js'

function varint (n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return out
}

/** The body of a whole frame (length prefix stripped); undefined for a frame that is not one (truncated, oversized). */
export function frameBody (frame: Uint8Array): Uint8Array | undefined {
  let length = 0
  let factor = 1
  for (let i = 0; i < 5 && i < frame.length; i++) {
    length += (frame[i]! & 0x7f) * factor
    if ((frame[i]! & 0x80) === 0) return frame.length === i + 1 + length ? frame.subarray(i + 1) : undefined
    factor *= 128
  }
  return undefined
}

/**
 * A version-1 frame as version 2 would carry it: its first `"v":1` becomes
 * `"v":2` (and a `"v":2` becomes 1, so a version broken as "the other one"
 * stays broken); a hello may offer `codecs`. Other frames stay as they are.
 */
export function asVersion2 (frame: Uint8Array, codecs?: readonly string[]): Uint8Array {
  const body = frameBody(frame)
  if (body === undefined || body[0] !== 0x7b) return frame
  let json: string
  try {
    json = utf8Text(body)
  } catch {
    return frame
  }
  json = json.replace(/"v":([12])(?=[,}])/, (_m, v: string) => `"v":${v === '1' ? 2 : 1}`)
  if (codecs !== undefined && json.startsWith('{"type":"hello"')) json = `{"codecs":${JSON.stringify(codecs)},${json.slice(1)}`
  return rawFrame(json)
}

/** `frame` with its body compressed with brotli, as a session that agreed on it sends (bodies under the threshold only when `force`). */
export function compressedFrame (frame: Uint8Array, force = false): Uint8Array {
  const body = frameBody(frame)
  if (body === undefined || (!force && body.length < MIN_COMPRESS_BYTES)) return frame
  return rawFrame(Uint8Array.from([COMPRESSED_MARK, ...varint(body.length), ...brotli(body, 1)]))
}

function brotli (bytes: Uint8Array, quality: number): Buffer {
  return zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality } })
}

/** 64 MiB of zeros at brotli quality 5: ~100 bytes (quality 11 takes seconds for the same) */
let bombPayload: Buffer | undefined

/** 64 MiB of zeros as ~100 bytes of brotli, announcing 4 KiB */
export function zipBombFrame (): Uint8Array {
  bombPayload ??= brotli(new Uint8Array(64 * 1024 * 1024), 5)
  return rawFrame(Uint8Array.from([COMPRESSED_MARK, ...varint(4096), ...bombPayload]))
}

/** A compressed frame that cannot be honest: damaged, lying about its size, over the cap, or a bomb. */
export function hostileCompressedFrame (rng: Rng, honest: Uint8Array): { kind: string, frame: Uint8Array } {
  const packed = frameBody(compressedFrame(honest, true))!
  const size = (): number[] => varint(frameBody(honest)!.length + rng.pick([-1, 1, 1000]))
  switch (rng.int(6)) {
    case 0: return { kind: 'zip-bomb', frame: zipBombFrame() }
    case 1: return { kind: 'compressed-garbage', frame: rawFrame(Uint8Array.from([COMPRESSED_MARK, ...varint(MIN_COMPRESS_BYTES + rng.int(5000)), ...Array.from({ length: 1 + rng.int(500) }, () => rng.int(256))])) }
    case 2: return { kind: 'compressed-oversized', frame: rawFrame(Uint8Array.from([COMPRESSED_MARK, ...varint(MAX_FRAME_BYTES + 1 + rng.int(2 ** 30)), ...packed.subarray(1 + varint(frameBody(honest)!.length).length)])) }
    case 3: return { kind: 'compressed-lying-size', frame: rawFrame(Uint8Array.from([COMPRESSED_MARK, ...size(), ...packed.subarray(1 + varint(frameBody(honest)!.length).length)])) }
    case 4: return { kind: 'compressed-truncated', frame: rawFrame(packed.subarray(0, 2 + rng.int(packed.length - 2))) }
    default: return { kind: 'compressed-tiny', frame: compressedFrame(rawFrame('{"type":"notify","v":2,"head":1}'), true) }
  }
}

/**
 * A bulk batch frame (protocol/bulk-frame.ts) of valid objects whose
 * framing is broken in one way the decoder must refuse.
 */
export function hostileBulkFrame (rng: Rng, id: number): { kind: string, frame: Uint8Array } {
  const objects = Array.from({ length: 1 + rng.int(4) }, () => toJsonText(validObject(rng)))
  const body = bulkBatchText({ id, lastSeq: 1 + rng.int(100), last: true, more: false, remaining: 0 }, objects)
  const nl = body.indexOf('\n')
  const header = JSON.parse(body.slice(1, nl)) as { sizes: number[] }
  const parts = body.slice(nl + 1)
  const withSizes = (sizes: unknown[], rest = parts): Uint8Array => rawFrame(`B${JSON.stringify({ ...header, sizes })}\n${rest}`)
  const sizes = header.sizes
  const i = rng.int(sizes.length)
  switch (rng.int(9)) {
    case 0: return { kind: 'bulk-sizes-past-end', frame: withSizes(sizes.map((s, k) => k === sizes.length - 1 ? s + 1 + rng.int(1e6) : s)) }
    case 1: return { kind: 'bulk-truncated', frame: withSizes(sizes, parts.slice(0, rng.int(parts.length))) }
    case 2: return { kind: 'bulk-odd-sizes', frame: withSizes(sizes.slice(0, -1)) }
    case 3: return { kind: 'bulk-bad-size', frame: withSizes(sizes.map((s, k) => k === i ? rng.pick([-1, 0.5, '3', null, 2 ** 60]) : s)) }
    case 4: {
      // the boundary between an envelope and its data moved: one of the two is no longer JSON
      const j = 2 * rng.int(objects.length)
      const d = rng.pick([-2, -1, 1, 2])
      return { kind: 'bulk-split-shifted', frame: withSizes(sizes.map((s, k) => k === j ? s + d : k === j + 1 ? s - d : s)) }
    }
    case 5: return { kind: 'bulk-trailing', frame: withSizes(sizes, `${parts}${rng.pick([' ', '{}', 'x', '\n'])}`) }
    case 6: {
      // the first object whole as its envelope (data included), and a data text beside it
      const whole = objects[0]!
      return { kind: 'bulk-data-in-envelope', frame: withSizes([whole.length, 1, ...sizes.slice(2)], `${whole}1${parts.slice(sizes[0]! + sizes[1]!)}`) }
    }
    case 7: return { kind: 'bulk-too-many', frame: withSizes([...Array.from({ length: 2 * MAX_BATCH_OBJECTS + 2 }, () => 1)]) }
    default: return { kind: 'bulk-no-header', frame: rawFrame(rng.pick(['B', 'B{"type":"batch"}', `B${JSON.stringify(header)}`, 'B\n'])) }
  }
}

/**
 * Reads what an agent sends in a version-2 session: compressed frames
 * inflated (brotli, within the cap), bulk frames as `{ type: 'batch' }`,
 * JSON messages parsed. A frame that is none of these ends the reader.
 */
export function version2Decoder (): FrameDecoder {
  const brotli = new FrameCompression('brotli')
  return new FrameDecoder({
    parse: (list) => {
      let body = list.subarray()
      if (body[0] === COMPRESSED_MARK) body = brotli.decompress(body)
      const json = utf8Text(body)
      return json[0] === 'B' ? { type: 'batch', bulk: true } : JSON.parse(json) as unknown
    }
  })
}

/** text of a frame's body, for failure messages */
export function sampleOf (frame: Uint8Array): string {
  return Buffer.from((frameBody(frame) ?? frame).subarray(0, 200)).toString('latin1')
}

