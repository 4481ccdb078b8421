/**
 * A libp2p 3 stream seen as a sequence of validated messages.
 *
 * libp2p 3 streams are message-based: `send()` returns false when the
 * transport's buffer is full (then we wait for `onDrain()` — back-pressure),
 * and reading is `for await` over chunks, which we decode into frames with a
 * size cap and validate with the role's decoder. Anything malformed throws a
 * ProtocolError / MessageTooLargeError out of the iterator; the session that
 * owns the stream logs it, sends an error frame if it can, and aborts. The
 * blob protocol uses it too, with its own frame decoder (binary data frames)
 * and decoders.
 *
 * A version-2 sync session may turn on frame compression once the hellos
 * chose a codec (useCodec): from then on it sends bodies worth compressing
 * compressed and accepts compressed frames; before that, a compressed frame
 * is refused like any other malformed one.
 */
import type { Stream } from '@libp2p/interface'
import { allocFrame, encodeJsonFrame, FrameDecoder } from '../../protocol/codec.js'
import { COMPRESSED_MARK, FrameCompression, type CodecName } from '../../protocol/frame-compression.js'
import { ProtocolError } from '../../protocol/errors.js'
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../../protocol/constants.js'
import type { DecodeResult } from '../../protocol/decode.js'
import type { Message } from '../../protocol/messages.js'

/** how long a failing session may take to flush its error frame */
const FAIL_FLUSH_MS = 1000

export interface FramedStreamStats {
  framesIn: number
  framesOut: number
  bytesIn: number
  bytesOut: number
  /** frames as they were before compression (bodies in, whole frames out); the wire's bytes while no codec is on */
  rawBytesIn: number
  rawBytesOut: number
}

/** Another protocol over the same framing (the invite handshake, the blob protocol): its frame cap, version and frames. */
export interface FramingOptions {
  readonly maxFrameBytes?: number
  /** `v` of the error frame sent by fail() */
  readonly version?: number
  /** how frames are cut and parsed (default: JSON frames of at most maxFrameBytes) */
  readonly frames?: FrameDecoder
  /**
   * hand the decode function each frame's body as its bytes (decompressed,
   * not yet checked as UTF-8), not parsed JSON: sync sessions'
   * decoders (session-decoders.ts) decode bulk frames object by object
   */
  readonly bodies?: boolean
}

export class FramedStream<In, Out = Message> {
  readonly stream: Stream
  readonly stats: FramedStreamStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, rawBytesIn: 0, rawBytesOut: 0 }
  readonly #decode: (value: unknown) => DecodeResult<In>
  readonly #frames: FrameDecoder
  readonly #maxFrameBytes: number
  readonly #version: number
  #sendChain: Promise<void> = Promise.resolve()
  #compression: FrameCompression | undefined

  constructor (stream: Stream, decode: (value: unknown) => DecodeResult<In>, options: FramingOptions = {}) {
    this.stream = stream
    this.#decode = decode
    this.#maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES
    this.#version = options.version ?? PROTOCOL_VERSION
    this.#frames = options.frames ?? (options.bodies === true
      ? new FrameDecoder({ maxFrameBytes: this.#maxFrameBytes, parse: (body) => this.#body(body.subarray()) })
      : new FrameDecoder({ maxFrameBytes: this.#maxFrameBytes }))
  }

  /** the codec frames are compressed with, once the hellos chose one */
  get codec (): CodecName | undefined {
    return this.#compression?.name
  }

  /**
   * Compress frames worth it from now on, and accept compressed frames (text
   * sessions only). Called by the session as soon as the hellos agree, before
   * it reads or sends another frame.
   */
  useCodec (name: CodecName): void {
    this.#compression = new FrameCompression(name, this.#maxFrameBytes)
  }

  #body (body: Uint8Array): Uint8Array {
    let bytes = body
    if (body[0] === COMPRESSED_MARK) {
      if (this.#compression === undefined) throw new ProtocolError('compressed frame on a session that did not agree on frame compression')
      bytes = this.#compression.decompress(body)
    }
    this.stats.rawBytesIn += bytes.byteLength
    return bytes
  }

  /** the largest frame body this stream sends or accepts */
  get maxFrameBytes (): number {
    return this.#maxFrameBytes
  }

  /** the protocol version this stream's messages carry as `v` */
  get version (): number {
    return this.#version
  }

  /** Send one message, waiting for the transport to drain when it is full. */
  async send (message: Out): Promise<void> {
    await this.sendJson(JSON.stringify(message))
  }

  /** Send an already-serialised JSON message. */
  async sendJson (json: string): Promise<void> {
    await this.sendEncoded(encodeJsonFrame(json, this.#maxFrameBytes))
  }

  /** Send a whole frame built elsewhere (protocol 2's bulk frames: bulk-frame.ts bulkBatchFrame), compressed as sendJson would. */
  async sendEncoded (frame: Uint8Array): Promise<void> {
    this.stats.rawBytesOut += frame.byteLength
    await this.sendFrame(this.#compression !== undefined ? this.#compressed(frame) : frame)
  }

  /** `frame` with its body compressed, when the codec finds that worth it (else `frame` itself). */
  #compressed (frame: Uint8Array): Uint8Array {
    const prefix = frame[0]! < 0x80 ? 1 : frame[1]! < 0x80 ? 2 : frame[2]! < 0x80 ? 3 : 4
    const body = frame.subarray(prefix)
    const packed = this.#compression!.compress(body)
    if (packed === body) return frame
    const out = allocFrame(packed.byteLength)
    out.body.set(packed)
    return out.frame
  }

  /**
   * Frames are handed to the stream strictly in call order; a caller that
   * does not await still cannot interleave inside another frame.
   */
  async sendFrame (frame: Uint8Array): Promise<void> {
    const run = async (): Promise<void> => {
      this.stats.framesOut++
      this.stats.bytesOut += frame.byteLength
      if (!this.stream.send(frame)) await this.stream.onDrain()
    }
    const next = this.#sendChain.then(run)
    this.#sendChain = next.catch(() => {})
    await next
  }

  /**
   * Best effort: tell the peer why we close, then abort the stream. abort()
   * throws away unsent data, so the error frame is flushed first with a
   * half-close (bounded: a peer that does not read cannot hold us).
   */
  async fail (code: string, message: string): Promise<void> {
    try {
      if (this.stream.status === 'open' && this.stream.writeStatus === 'writable') {
        this.stream.send(encodeJsonFrame(JSON.stringify({ type: 'error', v: this.#version, code: code.slice(0, 64), message: message.slice(0, 4000) }), this.#maxFrameBytes))
        await this.stream.close({ signal: AbortSignal.timeout(FAIL_FLUSH_MS) })
      }
    } catch {
      // the stream is already unusable, or the peer does not read; the abort below is what matters
    }
    this.stream.abort(new ProtocolError(`${code}: ${message}`))
  }

  async close (): Promise<void> {
    try {
      await this.stream.close({ signal: AbortSignal.timeout(2000) })
    } catch {
      this.stream.abort(new ProtocolError('close timed out'))
    }
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<In> {
    for await (const chunk of this.stream) {
      this.stats.bytesIn += chunk.byteLength
      for (const value of this.#frames.decode(chunk)) {
        this.stats.framesIn++
        const result = this.#decode(value)
        if (!result.ok) throw new ProtocolError(result.error)
        yield result.message
      }
    }
    // the peer ended its side: in the middle of a frame, that is a truncated message
    if (this.#frames.pending > 0) throw new ProtocolError(`the peer ended the stream inside a frame (${this.#frames.pending} bytes of an unfinished frame)`)
  }
}
