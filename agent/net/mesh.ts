/**
 * The libp2p side of an agent: TCP + Noise + yamux, an optional private
 * network key, and a connection gater that admits only the peer IDs listed
 * in the config — inbound after the Noise handshake proved the remote's
 * identity, outbound before we even dial. Every refusal is logged.
 *
 * The mesh keeps a connection to every configured peer that has addresses,
 * redialling with exponential backoff (with jitter) when it goes away
 * (redial.ts). A stream of the sync protocol (or of the verify protocol,
 * when a handler for it is given) is handed on only from a configured peer,
 * with that peer's config entry.
 */
import '../runtime/polyfills.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Connection, PeerId, PrivateKey, Stream, StreamHandler } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import { DIAL_TIMEOUT_MS, MAX_INBOUND_STREAMS_PER_PEER, PROTOCOL_ID } from '../../protocol/constants.js'
import { MAX_VERIFY_STREAMS_PER_PEER, VERIFY_PROTOCOL_ID } from '../../protocol/verify-constants.js'
import { describeError } from '../../protocol/errors.js'
import { NotStartedError, PeerNotAllowedError } from '../errors.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'
import { keepConnected } from './redial.js'

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

export type MeshStreamHandler = (stream: Stream, connection: Connection, peer: MeshPeer) => void

export interface Mesh {
  readonly peerId: string
  /** `handler` takes sync streams; `verifyHandler` (if any) verify streams */
  start (handler: MeshStreamHandler, verifyHandler?: MeshStreamHandler): Promise<void>
  stop (): Promise<void>
  listenAddrs (): string[]
  isConnected (peerId: string): boolean
  remoteAddress (peerId: string): string | undefined
  /** open a stream to a configured peer (dials when needed): the sync protocol's, or `protocol` */
  openStream (peerId: string, signal?: AbortSignal, protocol?: string): Promise<Stream>
  /** drop every connection to a peer (tests, admin) */
  hangUp (peerId: string): Promise<void>
}

export function createMesh (options: MeshOptions): Mesh {
  const byId = new Map(options.peers.map((p) => [p.peerId, p]))
  const log = options.log
  let node: Libp2p | undefined
  let upkeep: AbortController | undefined
  const selfId = peerIdFromPrivateKey(options.privateKey).toString()

  const running = (): Libp2p => {
    if (node === undefined) throw new NotStartedError('mesh')
    return node
  }

  /** the address of an open connection to the peer, on the node running now */
  const addressOf = (peerId: string): string | undefined => remoteAddressOf(node, peerId)

  return {
    peerId: selfId,

    async start (handler, verifyHandler) {
      if (node !== undefined) return
      node = await createLibp2p(nodeOptions(options, refuser(byId, options)))
      reportConnections(node, byId, options, addressOf)
      await node.handle(PROTOCOL_ID, syncStreams(byId, handler), { maxInboundStreams: MAX_INBOUND_STREAMS_PER_PEER, maxOutboundStreams: MAX_INBOUND_STREAMS_PER_PEER })
      if (verifyHandler !== undefined) {
        await node.handle(VERIFY_PROTOCOL_ID, syncStreams(byId, verifyHandler), { maxInboundStreams: MAX_VERIFY_STREAMS_PER_PEER, maxOutboundStreams: MAX_VERIFY_STREAMS_PER_PEER })
      }
      await rememberAddresses(node, options.peers)
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
        await n.unhandle([PROTOCOL_ID, VERIFY_PROTOCOL_ID])
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
      return addressOf(peerId)
    },

    async openStream (peerId, signal, protocol = PROTOCOL_ID) {
      const n = running()
      const timeout = AbortSignal.timeout(DIAL_TIMEOUT_MS)
      return await n.dialProtocol(peerIdFromString(peerId), protocol, {
        signal: signal !== undefined ? AbortSignal.any([signal, timeout]) : timeout
      })
    },

    async hangUp (peerId) {
      await running().hangUp(peerIdFromString(peerId))
    }
  }
}

/** The gater's verdict on a peer: true (refused, logged and reported) unless it is configured. */
function refuser (byId: ReadonlyMap<string, MeshPeer>, options: MeshOptions): (peerId: PeerId, direction: 'inbound' | 'outbound') => boolean {
  return (peerId, direction) => {
    const id = peerId.toString()
    if (byId.has(id)) return false
    options.log.warn({ peerId: id, direction }, new PeerNotAllowedError(id).message)
    options.onRefused?.(id, direction)
    return true
  }
}

/** The libp2p node: TCP + Noise + yamux, the optional network key, and the gater (`refuse`). */
function nodeOptions (options: MeshOptions, refuse: (peerId: PeerId, direction: 'inbound' | 'outbound') => boolean): Libp2pOptions {
  return {
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
  }
}

/** Hand each stream on with its peer's config entry: only from a configured peer. */
function syncStreams (byId: ReadonlyMap<string, MeshPeer>, handler: MeshStreamHandler): StreamHandler {
  return (stream, connection) => {
    const peer = byId.get(connection.remotePeer.toString())
    if (peer === undefined) {
      // unreachable while the gater works; refuse anyway rather than trust it blindly
      stream.abort(new PeerNotAllowedError(connection.remotePeer.toString()))
      return
    }
    handler(stream, connection, peer)
  }
}

/** The configured addresses of each peer, in the node's address book (dials find them there). */
async function rememberAddresses (node: Libp2p, peers: readonly MeshPeer[]): Promise<void> {
  for (const peer of peers) {
    if (peer.addrs.length === 0) continue
    await node.peerStore.merge(peerIdFromString(peer.peerId), { multiaddrs: peer.addrs.map((a) => multiaddr(a)) })
  }
}

/** Log configured peers coming and going, and tell onConnectionChange. */
function reportConnections (node: Libp2p, byId: ReadonlyMap<string, MeshPeer>, options: MeshOptions, addressOf: (peerId: string) => string | undefined): void {
  const log = options.log
  node.addEventListener('peer:connect', (event) => {
    const peer = byId.get(event.detail.toString())
    if (peer === undefined) return
    const address = addressOf(peer.peerId)
    log.info({ peer: peer.name, peerId: shortPeerId(peer.peerId), address }, 'peer connected')
    options.onConnectionChange?.(peer.name, true, address)
  })
  node.addEventListener('peer:disconnect', (event) => {
    const peer = byId.get(event.detail.toString())
    if (peer === undefined) return
    log.info({ peer: peer.name, peerId: shortPeerId(peer.peerId) }, 'peer disconnected')
    options.onConnectionChange?.(peer.name, false, undefined)
  })
}

function remoteAddressOf (node: Libp2p | undefined, peerId: string): string | undefined {
  if (node === undefined) return undefined
  const conn = node.getConnections(peerIdFromString(peerId)).find((c) => c.status === 'open')
  return conn?.remoteAddr.toString()
}
