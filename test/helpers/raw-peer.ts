/**
 * A bare libp2p node speaking raw bytes on the sync protocol: the hostile or
 * buggy peer of the fuzzing and admission tests. It uses a real key (often an
 * allowed agent's), so it gets past the gater and reaches the session code.
 */
import '../../agent/runtime/polyfills.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { PrivateKey, Stream } from '@libp2p/interface'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { PROTOCOL_ID } from '../../protocol/constants.js'

export interface RawPeer {
  readonly node: Libp2p
  /** a stream of `protocol` (the sync protocol unless said) to the agent at `addr` */
  open (addr: string, peerId: string, protocol?: string): Promise<Stream>
  stop (): Promise<void>
}

/** `listen`: the address to listen on (a peer standing in for an agent takes that agent's address); any free port by default */
export async function createRawPeer (privateKey: PrivateKey, options: { psk?: Uint8Array, listen?: string } = {}): Promise<RawPeer> {
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: [options.listen ?? '/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(options.psk !== undefined ? { connectionProtector: preSharedKey({ psk: options.psk }) } : {}),
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: { inboundConnectionThreshold: 1000 }
  })
  return {
    node,
    async open (addr, peerId, protocol = PROTOCOL_ID) {
      return await node.dialProtocol(multiaddr(`${addr}/p2p/${peerId}`), protocol, { signal: AbortSignal.timeout(5000) })
    },
    async stop () { await node.stop() }
  }
}

/** Read until the remote closes the stream (or `ms` pass); returns the bytes received and whether it closed. */
export async function drain (stream: Stream, ms = 5000): Promise<{ bytes: number, closed: boolean }> {
  let bytes = 0
  const timer = setTimeout(() => stream.abort(new Error('drain timeout')), ms)
  try {
    for await (const chunk of stream) bytes += chunk.byteLength
    return { bytes, closed: true }
  } catch {
    return { bytes, closed: stream.status !== 'open' }
  } finally {
    clearTimeout(timer)
  }
}
