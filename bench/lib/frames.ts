/**
 * Length-prefixed framing for bulk benchmark traffic: unsigned-varint length
 * then bytes (the it-length-prefixed wire format), many messages coalesced
 * into one buffer so one `send()` carries many objects.
 *
 * Reading: a libp2p 3 stream hands over whatever accumulated while the
 * receiver was busy — up to the yamux stream window (16 MiB), in one chunk.
 * The reader feeds LengthPrefixedDecoder in 64 KiB slices so its buffer stays
 * bounded by one message plus one slice, whatever the chunk size.
 */
import { LengthPrefixedDecoder } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'

const SLICE_BYTES = 64 * 1024

export type FrameReader = (chunk: Uint8Array | Uint8ArrayList) => Generator<Uint8ArrayList>

/** Decodes length-prefixed messages from stream chunks; throws on a message over `maxMessageBytes`. */
export function createFrameReader (maxMessageBytes: number): FrameReader {
  const decoder = new LengthPrefixedDecoder({ maxDataLength: maxMessageBytes, maxBufferSize: maxMessageBytes + 16 + SLICE_BYTES })
  return function * read (chunk) {
    for (let offset = 0; offset < chunk.byteLength; offset += SLICE_BYTES) {
      const end = Math.min(offset + SLICE_BYTES, chunk.byteLength)
      yield * decoder.decode(chunk instanceof Uint8Array ? chunk.subarray(offset, end) : chunk.sublist(offset, end))
    }
  }
}

/** One buffer holding every payload, each preceded by its varint length. */
export function encodeFrames (payloads: readonly Uint8Array[]): Uint8Array {
  let total = 0
  for (const p of payloads) total += varintLength(p.byteLength) + p.byteLength
  const out = new Uint8Array(total)
  let offset = 0
  for (const p of payloads) {
    offset = writeVarint(out, offset, p.byteLength)
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 128); len++ }
  return len
}

function writeVarint (out: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  out[offset++] = n
  return offset
}
