/**
 * Compressed frames (protocol/frame-compression.ts) and the choice of codec
 * (agent/sync/compression-policy.ts): round trips of real batch text with
 * every codec this node has, frames not worth compressing left alone, and
 * every way a hostile compressed body can lie — a zip bomb, a size over the
 * frame cap, a short or damaged stream, a length in a long form — refused
 * with a coded error before more than the announced size is inflated.
 */
import * as zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { acceptedCodecs, isLoopback, offeredCodecs } from '../../agent/sync/compression-policy.js'
import { generateLimsObjects } from '../../agent/demo/lims-data.js'
import { bulkBatchText } from '../../protocol/bulk-frame.js'
import { MAX_FRAME_BYTES } from '../../protocol/constants.js'
import { MessageTooLargeError } from '../../protocol/errors.js'
import {
  availableCodecs, chooseCodec, COMPRESSED_MARK, CompressedFrameError, FrameCompression, MIN_COMPRESS_BYTES
} from '../../protocol/frame-compression.js'

const encoder = new TextEncoder()
const batch = encoder.encode(bulkBatchText({ id: 1, lastSeq: 500, last: false, more: true, remaining: 10 },
  [...generateLimsObjects({ domain: 'lab-a', seed: 3, count: 500 })].map((o) => JSON.stringify(o))))

/** A compressed body as a hostile peer would write it: any announced size, any payload. */
function hostileBody (announced: number, payload: Uint8Array, lengthBytes?: number[]): Uint8Array {
  const length: number[] = lengthBytes ?? []
  if (lengthBytes === undefined) {
    let n = announced
    while (n >= 0x80) { length.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
    length.push(n)
  }
  return Uint8Array.from([COMPRESSED_MARK, ...length, ...payload])
}

const brotliOf = (bytes: Uint8Array): Uint8Array => zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } })

describe('frame compression', () => {
  it('round-trips a bulk frame with every codec this node has, several times smaller', () => {
    expect(availableCodecs()).toContain('brotli')
    for (const name of availableCodecs()) {
      const codec = new FrameCompression(name)
      const packed = codec.compress(batch)
      expect(packed[0], name).toBe(COMPRESSED_MARK)
      expect(packed.byteLength, name).toBeLessThan(batch.byteLength / 3)
      expect(Buffer.from(codec.decompress(packed)).equals(Buffer.from(batch)), name).toBe(true)
    }
  })

  it('leaves small and incompressible bodies as they are', () => {
    const codec = new FrameCompression('brotli')
    const small = encoder.encode(JSON.stringify({ type: 'notify', v: 2, head: 5 }))
    expect(codec.compress(small)).toBe(small)
    const random = Uint8Array.from({ length: 4 * MIN_COMPRESS_BYTES }, (_, i) => (i * 2654435761) >>> 24)
    const noise = zlib.brotliCompressSync(random)
    expect(codec.compress(noise)).toBe(noise)
  })

  it('refuses a zip bomb: a body inflating past the size it announces stops there', () => {
    const codec = new FrameCompression('brotli')
    // 64 MiB of zeros is ~100 bytes of brotli; it announces 4 KiB
    const bomb = hostileBody(4096, brotliOf(new Uint8Array(64 * 1024 * 1024)))
    expect(bomb.byteLength).toBeLessThan(1000)
    const before = process.memoryUsage().arrayBuffers
    const err = catchOf(() => codec.decompress(bomb))
    expect(err).toBeInstanceOf(CompressedFrameError)
    expect(err).toMatchObject({ code: 'COMPRESSED_FRAME_INVALID', message: expect.stringMatching(/inflates past the 4096 bytes/) })
    // nothing near 64 MiB was allocated on the way
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024)
  })

  it('refuses an announced size over the frame cap before inflating anything', () => {
    const codec = new FrameCompression('brotli')
    const err = catchOf(() => codec.decompress(hostileBody(MAX_FRAME_BYTES + 1, brotliOf(new Uint8Array(10)))))
    expect(err).toBeInstanceOf(MessageTooLargeError)
    expect(err).toMatchObject({ code: 'MESSAGE_TOO_LARGE' })
  })

  it('refuses damaged, short, lying and oddly framed bodies with a coded error', () => {
    const codec = new FrameCompression('brotli')
    const honest = brotliOf(batch)
    const cases: Array<[string, Uint8Array]> = [
      ['garbage payload', hostileBody(batch.byteLength, Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff))],
      ['truncated payload', hostileBody(batch.byteLength, honest.subarray(0, honest.byteLength >> 1))],
      ['announces more than it holds', hostileBody(batch.byteLength + 1, honest)],
      ['announces less than it holds', hostileBody(batch.byteLength - 1, honest)],
      ['announces under the size worth compressing', hostileBody(10, brotliOf(new Uint8Array(10)))],
      ['ends inside its length', Uint8Array.from([COMPRESSED_MARK, 0x80])],
      ['no length at all', Uint8Array.from([COMPRESSED_MARK])],
      ['length not in its shortest form', hostileBody(0, honest, [0x80 | (batch.byteLength & 0x7f), 0x80 | ((batch.byteLength >> 7) & 0x7f), 0x80 | ((batch.byteLength >> 14) & 0x7f), 0])]
    ]
    for (const [what, body] of cases) {
      const err = catchOf(() => codec.decompress(body))
      expect(err, what).toBeInstanceOf(CompressedFrameError)
      expect((err as CompressedFrameError).code, what).toBe('COMPRESSED_FRAME_INVALID')
    }
    // a length of more than five bytes announces more than any frame
    expect(catchOf(() => codec.decompress(hostileBody(0, honest, [0xff, 0xff, 0xff, 0xff, 0xff, 0x01])))).toBeInstanceOf(MessageTooLargeError)
  })

  it('a codec this node lacks cannot be used', () => {
    if (availableCodecs().includes('zstd')) return
    expect(() => new FrameCompression('zstd')).toThrow(/not available/)
  })
})

