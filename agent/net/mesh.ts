/**
 * The libp2p side of an agent: TCP + Noise + yamux, an optional private
 * network key, and a connection gater that admits only the peer IDs listed
 * in the config — inbound after the Noise handshake proved the remote's
 * identity, outbound before we even dial. Every refusal is logged.
 *
 * The mesh keeps a connection to every configured peer that has addresses,
 * redialling with exponential backoff (with jitter) when it goes away.
 */
import { sleep } from '../runtime/sleep.js'
import '../runtime/polyfills.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Connection, PeerId, PrivateKey, Stream, StreamHandler } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { DIAL_TIMEOUT_MS, MAX_INBOUND_STREAMS_PER_PEER, PROTOCOL_ID, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from '../../protocol/constants.js'
import { describeError } from '../../protocol/errors.js'
import { NotStartedError, PeerNotAllowedError } from '../errors.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'

export interface MeshPeer {
  readonly name: string
  readonly peerId: string
  readonly addrs: readonly string[]
}

export interface MeshOptions {
  readonly privateKey: PrivateKey
  readonly listen: readonly string[]
  readonly peers: readonly MeshPeer[]
  /** libp2p private-network key (the 95-byte swarm.key text) */
  readonly psk?: Uint8Array
  readonly log: Logger
  readonly onConnectionChange?: (peerName: string, connected: boolean, address: string | undefined) => void
  /** called for every refused connection (status, metrics) */
  readonly onRefused?: (peerId: string, direction: 'inbound' | 'outbound') => void
}

export interface Mesh {
  readonly peerId: string
  start (handler: (stream: Stream, connection: Connection, peer: MeshPeer) => void): Promise<void>
  stop (): Promise<void>
  listenAddrs (): string[]
  isConnected (peerId: string): boolean
  remoteAddress (peerId: string): string | undefined
  /** open a sync stream to a configured peer (dials when needed) */
  openStream (peerId: string, signal?: AbortSignal): Promise<Stream>
  /** drop every connection to a peer (tests, admin) */
  hangUp (peerId: string): Promise<void>
}

