/**
 * What compression and binary batch headers would buy protocol version 2, on
 * its own batch frames (bulk frames of the bench's generated, signed
 * objects), measured in one process: each codec's ratio and its compress /
 * decompress CPU per MiB, per frame and per session (one stream compressor
 * flushed after every frame, so later frames reuse earlier ones' context),
 * then the time a sync of these frames would take on a link of
 * --mbit Mbit/s with --rtt-ms round trips per pull window, bytes on the
 * wire against CPU on the two ends (the slower of link and CPU bounds it:
 * the pipeline overlaps them). Binary headers: the share of the frames'
 * bytes their JSON headers take, the most a binary encoding could save.
 *
 *   node dist/bench/compress-micro.js [--objects 20000] [--mbit 50] [--rtt-ms 20] [--window 4000]
 */
import { brotliCompressSync, brotliDecompressSync, constants, createBrotliCompress, createDeflateRaw, deflateRawSync, inflateRawSync, type BrotliCompress, type DeflateRaw } from 'node:zlib'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createVersionSigner } from '../protocol/provenance.js'
import { buildFrames } from './apply-micro.js'
import { isMainModule, parseBenchArgs } from './lib/args.js'

const DEFAULTS = Object.freeze({ objects: 20_000, seed: 1, batchSize: 500, mbit: 50, rttMs: 20, window: 4000 })

interface Codec {
  readonly name: string
  /** compress every frame; a session codec keeps its context from frame to frame */
  compress (frames: readonly Uint8Array[]): Promise<Buffer[]>
  decompress (chunks: readonly Buffer[]): void
}

const frameCodec = (name: string, c: (b: Uint8Array) => Buffer, d: (b: Buffer) => Buffer): Codec => ({
  name,
  compress: async (frames) => frames.map(c),
  decompress: (chunks) => { for (const x of chunks) d(x) }
})

/** one compressor for the whole session, flushed after each frame (what a stream wrapper would do) */
function sessionCodec (name: string, make: () => BrotliCompress | DeflateRaw, flushKind: number): Codec {
  return {
    name,
    async compress (frames) {
      const z = make()
      const out: Buffer[] = []
      for (const f of frames) {
        const parts: Buffer[] = []
        const onData = (b: Buffer): void => { parts.push(b) }
        z.on('data', onData)
        z.write(f)
        await new Promise<void>((resolve) => z.flush(flushKind, () => resolve()))
        z.off('data', onData)
        out.push(Buffer.concat(parts))
      }
      z.end()
      return out
    },
    decompress (chunks) {
      // a session's chunks only decompress in order, with the context of the ones before: all at once here
      const all = Buffer.concat(chunks)
      if (name.startsWith('deflate')) inflateRawSync(all, { finishFlush: constants.Z_SYNC_FLUSH })
      else brotliDecompressSync(all, { finishFlush: constants.BROTLI_OPERATION_FLUSH })
    }
  }
}

const brotli = (q: number) => (b: Uint8Array): Buffer => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: q, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } })

const CODECS: Codec[] = [
  frameCodec('deflate-1 per frame', (b) => deflateRawSync(b, { level: 1 }), (b) => inflateRawSync(b)),
  frameCodec('deflate-6 per frame', (b) => deflateRawSync(b, { level: 6 }), (b) => inflateRawSync(b)),
  frameCodec('brotli-1 per frame', brotli(1), (b) => brotliDecompressSync(b)),
  frameCodec('brotli-4 per frame', brotli(4), (b) => brotliDecompressSync(b)),
  sessionCodec('deflate-1 per session', () => createDeflateRaw({ level: 1 }), constants.Z_SYNC_FLUSH),
  sessionCodec('brotli-4 per session', () => createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } }), constants.BROTLI_OPERATION_FLUSH)
]

function cpuMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

if (isMainModule(import.meta.url)) {
  const flags = parseBenchArgs(process.argv.slice(2), { ...DEFAULTS })
  const key = await generateKeyPair('Ed25519')
  const frames = buildFrames(flags.objects, flags.seed, flags.batchSize, createVersionSigner('lab-a', peerIdFromPrivateKey(key).toString(), key.raw), 2)
  const bytes = frames.reduce((n, f) => n + f.byteLength, 0)
  const headerBytes = frames.reduce((n, f) => n + Buffer.from(f).indexOf(10), 0)
  const windows = Math.ceil(flags.objects / flags.window)
  const linkBytesPerMs = flags.mbit * 1e6 / 8 / 1000
  const rows: Array<Record<string, unknown>> = []
  const model = (wire: number, cpu: number): { linkS: number, loopbackS: number } => ({
    // the link: bytes at its rate plus one round trip per window; the CPU of compressing and decompressing overlaps with it
    linkS: Math.round(Math.max(wire / linkBytesPerMs, cpu) + windows * flags.rttMs) / 1000,
    // on loopback the link costs nothing: only the added CPU counts
    loopbackS: Math.round(cpu) / 1000
  })
  rows.push({ codec: 'none', ratio: 1, wireMiB: +(bytes / 1048576).toFixed(2), compressMsPerMiB: 0, decompressMsPerMiB: 0, ...model(bytes, 0) })
  for (const codec of CODECS) {
    let best: { c: number, d: number, wire: number } | undefined
    for (let r = 0; r < 3; r++) {
      const c0 = cpuMs()
      const chunks = await codec.compress(frames)
      const c1 = cpuMs()
      codec.decompress(chunks)
      const d1 = cpuMs()
      const wire = chunks.reduce((n, x) => n + x.byteLength, 0)
      if (best === undefined || c1 - c0 + d1 - c1 < best.c + best.d) best = { c: c1 - c0, d: d1 - c1, wire }
    }
    const mib = bytes / 1048576
    rows.push({ codec: codec.name, ratio: +(bytes / best!.wire).toFixed(2), wireMiB: +(best!.wire / 1048576).toFixed(2), compressMsPerMiB: Math.round(best!.c / mib), decompressMsPerMiB: Math.round(best!.d / mib), ...model(best!.wire, best!.c + best!.d) })
  }
  process.stdout.write(`${flags.objects} objects, ${frames.length} bulk frames, ${(bytes / 1048576).toFixed(1)} MiB; JSON headers ${headerBytes} bytes (${(headerBytes / bytes * 100).toFixed(2)} % of the frames: the most binary headers could save); link ${flags.mbit} Mbit/s, ${flags.rttMs} ms per window of ${flags.window}\n`)
  console.table(rows)
  process.stdout.write(JSON.stringify({ objects: flags.objects, bytes, headerBytes, rows }) + '\n')
}
