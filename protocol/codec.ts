/**
 * Framing: each message is UTF-8 JSON behind an unsigned-varint length prefix
 * (it-length-prefixed's format: written here in one buffer on the way out,
 * read with @libp2p/utils' LengthPrefixedDecoder on the way in). Frames above MAX_FRAME_BYTES are refused before their body is
 * buffered, so an oversized message costs the receiver almost nothing.
 */
import { LengthPrefixedDecoder } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MessageTooLargeError, ProtocolError } from './errors.js'
import { MAX_DECODE_BUFFER_BYTES, MAX_FRAME_BYTES } from './constants.js'
import type { BlobControlMessage } from './blob-messages.js'
import type { Message } from './messages.js'
import type { VerifyMessage } from './verify-messages.js'

const encoder = new TextEncoder()
/** bytes handed to the length-prefixed decoder at a time */
const DECODE_SLICE_BYTES = 64 * 1024
const decoder = new TextDecoder('utf-8', { fatal: true })

/** One length-prefixed frame holding `message` as JSON. */
export function encodeFrame (message: Message | BlobControlMessage | VerifyMessage, maxFrameBytes = MAX_FRAME_BYTES): Uint8Array {
  return encodeJsonFrame(JSON.stringify(message), maxFrameBytes)
}

/**
 * Frame an already-serialised JSON message (lets hot paths splice JSON). The
 * UTF-8 body is encoded straight into the frame behind its varint prefix: one
 * copy of a batch frame instead of three.
 */
export function encodeJsonFrame (json: string, maxFrameBytes = MAX_FRAME_BYTES): Uint8Array {
  const length = Buffer.byteLength(json, 'utf8')
  if (length > maxFrameBytes) throw new MessageTooLargeError(length, maxFrameBytes)
  const frame = allocFrame(length)
  encoder.encodeInto(json, frame.body)
  return frame.frame
}

/**
 * A frame of `length` body bytes: the whole buffer (varint prefix written)
 * and its body, for the caller to fill in place (binary frames, read from a
 * file straight into the buffer that is sent).
 */
