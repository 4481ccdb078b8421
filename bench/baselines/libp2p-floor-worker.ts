/**
 * Child process of the libp2p floor baseline (libp2p-floor.ts). One module,
 * two roles chosen by which methods the parent calls:
 * - receiver: `listen` starts a node and handles the floor protocols; each
 *   inbound stream is read to its end, frames decoded (and JSON-parsed in
 *   `parse` mode), then one ack frame with the counts is sent back;
 * - sender: `prepare` generates and frames the objects, `dial` connects,
 *   `send` streams them with back-pressure and times first send → ack;
 *   `sendFile` streams a file's bytes as they are (256 KiB per `send()`,
 *   read from disk as labmesh's blob server reads them) to the bytes floor,
 *   whose receiver only counts them: the floor of the blob scenario.
 *
 * Invariants: all timing is taken on one clock (the sender's); the ack reader
 * is attached before the first send, so the ack can never be missed; state
 * lives in the worker factory, not the module.
 */
import '../../agent/runtime/polyfills.js'
import { open } from 'node:fs/promises'
import type { Stream } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import { generateLimsObjects } from '../../agent/demo/lims-data.js'
import { isMainModule } from '../lib/args.js'
import { createFrameReader, encodeFrames } from '../lib/frames.js'
import { createBenchNode } from '../lib/libp2p.js'
import { serveWorker, type WorkerMethods } from '../lib/process.js'
import { createBenchLog } from '../lib/report.js'
import { createRssSampler, rssHandlers } from '../lib/rss.js'

export const FLOOR_PROTOCOLS = Object.freeze({
  raw: '/labmesh-bench/floor-raw/1.0.0',
  parse: '/labmesh-bench/floor-parse/1.0.0'
})
export type FloorMode = keyof typeof FLOOR_PROTOCOLS
/** the bytes floor: a file's bytes, unframed, counted by the receiver */
export const FLOOR_BYTES_PROTOCOL = '/labmesh-bench/floor-bytes/1.0.0'

export interface SendFileResult {
  readonly bytes: number
  /** first send() → ack */
  readonly ms: number
  readonly drains: number
  readonly ack: Ack
}

/** one object is ~1 KiB; anything near this is a framing bug */
const MAX_MESSAGE_BYTES = 1 << 20
const DIAL_TIMEOUT_MS = 10_000

export interface PrepareParams {
  readonly domain: string
  readonly seed: number
  readonly objects: number
  readonly coalesce: number
  /** pre-generate the framed objects when their size is at most this; otherwise generate while sending */
  readonly pregenerateMaxBytes: number
}

export interface PrepareResult { readonly pregenerated: boolean, readonly payloadBytes: number, readonly sends: number, readonly ms: number }

export interface Ack { readonly count: number, readonly bytes: number, readonly receiveMs: number, readonly error?: string }

export interface SendResult {
  readonly mode: FloorMode
  readonly objects: number
  readonly sends: number
  readonly payloadBytes: number
  readonly wireBytes: number
  /** first send() → ack received */
  readonly ms: number
  /** how often send() returned false and the sender waited for drain */
  readonly drains: number
  readonly ack: Ack
}