describe('choosing a codec', () => {
  it('the server takes the first of the puller\'s offer that it accepts', () => {
    expect(chooseCodec(['zstd', 'brotli'], ['brotli', 'zstd'])).toBe('zstd')
    expect(chooseCodec(['zstd', 'brotli'], ['brotli'])).toBe('brotli')
    expect(chooseCodec(['lz4', 'brotli'], ['brotli'])).toBe('brotli')
    expect(chooseCodec(['lz4'], ['brotli'])).toBeUndefined()
    expect(chooseCodec([], ['brotli'])).toBeUndefined()
    expect(chooseCodec(undefined, ['brotli'])).toBeUndefined()
    expect(chooseCodec(['brotli'], [])).toBeUndefined()
  })

  it('tells loopback links from others', () => {
    expect(isLoopback('/ip4/127.0.0.1/tcp/4001')).toBe(true)
    expect(isLoopback('/ip4/127.8.9.10/tcp/4001/p2p/12D3Koo')).toBe(true)
    expect(isLoopback('/ip6/::1/tcp/4001')).toBe(true)
    expect(isLoopback('/ip4/10.0.0.7/tcp/4001')).toBe(false)
    expect(isLoopback('/ip4/192.168.1.127/tcp/4001')).toBe(false)
    expect(isLoopback('/ip6/::ffff:7f00:1/tcp/4001')).toBe(false)
    expect(isLoopback('/dns4/lab-b.example/tcp/4001')).toBe(false)
    expect(isLoopback(undefined)).toBe(false)
  })

  it('offers by setting and link; accepts everything it speaks unless off', () => {
    const both = ['brotli', 'zstd'] as const
    const old = ['brotli'] as const
    const lan = '/ip4/10.0.0.7/tcp/4001'
    const lo = '/ip4/127.0.0.1/tcp/4001'
    expect(offeredCodecs('off', lan, both)).toEqual([])
    expect(offeredCodecs('auto', lo, both)).toEqual([])
    expect(offeredCodecs('auto', lan, both)).toEqual(['brotli', 'zstd'])
    expect(offeredCodecs('auto', undefined, old)).toEqual(['brotli'])
    expect(offeredCodecs('brotli', lo, both)).toEqual(['brotli', 'zstd'])
    expect(offeredCodecs('zstd', lo, both)).toEqual(['zstd', 'brotli'])
    expect(offeredCodecs('zstd', lan, old)).toEqual(['brotli'])
    expect(acceptedCodecs('off', both)).toEqual([])
    expect(acceptedCodecs('auto', both)).toEqual(['brotli', 'zstd'])
    expect(acceptedCodecs('brotli', old)).toEqual(['brotli'])
  })
})

function catchOf (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}
