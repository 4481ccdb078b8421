/**
 * A libp2p 3 stream seen as a sequence of validated messages.
 *
 * libp2p 3 streams are message-based: `send()` returns false when the
 * transport's buffer is full (then we wait for `onDrain()` — back-pressure),
 * and reading is `for await` over chunks, which we decode into frames with a
 * size cap and validate with the role's decoder. Anything malformed throws a
 * ProtocolError / MessageTooLargeError out of the iterator; the session that
 * owns the stream logs it, sends an error frame if it can, and aborts.
 */
import type { Stream } from '@libp2p/interface'
import { FrameDecoder } from '../../protocol/codec.js'
import { encodeFrame, encodeJsonFrame } from '../../protocol/codec.js'
import { ProtocolError } from '../../protocol/errors.js'
import { PROTOCOL_VERSION } from '../../protocol/constants.js'
import type { DecodeResult } from '../../protocol/decode.js'
import type { Message } from '../../protocol/messages.js'
import type { VerifyMessage } from '../../protocol/verify-messages.js'

/** how long a failing session may take to flush its error frame */
const FAIL_FLUSH_MS = 1000

export interface FramedStreamStats {
  framesIn: number
  framesOut: number
  bytesIn: number
  bytesOut: number
}

export class FramedStream<In> {
  readonly stream: Stream
  readonly stats: FramedStreamStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 }
  readonly #decode: (value: unknown) => DecodeResult<In>
  readonly #frames = new FrameDecoder()
  #sendChain: Promise<void> = Promise.resolve()

  constructor (stream: Stream, decode: (value: unknown) => DecodeResult<In>) {
    this.stream = stream
    this.#decode = decode
  }

  /** Send one message, waiting for the transport to drain when it is full. */
  async send (message: Message | VerifyMessage): Promise<void> {
    await this.sendFrame(encodeFrame(message))
  }

  /** Send an already-serialised JSON message. */
  async sendJson (json: string): Promise<void> {
    await this.sendFrame(encodeJsonFrame(json))
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
        this.stream.send(encodeFrame({ type: 'error', v: PROTOCOL_VERSION, code: code.slice(0, 64), message: message.slice(0, 4000) }))
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
