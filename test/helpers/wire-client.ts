/**
 * Speaking the sync protocol by hand over a raw stream: read frames with a
 * deadline, pull a whole feed, get objects by uid. The raw peers of the
 * authentication and fuzz tests use it to see exactly what an agent sends.
 */
import type { Stream } from '@libp2p/interface'
import { encodeFrame, FrameDecoder } from '../../protocol/codec.js'
import { PROTOCOL_VERSION } from '../../protocol/constants.js'
import type { WireObject } from '../../protocol/object.js'

export interface FrameReader {
  /** the next frame (parsed JSON), or undefined once the stream ended or `ms` passed */
  next (ms?: number): Promise<Record<string, unknown> | undefined>
  /** true once the remote closed or reset the stream */
  readonly ended: boolean
}

/** `decoder`: how frames are cut and parsed (default: the sync protocol's JSON frames) */
export function frameReader (stream: Stream, decoder: FrameDecoder = new FrameDecoder()): FrameReader {
  const queue: Array<Record<string, unknown>> = []
  let ended = false
  let wake: (() => void) | undefined
  void (async () => {
    try {
      for await (const chunk of stream) {
        for (const value of decoder.decode(chunk)) queue.push(value as Record<string, unknown>)
        wake?.()
      }
    } catch {
      // a reset is an end like any other for the reader
    }
    ended = true
    wake?.()
  })()
  return {
    get ended () { return ended },
    async next (ms = 5000) {
      const deadline = Date.now() + ms
      while (queue.length === 0 && !ended && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
          wake = () => { clearTimeout(timer); resolve() }
        })
        wake = undefined
      }
      return queue.shift()
    }
  }
}

export function helloFrame (domain: string, epoch = 'raw-epoch'): Uint8Array {
  return encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, domain, head: 0, count: 0, epoch })
}

/** Say hello as `domain` and return the server's hello. */
export async function handshake (stream: Stream, reader: FrameReader, domain: string): Promise<Record<string, unknown>> {
  stream.send(helloFrame(domain))
  const hello = await reader.next()
  if (hello?.type !== 'hello') throw new Error(`expected hello, got ${JSON.stringify(hello)}`)
  return hello
}

/** Everything the server sends for a pull from `since` (one window of `limit`). */
export async function pullAll (stream: Stream, reader: FrameReader, since = 0, limit = 100_000): Promise<WireObject[]> {
  stream.send(encodeFrame({ type: 'pull', v: PROTOCOL_VERSION, id: 1, since, limit }))
  const out: WireObject[] = []
  while (true) {
    const frame = await reader.next()
    if (frame === undefined) throw new Error('the stream ended before the pull was answered')
    if (frame.type === 'notify') continue
    if (frame.type !== 'batch') throw new Error(`expected batch, got ${JSON.stringify(frame).slice(0, 200)}`)
    out.push(...(frame.changes as WireObject[]))
    if (frame.last === true) return out
  }
}

/** Ask for `uids` by get; returns the objects sent and the uids reported missing. */
export async function getAll (stream: Stream, reader: FrameReader, uids: readonly string[]): Promise<{ objects: WireObject[], missing: string[] }> {
  stream.send(encodeFrame({ type: 'get', v: PROTOCOL_VERSION, id: 2, uids }))
  const objects: WireObject[] = []
  const missing: string[] = []
  while (true) {
    const frame = await reader.next()
    if (frame === undefined) throw new Error('the stream ended before the get was answered')
    if (frame.type === 'notify') continue
    if (frame.type !== 'objects') throw new Error(`expected objects, got ${JSON.stringify(frame).slice(0, 200)}`)
    objects.push(...(frame.objects as WireObject[]))
    missing.push(...(frame.missing as string[]))
    if (frame.last === true) return { objects, missing }
  }
}
