/**
 * The libp2p side of an agent: TCP + Noise + yamux, an optional private
 * network key, and a connection gater that admits only the peer IDs listed
 * in the config — inbound after the Noise handshake proved the remote's
 * identity, outbound before we even dial. Every refusal is logged. The one
 * exception is the guest door (guests.ts): while an invitation is open, a
 * peer not in the config may connect, and open the invite protocol only.
 *
 * The mesh keeps a connection to every configured peer that has addresses,
 * redialling with exponential backoff (with jitter) when it goes away
 * (redial.ts). A stream of the sync protocol — or of the blob protocol,
 * which moves attachments on streams of their own, or of the verify
 * protocol — is handed on only from a configured peer, with that peer's
 * config entry. The list of peers can be
 * replaced while the mesh runs (setPeers, a config reload): a removed peer
 * is hung up on and refused from then on, a new one is dialled.
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
import { BLOB_PROTOCOL_ID, MAX_BLOB_STREAMS_PER_PEER } from '../../protocol/blob-constants.js'
import { DIAL_TIMEOUT_MS, MAX_INBOUND_STREAMS_PER_PEER } from '../../protocol/constants.js'
import { protocolIdOf, SYNC_VERSIONS, type SyncVersion } from '../../protocol/versions.js'
import { describeError } from '../../protocol/errors.js'
import { MAX_VERIFY_STREAMS_PER_PEER, VERIFY_PROTOCOL_ID } from '../../protocol/verify-constants.js'
import { NotStartedError, PeerNotAllowedError } from '../errors.js'
import { withDeadline } from '../runtime/deadline.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'
import { GuestDoor, type GuestPolicy } from './guests.js'
import { Upkeeps } from './redial.js'

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
  /** who may come in for the invite protocol without being a peer; none: no one */
  readonly guests?: GuestPolicy
  /** sync protocol versions offered and handled, preferred first (default: all, 2 first) */
  readonly syncVersions?: readonly SyncVersion[]
}

/** Handlers of the streams the mesh accepts. */
export interface MeshHandlers {
  /** a sync stream from a configured peer */
  readonly sync: (stream: Stream, connection: Connection, peer: MeshPeer) => void
  /** a verify stream from a configured peer (none: the protocol is not offered) */
  readonly verify?: (stream: Stream, connection: Connection, peer: MeshPeer) => void
  /** a blob-protocol stream from a configured peer (none: the protocol is not offered) */
  readonly blob?: (stream: Stream, connection: Connection, peer: MeshPeer) => void
  /** a stream of the guest protocol (GuestPolicy.protocol), from a peer in the config or not */
  readonly guest?: (stream: Stream, connection: Connection) => void
}

/** What the mesh hands an inbound stream to. */
export type MeshStreamHandler = (stream: Stream, connection: Connection, peer: MeshPeer) => void

export interface Mesh {
  readonly peerId: string
  start (handlers: MeshHandlers): Promise<void>
  stop (): Promise<void>
  /** replace the configured peers: removed ones are hung up on and refused, new ones dialled */
  setPeers (peers: readonly MeshPeer[]): Promise<void>
  /** open a stream of the guest protocol to a peer not (yet) in the config, at `addrs` */
  openGuestStream (peerId: string, addrs: readonly string[], signal?: AbortSignal): Promise<Stream>
  listenAddrs (): string[]
  isConnected (peerId: string): boolean
  remoteAddress (peerId: string): string | undefined
  /** open a stream of `protocol` (default: the sync protocol) to a configured peer (dials when needed) */
  openStream (peerId: string, signal?: AbortSignal, protocol?: string): Promise<Stream>
  /** drop every connection to a peer (tests, admin) */
  hangUp (peerId: string): Promise<void>
}

