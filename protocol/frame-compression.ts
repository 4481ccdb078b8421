/**
 * Compressed frames of a version-2 sync session (per session negotiated in
 * the hello: the puller offers codecs in its order of preference, the
 * server answers with the first of them it speaks, or none).
 *
 * Each frame is compressed on its own (no state carried between frames, so
 * a frame is sent, decoded and applied as soon as it is whole; the
 * measurements in bench/README.md found per-session streaming no better
 * than per frame at the level chosen). A compressed frame's body is
 *
 *     Z <varint: decompressed length> <compressed bytes>
 *
 * and decompresses to a frame body like any other (`{…}` or a bulk frame
 * `B…`). The mark `Z` cannot start an uncompressed body (a JSON message
 * starts with `{`, a bulk frame with `B`), so frames below the size worth
 * compressing travel as they are.
 *
 * Limits: the announced length is checked against the frame cap before
 * anything is inflated, and the inflater may produce at most that many
 * bytes (zlib's maxOutputLength stops it there, so a zip bomb costs the
 * receiver no more memory than an honest frame of the cap), and exactly
 * that many. Anything else is a CompressedFrameError (or MessageTooLargeError),
 * which closes the session.
 */
import * as zlib from 'node:zlib'
import { MAX_FRAME_BYTES } from './constants.js'
import { MessageTooLargeError, ProtocolError } from './errors.js'

/** every codec name this protocol defines, in the order an agent prefers them by default */
export const CODEC_NAMES = ['brotli', 'zstd'] as const
export type CodecName = typeof CODEC_NAMES[number]

/** first byte of a compressed frame's body */
export const COMPRESSED_MARK = 0x5a // 'Z'
/** bodies shorter than this travel uncompressed: hello, pull, notify and small answers gain nothing */
export const MIN_COMPRESS_BYTES = 1024
/** codecs a hello may offer, and the length of a codec name (anything longer is refused by the schema) */
export const MAX_OFFERED_CODECS = 8
export const MAX_CODEC_NAME_LENGTH = 16

/**
 * A frame whose compressed body is damaged, lies about its size or inflates
 * past it: a malformed message (a ProtocolError, so sessions close on it as
 * on any other), with a code of its own.
 */
export class CompressedFrameError extends ProtocolError {
  override readonly code = 'COMPRESSED_FRAME_INVALID'
}

interface Codec {
  compress (body: Uint8Array): Uint8Array
  /** at most `maxOutputLength` bytes, or throws */
  decompress (body: Uint8Array, maxOutputLength: number): Uint8Array
}

/** node:zlib's zstd (Node 22.15+ / 23.8+); typed here because Node 20's types do not have it */
interface ZstdZlib {
  zstdCompressSync?: (buf: Uint8Array, options?: { params?: Record<number, number> }) => Buffer
  zstdDecompressSync?: (buf: Uint8Array, options?: { maxOutputLength?: number }) => Buffer
  constants: { ZSTD_c_compressionLevel?: number }
}

function brotli (): Codec {
  return {
    // quality 1: 6.6× on LIMS batches at 4 ms/MiB (quality 4 gains 10 % more for twice the CPU; bench/README.md)
    compress: (body) => zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength } }),
    decompress: (body, maxOutputLength) => zlib.brotliDecompressSync(body, { maxOutputLength })
  }
}

function zstd (): Codec | undefined {
  const z = zlib as unknown as ZstdZlib
  const compress = z.zstdCompressSync
  const decompress = z.zstdDecompressSync
  const level = z.constants.ZSTD_c_compressionLevel
  if (compress === undefined || decompress === undefined || level === undefined) return undefined
  return {
    compress: (body) => compress(body, { params: { [level]: 1 } }),
    decompress: (body, maxOutputLength) => decompress(body, { maxOutputLength })
  }
}

/** The codecs this runtime can speak, in CODEC_NAMES order (zstd only where node:zlib has it). */
export function availableCodecs (): readonly CodecName[] {
  return CODEC_NAMES.filter((name) => codecOf(name) !== undefined)
}

function codecOf (name: CodecName): Codec | undefined {
  return name === 'brotli' ? brotli() : zstd()
}

/** The server's pick: the first codec of the puller's offer that it accepts (the puller's preference wins). */
export function chooseCodec (offered: readonly string[] | undefined, accepted: readonly CodecName[]): CodecName | undefined {
  return offered?.find((name): name is CodecName => (accepted as readonly string[]).includes(name))
}

/** One session's codec: compresses frame bodies worth it, inflates compressed ones within the cap. */
export class FrameCompression {
  readonly name: CodecName
  readonly #codec: Codec
  readonly #maxFrameBytes: number

  constructor (name: CodecName, maxFrameBytes = MAX_FRAME_BYTES) {
    const codec = codecOf(name)
    if (codec === undefined) throw new RangeError(`codec ${name} is not available in this Node.js (${process.version})`)
    this.name = name
    this.#codec = codec
    this.#maxFrameBytes = maxFrameBytes
  }

  /** The body to send for `body` (UTF-8 of a frame): compressed when that is worth it, else `body` itself. */
  compress (body: Uint8Array): Uint8Array {
    if (body.byteLength < MIN_COMPRESS_BYTES) return body
    const packed = this.#codec.compress(body)
    const prefix = varint(body.byteLength)
    // incompressible (already-compressed text, random ids): not worth the receiver's inflate
    if (packed.byteLength + prefix.byteLength + 1 >= body.byteLength) return body
    const out = new Uint8Array(1 + prefix.byteLength + packed.byteLength)
    out[0] = COMPRESSED_MARK
    out.set(prefix, 1)
    out.set(packed, 1 + prefix.byteLength)
    return out
  }

  /** A compressed body (starting with COMPRESSED_MARK) inflated, strictly within the announced size and the frame cap. */
  decompress (body: Uint8Array): Uint8Array {
    const { value: size, bytes } = readVarint(body, 1)
    if (size > this.#maxFrameBytes) throw new MessageTooLargeError(size, this.#maxFrameBytes)
    if (size < MIN_COMPRESS_BYTES) throw new CompressedFrameError(`compressed frame announces ${size} bytes, under the ${MIN_COMPRESS_BYTES} worth compressing`)
    let out: Uint8Array
    try {
      out = this.#codec.decompress(body.subarray(1 + bytes), size)
    } catch (err) {
      const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
      throw new CompressedFrameError(tooLarge
        ? `compressed frame inflates past the ${size} bytes it announces (a zip bomb?): refused before inflating further`
        : `compressed frame does not inflate with ${this.name}: ${(err as Error).message}`, { cause: err })
    }
    if (out.byteLength !== size) throw new CompressedFrameError(`compressed frame inflates to ${out.byteLength} bytes, not the ${size} it announces`)
    return out
  }
}

function varint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Uint8Array.from(out)
}

/** An unsigned varint at `offset`, in its shortest form and at most 5 bytes (past any frame cap). */
function readVarint (body: Uint8Array, offset: number): { value: number, bytes: number } {
  let value = 0
  let factor = 1
  for (let i = 0; i < 5; i++) {
    if (offset + i >= body.byteLength) throw new CompressedFrameError('compressed frame ends inside its length')
    const byte = body[offset + i]!
    if (byte === 0 && i > 0) throw new CompressedFrameError('compressed frame length not in its shortest form')
    value += (byte & 0x7f) * factor
    if ((byte & 0x80) === 0) return { value, bytes: i + 1 }
    factor *= 128
  }
  throw new MessageTooLargeError(undefined, MAX_FRAME_BYTES)
}
