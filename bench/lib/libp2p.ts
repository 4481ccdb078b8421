/**
 * A libp2p node for benchmarks: TCP + Noise + Yamux on 127.0.0.1 only, a
 * fresh random identity, no other services — the same stack labmesh agents
 * use, with nothing extra to measure.
 *
 * The importing entry point must load `agent/polyfills.js` first (Node 20
 * lacks Promise.withResolvers, which libp2p 3 calls).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'

export interface BenchNodeOptions {
  /** listen on an ephemeral 127.0.0.1 port (the dialled side) */
  readonly listen: boolean
}

export async function createBenchNode (options: BenchNodeOptions): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: options.listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The default (5 inbound connections per second per host) resets quick
    // reconnects between processes that all live on 127.0.0.1.
    connectionManager: { inboundConnectionThreshold: 1_000 }
  })
  await node.start()
  return node
}
