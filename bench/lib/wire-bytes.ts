/**
 * Bytes this process put on (and took off) TCP: every socket it opens or
 * accepts, found through node's `net.client.socket` / `net.server.socket`
 * diagnostics channels, counted by the sockets' own `bytesWritten` /
 * `bytesRead`. That is the wire as the kernel sees it: libp2p's Noise and
 * yamux framing included, IPC to the bench runner excluded (a pipe, not TCP).
 *
 * Invariant: a socket's bytes are counted once — live sockets are summed when
 * asked, and a closed socket's totals move into the running sums as it closes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'

export interface WireBytes { readonly written: number, readonly read: number }

export interface WireCounter {
  /** bytes written and read over TCP by this process since start() */
  total: () => WireBytes
  stop: () => void
}

const CHANNELS = ['net.client.socket', 'net.server.socket'] as const

export function createWireCounter (): WireCounter {
  const live = new Set<Socket>()
  let closedWritten = 0
  let closedRead = 0
  const onSocket = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket
    live.add(socket)
    socket.once('close', () => {
      live.delete(socket)
      closedWritten += socket.bytesWritten
      closedRead += socket.bytesRead
    })
  }
  for (const c of CHANNELS) subscribe(c, onSocket)
  return {
    total: () => {
      let written = closedWritten
      let read = closedRead
      for (const s of live) { written += s.bytesWritten; read += s.bytesRead }
      return { written, read }
    },
    stop: () => { for (const c of CHANNELS) unsubscribe(c, onSocket) }
  }
}
