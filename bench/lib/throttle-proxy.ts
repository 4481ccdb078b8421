/**
 * A slow link on loopback: a TCP proxy on 127.0.0.1 in front of one agent's
 * listen address, which the dialling agent is given instead of the real one.
 * Each direction is shaped on its own, as a WAN link is: a token bucket
 * drains it at `mbit` (a burst of one 16 KiB piece), and every piece arrives
 * `oneWayMs` after the bucket let it go (10 ms each way = 20 ms round trip).
 * A direction holding more than `queueBytes` not yet delivered stops reading
 * from its sender (a router's queue: TCP back-pressure reaches the sender),
 * so the sender's view of the link is a real one, not an infinite buffer.
 *
 * It counts the bytes it carries each way: the wire as the agents' kernels
 * see it (Noise and yamux included). `mbit: 0` and `oneWayMs: 0` make a
 * plain pass-through, for comparing with loopback at the same cost of a hop.
 *
 * Invariants: bytes of one direction leave in the order they came (one FIFO
 * and one timer per direction); `close()` destroys every connection.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export interface LinkShape {
  /** bandwidth per direction, Mbit/s (0: unlimited) */
  readonly mbit: number
  /** added delay per direction, ms */
  readonly oneWayMs: number
  /** bytes one direction may hold undelivered before it stops reading (default: 4 × the bandwidth-delay product, at least 256 KiB) */
  readonly queueBytes?: number
}

export interface ThrottleProxy {
  /** multiaddr to give the dialling agent */
  readonly addr: string
  /** bytes carried so far: towards the target (the dialler's requests) and back (its answers) */
  bytes (): { readonly up: number, readonly down: number }
  close (): Promise<void>
}

const PIECE_BYTES = 16 * 1024

/** "50mbit,20ms" → 50 Mbit/s each way, 10 ms each way; "loopback" → a pass-through */
export function parseLink (spec: string): LinkShape {
  if (spec === 'loopback') return { mbit: 0, oneWayMs: 0 }
  const m = /^(\d+(?:\.\d+)?)mbit,(\d+(?:\.\d+)?)ms$/.exec(spec.trim())
  if (m === null) throw new Error(`link "${spec}": write <Mbit/s>mbit,<round trip>ms (e.g. 50mbit,20ms) or loopback`)
  return { mbit: Number(m[1]), oneWayMs: Number(m[2]) / 2 }
}

export async function createThrottleProxy (targetPort: number, shape: LinkShape): Promise<ThrottleProxy> {
  const sockets = new Set<Socket>()
  const counted = { up: 0, down: 0 }
  const bdp = shape.mbit > 0 ? shape.mbit * 125 * Math.max(1, 2 * shape.oneWayMs) : 0
  const queueBytes = shape.queueBytes ?? Math.max(256 * 1024, 4 * bdp)
  const server: Server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort })
    const drop = (): void => {
      inbound.destroy()
      outbound.destroy()
      sockets.delete(inbound)
      sockets.delete(outbound)
    }
    sockets.add(inbound)
    sockets.add(outbound)
    inbound.on('error', drop).on('close', drop)
    outbound.on('error', drop).on('close', drop)
    shapeDirection(inbound, outbound, shape, queueBytes, (n) => { counted.up += n })
    shapeDirection(outbound, inbound, shape, queueBytes, (n) => { counted.down += n })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    addr: `/ip4/127.0.0.1/tcp/${port}`,
    bytes: () => ({ ...counted }),
    async close () {
      for (const s of [...sockets]) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** Carry `from` → `to` through the bucket and the delay line. */
function shapeDirection (from: Socket, to: Socket, shape: LinkShape, queueBytes: number, count: (n: number) => void): void {
  if (shape.mbit === 0 && shape.oneWayMs === 0) {
    from.on('data', (chunk: Buffer) => { count(chunk.byteLength); if (!to.write(chunk)) from.pause() })
    to.on('drain', () => from.resume())
    from.on('end', () => to.end())
    return
  }
  const msPerByte = shape.mbit > 0 ? 8 / (shape.mbit * 1000) : 0
  const queue: Array<{ at: number, piece: Buffer | undefined }> = []
  let held = 0
  let bucketFreeAt = 0
  let timer: NodeJS.Timeout | undefined
  const pump = (): void => {
    timer = undefined
    const now = performance.now()
    while (queue.length > 0 && queue[0]!.at <= now) {
      const { piece } = queue.shift()!
      if (piece === undefined) { to.end(); continue }
      held -= piece.byteLength
      count(piece.byteLength)
      if (!to.destroyed) to.write(piece)
    }
    if (from.isPaused() && held < queueBytes / 2) from.resume()
    if (queue.length > 0) timer = setTimeout(pump, Math.max(0, queue[0]!.at - now))
  }
  const enqueue = (piece: Buffer | undefined): void => {
    const now = performance.now()
    // the bucket lets a piece go once the ones before it have drained at the link's rate
    bucketFreeAt = Math.max(now, bucketFreeAt) + (piece?.byteLength ?? 0) * msPerByte
    queue.push({ at: bucketFreeAt + shape.oneWayMs, piece })
    if (timer === undefined) timer = setTimeout(pump, Math.max(0, queue[0]!.at - now))
  }
  from.on('data', (chunk: Buffer) => {
    for (let at = 0; at < chunk.byteLength; at += PIECE_BYTES) {
      const piece = chunk.subarray(at, at + PIECE_BYTES)
      held += piece.byteLength
      enqueue(piece)
    }
    if (held > queueBytes) from.pause()
  })
  from.on('end', () => enqueue(undefined))
  from.on('close', () => { if (timer !== undefined) clearTimeout(timer) })
}