export function createMesh (options: MeshOptions): Mesh {
  const byId = new Map(options.peers.map((p) => [p.peerId, p]))
  const log = options.log
  let node: Libp2p | undefined
  let upkeep: AbortController | undefined
  const selfId = peerIdFromPrivateKey(options.privateKey).toString()

  const refuse = (peerId: PeerId, direction: 'inbound' | 'outbound'): boolean => {
    const id = peerId.toString()
    if (byId.has(id)) return false
    log.warn({ peerId: id, direction }, new PeerNotAllowedError(id).message)
    options.onRefused?.(id, direction)
    return true
  }

  const running = (): Libp2p => {
    if (node === undefined) throw new NotStartedError('mesh')
    return node
  }

  return {
    peerId: selfId,

    async start (handler) {
      if (node !== undefined) return
      node = await createLibp2p({
        privateKey: options.privateKey,
        addresses: { listen: [...options.listen] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        ...(options.psk !== undefined ? { connectionProtector: preSharedKey({ psk: options.psk }) } : {}),
        connectionGater: {
          // loopback and LAN addresses are exactly where labs run
          denyDialMultiaddr: () => false,
          denyDialPeer: (peerId) => refuse(peerId, 'outbound'),
          denyInboundEncryptedConnection: (peerId) => refuse(peerId, 'inbound'),
          denyOutboundEncryptedConnection: (peerId) => refuse(peerId, 'outbound')
        },
        connectionManager: {
          // many agents share 127.0.0.1 in tests and demos; quick reconnects must not be reset
          inboundConnectionThreshold: 1000,
          maxIncomingPendingConnections: 64,
          maxConnections: Math.max(64, options.peers.length * 4)
        }
      })
      node.addEventListener('peer:connect', (event) => {
        const peer = byId.get(event.detail.toString())
        if (peer === undefined) return
        const address = remoteAddressOf(node, peer.peerId)
        log.info({ peer: peer.name, peerId: shortPeerId(peer.peerId), address }, 'peer connected')
        options.onConnectionChange?.(peer.name, true, address)
      })
      node.addEventListener('peer:disconnect', (event) => {
        const peer = byId.get(event.detail.toString())
        if (peer === undefined) return
        log.info({ peer: peer.name, peerId: shortPeerId(peer.peerId) }, 'peer disconnected')
        options.onConnectionChange?.(peer.name, false, undefined)
      })
      await node.handle(PROTOCOL_ID, (stream, connection) => {
        const peer = byId.get(connection.remotePeer.toString())
        if (peer === undefined) {
          // unreachable while the gater works; refuse anyway rather than trust it blindly
          stream.abort(new PeerNotAllowedError(connection.remotePeer.toString()))
          return
        }
        handler(stream, connection, peer)
      }, { maxInboundStreams: MAX_INBOUND_STREAMS_PER_PEER, maxOutboundStreams: MAX_INBOUND_STREAMS_PER_PEER })
      for (const peer of options.peers) {
        if (peer.addrs.length === 0) continue
        await node.peerStore.merge(peerIdFromString(peer.peerId), { multiaddrs: peer.addrs.map((a) => multiaddr(a)) })
      }
      upkeep = new AbortController()
      for (const peer of options.peers) {
        if (peer.addrs.length > 0) void keepConnected(node, peer, upkeep.signal, log)
      }
      log.info({ peerId: selfId, listen: this.listenAddrs() }, 'mesh listening')
    },

    async stop () {
      upkeep?.abort()
      upkeep = undefined
      const n = node
      node = undefined
      if (n === undefined) return
      try {
        await n.unhandle(PROTOCOL_ID)
      } catch (err) {
        log.warn({ err: describeError(err) }, 'unhandle failed during stop')
      }
      await n.stop()
    },

    listenAddrs () {
      if (node === undefined) return []
      return node.getMultiaddrs().map((ma) => ma.toString())
    },

    isConnected (peerId) {
      if (node === undefined) return false
      return node.getConnections(peerIdFromString(peerId)).some((c) => c.status === 'open')
    },

    remoteAddress (peerId) {
      return remoteAddressOf(node, peerId)
    },

    async openStream (peerId, signal) {
      const n = running()
      const timeout = AbortSignal.timeout(DIAL_TIMEOUT_MS)
      return await n.dialProtocol(peerIdFromString(peerId), PROTOCOL_ID, {
        signal: signal !== undefined ? AbortSignal.any([signal, timeout]) : timeout
      })
    },

    async hangUp (peerId) {
      await running().hangUp(peerIdFromString(peerId))
    }
  }
}

function remoteAddressOf (node: Libp2p | undefined, peerId: string): string | undefined {
  if (node === undefined) return undefined
  const conn = node.getConnections(peerIdFromString(peerId)).find((c) => c.status === 'open')
  return conn?.remoteAddr.toString()
}

/**
 * Keep a connection to `peer`: dial when there is none, back off
 * exponentially (with jitter) after failures, and reset the backoff once a
 * connection stands.
 */
async function keepConnected (node: Libp2p, peer: MeshPeer, signal: AbortSignal, log: Logger): Promise<void> {
  const id = peerIdFromString(peer.peerId)
  let delay = RECONNECT_MIN_MS
  while (!signal.aborted) {
    if (node.getConnections(id).some((c) => c.status === 'open')) {
      delay = RECONNECT_MIN_MS
      await waitForDisconnect(node, peer.peerId, signal)
      continue
    }
    try {
      await node.dial(id, { signal: AbortSignal.any([signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)]) })
      delay = RECONNECT_MIN_MS
    } catch (err) {
      if (signal.aborted) return
      log.debug({ peer: peer.name, err: describeError(err), retryInMs: delay }, 'dial failed')
      await sleep(delay * (0.75 + Math.random() * 0.5), signal)
      delay = Math.min(RECONNECT_MAX_MS, delay * 2)
    }
  }
}

async function waitForDisconnect (node: Libp2p, peerId: string, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const onDisconnect = (event: CustomEvent<PeerId>): void => {
      if (event.detail.toString() !== peerId) return
      cleanup()
      resolve()
    }
    const onAbort = (): void => { cleanup(); resolve() }
    const cleanup = (): void => {
      node.removeEventListener('peer:disconnect', onDisconnect)
      signal.removeEventListener('abort', onAbort)
    }
    node.addEventListener('peer:disconnect', onDisconnect)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