function createFloorWorker (): { readonly methods: WorkerMethods, readonly shutdown: () => Promise<void> } {
  const log = createBenchLog('floor-worker')
  const rss = createRssSampler()
  rss.start()
  let node: Libp2p | undefined
  let target: Multiaddr | undefined
  let prepared: { readonly params: PrepareParams, readonly frames?: readonly Uint8Array[] } | undefined

  const receive = async (stream: Stream, mode: FloorMode): Promise<void> => {
    const read = createFrameReader(MAX_MESSAGE_BYTES)
    const text = new TextDecoder()
    let count = 0
    let bytes = 0
    let first: number | undefined
    let error: string | undefined
    try {
      for await (const chunk of stream) {
        first ??= performance.now()
        for (const message of read(chunk)) {
          count++
          bytes += message.byteLength
          if (mode === 'parse') {
            const obj = JSON.parse(text.decode(message.subarray())) as { uid?: unknown }
            if (typeof obj.uid !== 'string') throw new Error('a message without a uid')
          }
        }
      }
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      log('receive failed', { mode, count, error })
    }
    const ack: Ack = { count, bytes, receiveMs: first === undefined ? 0 : performance.now() - first, ...(error === undefined ? {} : { error }) }
    try {
      stream.send(encodeFrames([new TextEncoder().encode(JSON.stringify(ack))]))
      await stream.close()
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  const receiveBytes = async (stream: Stream): Promise<void> => {
    let bytes = 0
    let first: number | undefined
    for await (const chunk of stream) {
      first ??= performance.now()
      bytes += chunk.byteLength
    }
    stream.send(encodeFrames([new TextEncoder().encode(JSON.stringify({ count: 1, bytes, receiveMs: first === undefined ? 0 : performance.now() - first } satisfies Ack))]))
    await stream.close()
  }

  const frameSource = function * (params: PrepareParams): Generator<{ frame: Uint8Array, payloadBytes: number }> {
    const encoder = new TextEncoder()
    let batch: Uint8Array[] = []
    let payloadBytes = 0
    for (const obj of generateLimsObjects({ domain: params.domain, seed: params.seed, count: params.objects })) {
      const bytes = encoder.encode(JSON.stringify(obj))
      payloadBytes += bytes.byteLength
      batch.push(bytes)
      if (batch.length === params.coalesce) {
        yield { frame: encodeFrames(batch), payloadBytes }
        batch = []
        payloadBytes = 0
      }
    }
    if (batch.length > 0) yield { frame: encodeFrames(batch), payloadBytes }
  }

  const methods: WorkerMethods = {
    ...rssHandlers(rss),

    listen: async (): Promise<{ addrs: string[], peerId: string }> => {
      node = await createBenchNode({ listen: true })
      for (const mode of Object.keys(FLOOR_PROTOCOLS) as FloorMode[]) {
        await node.handle(FLOOR_PROTOCOLS[mode], async (stream) => { await receive(stream, mode) })
      }
      await node.handle(FLOOR_BYTES_PROTOCOL, async (stream) => { await receiveBytes(stream) })
      return { addrs: node.getMultiaddrs().map((a) => a.toString()), peerId: node.peerId.toString() }
    },

    prepare: (params: PrepareParams): PrepareResult => {
      const started = performance.now()
      // ~1.2 KB per framed object is a safe over-estimate for the generator's ~1.1 KiB.
      if (params.objects * 1200 > params.pregenerateMaxBytes) {
        prepared = { params }
        return { pregenerated: false, payloadBytes: 0, sends: Math.ceil(params.objects / params.coalesce), ms: 0 }
      }
      const frames: Uint8Array[] = []
      let payloadBytes = 0
      for (const f of frameSource(params)) { frames.push(f.frame); payloadBytes += f.payloadBytes }
      prepared = { params, frames }
      return { pregenerated: true, payloadBytes, sends: frames.length, ms: performance.now() - started }
    },

    dial: async ({ addr }: { addr: string }): Promise<{ ms: number }> => {
      node ??= await createBenchNode({ listen: false })
      target = multiaddr(addr)
      const started = performance.now()
      await node.dial(target, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      return { ms: performance.now() - started }
    },

    send: async ({ mode }: { mode: FloorMode }): Promise<SendResult> => {
      if (node === undefined || target === undefined || prepared === undefined) throw new Error('send before prepare and dial')
      const { params, frames } = prepared
      const stream = await node.dialProtocol(target, FLOOR_PROTOCOLS[mode], { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      const ack = readAck(stream)
      let sends = 0
      let wireBytes = 0
      let payloadBytes = 0
      let drains = 0
      const started = performance.now()
      const source = frames === undefined ? frameSource(params) : frames.map((frame) => ({ frame, payloadBytes: -1 }))
      for (const { frame, payloadBytes: p } of source) {
        sends++
        wireBytes += frame.byteLength
        payloadBytes += p
        if (!stream.send(frame)) {
          drains++
          await stream.onDrain({ signal: AbortSignal.timeout(60_000) })
        }
      }
      await stream.close()
      const received = await ack
      const ms = performance.now() - started
      return { mode, objects: params.objects, sends, payloadBytes: frames === undefined ? payloadBytes : received.bytes, wireBytes, ms, drains, ack: received }
    },

    sendFile: async ({ file, chunk }: { file: string, chunk: number }): Promise<SendFileResult> => {
      if (node === undefined || target === undefined) throw new Error('sendFile before dial')
      const stream = await node.dialProtocol(target, FLOOR_BYTES_PROTOCOL, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      const ack = readAck(stream)
      const handle = await open(file, 'r')
      let bytes = 0
      let drains = 0
      const started = performance.now()
      try {
        while (true) {
          // a fresh buffer per send: the stream may hold it until written
          const buffer = Buffer.allocUnsafe(chunk)
          const { bytesRead } = await handle.read(buffer, 0, chunk, bytes)
          if (bytesRead === 0) break
          bytes += bytesRead
          if (!stream.send(buffer.subarray(0, bytesRead))) {
            drains++
            await stream.onDrain({ signal: AbortSignal.timeout(60_000) })
          }
        }
      } finally {
        await handle.close()
      }
      await stream.close()
      const received = await ack
      return { bytes, ms: performance.now() - started, drains, ack: received }
    }
  }

  return {
    methods,
    shutdown: async () => {
      rss.stop()
      await node?.stop()
    }
  }
}

async function readAck (stream: Stream): Promise<Ack> {
  const read = createFrameReader(MAX_MESSAGE_BYTES)
  let ack: Ack | undefined
  for await (const chunk of stream) {
    for (const message of read(chunk)) ack = JSON.parse(new TextDecoder().decode(message.subarray())) as Ack
  }
  if (ack === undefined) throw new Error('the receiver closed the stream without an ack')
  return ack
}

if (isMainModule(import.meta.url)) {
  const worker = createFloorWorker()
  serveWorker(worker.methods, { onShutdown: worker.shutdown })
}