export function createMesh (options: MeshOptions): Mesh {
  const byId = new Map(options.peers.map((p) => [p.peerId, p]))
  const log = options.log
  let node: Libp2p | undefined
  const upkeeps = new Upkeeps(log)
  let unwatchGuests: (() => void) | undefined
  const selfId = peerIdFromPrivateKey(options.privateKey).toString()
  const door = options.guests !== undefined ? new GuestDoor(options.guests, (id) => byId.has(id), log) : undefined
  const syncProtocols = (options.syncVersions ?? SYNC_VERSIONS).map(protocolIdOf)

  const running = (): Libp2p => {
    if (node === undefined) throw new NotStartedError('mesh')
    return node
  }

  /** the address of an open connection to the peer, on the node running now */
  const addressOf = (peerId: string): string | undefined => remoteAddressOf(node, peerId)

  return {
    peerId: selfId,

    async start (handlers) {
      if (node !== undefined) return
      node = await createLibp2p(nodeOptions(options, refuser(byId, options, door)))
      reportConnections(node, byId, options, addressOf)
      unwatchGuests = await handleProtocols(node, byId, handlers, door, syncProtocols)
      await rememberAddresses(node, options.peers)
      for (const peer of byId.values()) upkeeps.start(node, peer)
      log.info({ peerId: selfId, listen: this.listenAddrs() }, 'mesh listening')
    },

    async stop () {
      upkeeps.stopAll()
      unwatchGuests?.()
      unwatchGuests = undefined
      const n = node
      node = undefined
      if (n !== undefined) await stopNode(n, door, log, syncProtocols)
    },

    async setPeers (peers) {
      const previous = new Map(byId)
      // the table first: from here on the gater refuses removed peers and admits new ones
      byId.clear()
      for (const peer of peers) byId.set(peer.peerId, peer)
      if (node !== undefined) await applyPeerChanges(node, previous, byId, upkeeps, log)
    },

    async openGuestStream (peerId, addrs, signal) {
      const n = running()
      if (door === undefined) throw new NotStartedError('guest door')
      const id = peerIdFromString(peerId)
      return await door.joining(peerId, async () => {
        await n.peerStore.merge(id, { multiaddrs: addrs.map((a) => multiaddr(a)) })
        return await withDeadline(DIAL_TIMEOUT_MS, 'opening an invite stream', signal, async (bounded) => await n.dialProtocol(id, door.protocol, { signal: bounded }))
      })
    },

    listenAddrs () {
      if (node === undefined) return []
      return node.getMultiaddrs().map((ma) => ma.toString())
    },

    isConnected (peerId) {
      if (node === undefined) return false
      return node.getConnections(peerIdFromString(peerId)).some((c) => c.status === 'open')
    },

    remoteAddress: addressOf,

    async openStream (peerId, signal, protocol) {
      const n = running()
      // sync: multistream-select takes the first of these the peer handles; the stream's `protocol` says which.
      // Bounded: given a signal, libp2p applies no negotiation timeout of its own.
      return await withDeadline(DIAL_TIMEOUT_MS, `opening a stream to ${shortPeerId(peerId)}`, signal,
        async (bounded) => await n.dialProtocol(peerIdFromString(peerId), protocol ?? syncProtocols, { signal: bounded }))
    },

    async hangUp (peerId) {
      await running().hangUp(peerIdFromString(peerId))
    }
  }
}

async function stopNode (node: Libp2p, door: GuestDoor | undefined, log: Logger, syncProtocols: readonly string[]): Promise<void> {
  try {
    await node.unhandle([...syncProtocols, BLOB_PROTOCOL_ID, VERIFY_PROTOCOL_ID])
    if (door !== undefined) await node.unhandle(door.protocol)
  } catch (err) {
    log.warn({ err: describeError(err) }, 'unhandle failed during stop')
  }
  await node.stop()
}

/** After the peer table changed: hang up on removed peers; new and moved ones get their addresses and a fresh upkeep. */
async function applyPeerChanges (node: Libp2p, previous: ReadonlyMap<string, MeshPeer>, now: ReadonlyMap<string, MeshPeer>, upkeeps: Upkeeps, log: Logger): Promise<void> {
  for (const [id, old] of previous) {
    if (now.has(id)) continue
    upkeeps.stop(id)
    log.info({ peer: old.name, peerId: shortPeerId(id) }, 'peer removed from the config: hanging up')
    await node.hangUp(peerIdFromString(id)).catch((err: unknown) => log.warn({ peer: old.name, err: describeError(err) }, 'could not hang up on a removed peer'))
  }
  for (const peer of now.values()) {
    const old = previous.get(peer.peerId)
    if (old !== undefined && sameAddrs(old.addrs, peer.addrs)) continue
    if (peer.addrs.length > 0) await node.peerStore.patch(peerIdFromString(peer.peerId), { multiaddrs: peer.addrs.map((a) => multiaddr(a)) })
    upkeeps.start(node, peer)
  }
}

/** The sync (every version spoken), blob and verify protocols for configured peers; the guest protocol, when there is a door, for anyone it lets in. Returns the door's clean-up. */
async function handleProtocols (node: Libp2p, byId: ReadonlyMap<string, MeshPeer>, handlers: MeshHandlers, door: GuestDoor | undefined, syncProtocols: readonly string[]): Promise<(() => void) | undefined> {
  await node.handle([...syncProtocols], syncStreams(byId, handlers.sync), { maxInboundStreams: MAX_INBOUND_STREAMS_PER_PEER, maxOutboundStreams: MAX_INBOUND_STREAMS_PER_PEER })
  if (handlers.verify !== undefined) {
    await node.handle(VERIFY_PROTOCOL_ID, syncStreams(byId, handlers.verify), { maxInboundStreams: MAX_VERIFY_STREAMS_PER_PEER, maxOutboundStreams: MAX_VERIFY_STREAMS_PER_PEER })
  }
  if (handlers.blob !== undefined) await node.handle(BLOB_PROTOCOL_ID, syncStreams(byId, handlers.blob), { maxInboundStreams: MAX_BLOB_STREAMS_PER_PEER, maxOutboundStreams: MAX_BLOB_STREAMS_PER_PEER })
  if (door === undefined || handlers.guest === undefined) return undefined
  // two: a joiner retrying at once should not find its first, closing stream still counted
  await node.handle(door.protocol, handlers.guest, { maxInboundStreams: 2, maxOutboundStreams: 2 })
  return door.watch(node)
}

function sameAddrs (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** The gater's verdict on a peer: true (refused, logged and reported) unless it is configured, or a guest the door lets in. */
function refuser (byId: ReadonlyMap<string, MeshPeer>, options: MeshOptions, door: GuestDoor | undefined): (peerId: PeerId, direction: 'inbound' | 'outbound') => boolean {
  return (peerId, direction) => {
    const id = peerId.toString()
    if (byId.has(id)) return false
    if (door !== undefined && (direction === 'inbound' ? door.admitsInbound(peerId) : door.allowsOutbound(peerId))) return false
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
