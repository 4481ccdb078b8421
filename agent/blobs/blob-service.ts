/**
 * Blobs as one part of the agent: the fetcher (what our objects miss, from
 * the peers that sent them), serving (what peers fetch from us, under their
 * serve rules), garbage collection, and the per-peer counts the status
 * shows. Between start() and stop() one AbortController's signal runs every
 * transfer; stop() aborts it and waits for all of them.
 *
 * Serve rule: a peer gets a blob only if it may see an object that
 * references it — an object of the reference index (store `b` rows) that its
 * serve rules let through.
 */
import type { Connection, Stream } from '@libp2p/interface'
import type { LoadedConfig } from '../../config/load.js'
import type { PeerConfig } from '../../config/schema.js'
import { BLOB_PROTOCOL_ID } from '../../protocol/blob-constants.js'
import { describeError } from '../../protocol/errors.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'
import type { Store } from '../../store/types.js'
import type { BlobAccess } from '../apply/blob-access.js'
import { NotFoundError } from '../errors.js'
import type { Mesh, MeshPeer } from '../net/mesh.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'
import { compileServeRules, serveExclusion } from '../rules/serve.js'
import type { ServeRules } from '../rules/types.js'
import { createBlobFetcher, type BlobFetchCounters } from './blob-fetcher.js'
import { createBlobGc, type BlobGcResult } from './blob-gc.js'
import { serveBlobStream } from './blob-serve.js'
import type { BlobPeerStatus, BlobTransferStatus } from './blob-status.js'

/** referrers read at a time when deciding whether a peer may have a blob */
const REFERRER_PAGE = 200

export interface BlobServiceDeps {
  readonly config: LoadedConfig
  /** the configured peers now (a config reload changes them; default: config.peers) */
  readonly peers?: () => readonly PeerConfig[]
  readonly store: Store
  readonly blobs: BlobStore
  readonly mesh: Mesh
  readonly log: Logger
  readonly now: () => number
  readonly onTransfer?: (peer: string, transfer: BlobTransferStatus, state: 'progress' | 'done' | 'failed') => void
}

export interface BlobService {
  /** for the apply path, local writes and the failed queue */
  readonly access: BlobAccess
  /** serve a blob stream a configured peer opened */
  handleInbound (stream: Stream, connection: Connection, peer: MeshPeer): void
  start (): Promise<void>
  stop (): Promise<void>
  peerStatus (name: string): BlobPeerStatus
  /** one garbage collection now */
  collect (): Promise<BlobGcResult>
}

interface PeerCounters extends BlobFetchCounters { bytesServed: number, served: number }

export function createBlobService (deps: BlobServiceDeps): BlobService {
  const { config, store, blobs, mesh, log } = deps
  const peers = deps.peers ?? (() => config.peers)
  const serveRulesOf = serveRulesLookup(peers)
  const counters = new Map<string, PeerCounters>()
  const countersOf = (name: string): PeerCounters => {
    let c = counters.get(name)
    if (c === undefined) counters.set(name, c = { fetched: 0, bytesFetched: 0, refused: 0, bytesServed: 0, served: 0 })
    return c
  }
  const peerIdOf = (name: string): string => {
    const peer = peers().find((p) => p.name === name)
    if (peer === undefined) throw new NotFoundError(`no peer named "${name}" in this agent's config`)
    return peer.peerId
  }
  const fetcher = createBlobFetcher({
    blobs,
    open: async (name, signal) => await mesh.openStream(peerIdOf(name), signal, BLOB_PROTOCOL_ID),
    peers: () => peers().map((p) => p.name),
    counters: countersOf,
    log: log.child({ side: 'fetch' }),
    now: deps.now,
    ...(deps.onTransfer !== undefined ? { onTransfer: deps.onTransfer } : {})
  })
  const gc = createBlobGc({
    store,
    blobs,
    graceMs: config.blobs.gcGrace,
    intervalMs: config.blobs.gcInterval,
    busy: (hash) => peers().some((p) => fetcher.transfers(p.name).some((t) => t.hash === hash)),
    log: log.child({ component: 'blob-gc' }),
    now: deps.now
  })
  const running = new Set<Promise<void>>()
  let controller: AbortController | undefined

  return {
    access: fetcher,

    handleInbound (stream, _connection, peer) {
      const signal = controller?.signal
      if (signal === undefined) {
        stream.abort(new Error('agent is not running'))
        return
      }
      const c = countersOf(peer.name)
      const done = serveBlobStream(stream, {
        blobs,
        mayHave: async (hash) => await peerMayHave(store, serveRulesOf(peer.name), hash),
        log: log.child({ peer: peer.name, peerId: shortPeerId(peer.peerId), side: 'serve' }),
        onServed: (bytes) => { c.bytesServed += bytes },
        onCompleted: () => { c.served++ }
      }, signal).catch((err: unknown) => { log.warn({ peer: peer.name, err: describeError(err) }, 'blob stream failed') })
      running.add(done)
      void done.finally(() => running.delete(done))
    },

    async start () {
      if (controller !== undefined) return
      controller = new AbortController()
      await fetcher.start()
      gc.start()
    },

    async stop () {
      controller?.abort()
      controller = undefined
      await gc.stop()
      await fetcher.stop()
      await Promise.allSettled([...running])
    },

    peerStatus (name) {
      const c = countersOf(name)
      return { transfers: fetcher.transfers(name), fetched: c.fetched, bytesFetched: c.bytesFetched, refused: c.refused, bytesServed: c.bytesServed, served: c.served }
    },

    collect: async () => await gc.collect()
  }
}

/** The serve rules of a configured peer by name, compiled once per peer entry (a reload brings new entries, and with them new rules). */
function serveRulesLookup (peers: () => readonly PeerConfig[]): (name: string) => ServeRules | undefined {
  const compiled = new WeakMap<PeerConfig, ServeRules>()
  return (name) => {
    const peer = peers().find((p) => p.name === name)
    if (peer === undefined) return undefined
    let rules = compiled.get(peer)
    if (rules === undefined) compiled.set(peer, rules = compileServeRules(peer))
    return rules
  }
}

/** Whether a peer with these serve rules may see some object that references `hash` (the reference index, a page at a time). */
export async function peerMayHave (store: Store, serve: ServeRules | undefined, hash: string): Promise<boolean> {
  if (serve === undefined) return false
  let after: string | undefined
  while (true) {
    const uids = await store.blobReferrers(hash, { limit: REFERRER_PAGE, ...(after !== undefined ? { after } : {}) })
    const objects = await store.getObjects(uids)
    if (objects.some((o) => o !== undefined && serveExclusion(serve, o) === undefined)) return true
    if (uids.length < REFERRER_PAGE) return false
    after = uids[uids.length - 1]
  }
}