export function allocFrame (length: number): { frame: Uint8Array, body: Uint8Array } {
  const prefix = varintLength(length)
  const frame = new Uint8Array(prefix + length)
  let n = length
  let offset = 0
  while (n >= 0x80) {
    frame[offset++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  frame[offset] = n
  return { frame, body: frame.subarray(prefix) }
}

function varintLength (n: number): number {
  let length = 1
  while (n >= 0x80) { n = Math.floor(n / 128); length++ }
  return length
}

export interface FrameDecoderOptions {
  maxFrameBytes?: number
  /**
   * turns one frame's body into a value (default: UTF-8 JSON); throws
   * ProtocolError or MessageTooLargeError to refuse it. The body is the list
   * of the slices it arrived in: binary bodies need not be copied whole.
   */
  parse?: (body: Uint8ArrayList) => unknown
  /** yield each frame's body as text (UTF-8 checked) instead of parsed JSON: the caller parses (bulk frames) */
  text?: boolean
}

/**
 * Turns stream chunks into parsed JSON values. Throws MessageTooLargeError for
 * an oversized frame and ProtocolError for bytes that are not UTF-8 JSON; the
 * caller closes the stream on either.
 */
export class FrameDecoder {
  readonly #decoder: LengthPrefixedDecoder
  readonly #maxFrameBytes: number
  readonly #parse: (body: Uint8ArrayList) => unknown
  /** bytes fed in, and bytes of whole frames (prefix + body) taken out */
  #fed = 0
  #consumed = 0

  constructor (options: FrameDecoderOptions = {}) {
    this.#maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES
    this.#parse = options.parse ?? (options.text === true ? (body) => utf8Text(body.subarray()) : (body) => parseJson(body.subarray()))
    this.#decoder = new LengthPrefixedDecoder({
      maxDataLength: this.#maxFrameBytes,
      maxBufferSize: Math.max(MAX_DECODE_BUFFER_BYTES, this.#maxFrameBytes + 64 * 1024),
      lengthDecoder: decodeLengthPrefix
    })
  }

  /**
   * Bytes of a frame that has begun but not ended. Non-zero when the stream
   * ends means the peer stopped in the middle of a frame: a truncated
   * message, not a clean close.
   */
  get pending (): number {
    return this.#fed - this.#consumed
  }

  /**
   * Yamux grants the sender more window as soon as bytes arrive, not when the
   * reader has used them, so one chunk from a busy stream can hold many MiB of
   * frames. Feeding the decoder slice by slice keeps its buffer at most one
   * frame plus one slice, so only a truly oversized frame is refused.
   */
  * decode (chunk: Uint8Array | Uint8ArrayList): Generator<unknown> {
    // a list is read buffer by buffer: joining it first would copy every byte once more
    for (const bytes of chunk instanceof Uint8Array ? [chunk] : chunk) {
      for (let offset = 0; offset < bytes.byteLength; offset += DECODE_SLICE_BYTES) {
        yield * this.#decodeSlice(bytes.subarray(offset, offset + DECODE_SLICE_BYTES))
      }
    }
  }

  * #decodeSlice (slice: Uint8Array): Generator<unknown> {
    this.#fed += slice.byteLength
    let frames: Generator<Uint8ArrayList>
    try {
      frames = this.#decoder.decode(slice)
    } catch (err) {
      throw this.#translate(err)
    }
    while (true) {
      let next: IteratorResult<Uint8ArrayList>
      try {
        next = frames.next()
      } catch (err) {
        throw this.#translate(err)
      }
      if (next.done === true) return
      this.#consumed += lengthPrefixBytes(next.value.byteLength) + next.value.byteLength
      yield this.#parse(next.value)
    }
  }

  #translate (err: unknown): Error {
    if (err instanceof ProtocolError || err instanceof MessageTooLargeError) return err
    const name = (err as { name?: string }).name
    // InvalidMessageLengthError: the prefix announces more than maxDataLength;
    // InvalidParametersError: the buffered bytes passed maxBufferSize.
    if (name === 'InvalidMessageLengthError' || name === 'InvalidDataLengthError' || name === 'InvalidParametersError') {
      return new MessageTooLargeError(undefined, this.#maxFrameBytes)
    }
    return new ProtocolError(`undecodable frame: ${(err as Error).message}`, { cause: err })
  }
}

/** a prefix of this many bytes already announces more than any frame may hold (7 bits per byte) */
const MAX_PREFIX_BYTES = 5

/**
 * The frame length, strictly: an unsigned varint in its shortest form, not
 * zero (an empty frame is no JSON message). Throws RangeError while more
 * bytes are needed (LengthPrefixedDecoder waits for them); a prefix that
 * runs past MAX_PREFIX_BYTES announces more than any frame may hold and is
 * refused at once instead of being buffered up to the decoder's limit.
 */
function decodeLengthPrefix (data: Uint8ArrayList | Uint8Array): number {
  let value = 0
  let factor = 1
  for (let i = 0; i < MAX_PREFIX_BYTES; i++) {
    if (i >= data.byteLength) throw new RangeError('length prefix incomplete')
    const byte = data instanceof Uint8Array ? data[i]! : data.get(i)
    if (byte === 0 && i > 0) throw new ProtocolError('length prefix not in its shortest form')
    value += (byte & 0x7f) * factor
    if ((byte & 0x80) === 0) {
      if (value === 0) throw new ProtocolError('empty frame')
      return value
    }
    factor *= 128
  }
  throw new MessageTooLargeError(undefined, MAX_FRAME_BYTES)
}

function lengthPrefixBytes (length: number): number {
  let n = 1
  while (length >= 128) { length = Math.floor(length / 128); n++ }
  return n
}

/** A frame body as text: UTF-8, checked (ProtocolError otherwise). */
export function utf8Text (bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes)
  } catch (err) {
    throw new ProtocolError('frame is not valid UTF-8', { cause: err })
  }
}

/** A frame body as UTF-8 JSON, or ProtocolError. */
export function parseJson (bytes: Uint8Array): unknown {
  const text = utf8Text(bytes)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ProtocolError('frame is not valid JSON', { cause: err })
  }
}
