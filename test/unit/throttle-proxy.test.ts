/**
 * The bench's shaping proxy (bench/lib/throttle-proxy.ts) over loopback: it
 * carries every byte both ways in order, counts them, and is never faster
 * than the link it models — a transfer takes at least its bytes at the
 * bandwidth plus the one-way delay (lower bounds only: a busy machine may
 * be slower, never faster). Link specs parse or are refused.
 */
import { createHash } from 'node:crypto'
import { createConnection, createServer, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createThrottleProxy, parseLink } from '../../bench/lib/throttle-proxy.js'

describe('throttle proxy', () => {
  it('parses link specs', () => {
    expect(parseLink('50mbit,20ms')).toEqual({ mbit: 50, oneWayMs: 10 })
    expect(parseLink('2.5mbit,100ms')).toEqual({ mbit: 2.5, oneWayMs: 50 })
    expect(parseLink('loopback')).toEqual({ mbit: 0, oneWayMs: 0 })
    expect(() => parseLink('50M')).toThrow(/mbit/)
  })

  it('carries 1 MiB each way in order, counted, no faster than 40 Mbit/s and 10 ms each way', async () => {
    const payload = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7919) & 0xff))
    const digest = createHash('sha256').update(payload).digest('hex')
    // an echo server: what it reads it writes back
    const server = createServer((socket: Socket) => socket.pipe(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const proxy = await createThrottleProxy(port, { mbit: 40, oneWayMs: 10 })
    try {
      const started = performance.now()
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const client = createConnection({ host: '127.0.0.1', port: Number(/tcp\/(\d+)/.exec(proxy.addr)![1]) })
        const parts: Buffer[] = []
        let got = 0
        client.on('data', (d: Buffer) => {
          parts.push(d)
          got += d.byteLength
          if (got >= payload.byteLength) { client.end(); resolve(Buffer.concat(parts)) }
        })
        client.on('error', reject)
        client.write(payload)
      })
      const ms = performance.now() - started
      expect(createHash('sha256').update(echoed).digest('hex')).toBe(digest)
      expect(proxy.bytes()).toEqual({ up: payload.byteLength, down: payload.byteLength })
      // 8 Mbit at 40 Mbit/s is 210 ms per direction, pipelined: at least that plus the round trip
      expect(ms).toBeGreaterThanOrEqual(payload.byteLength * 8 / 40_000 + 20 - 2)
    } finally {
      await proxy.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
