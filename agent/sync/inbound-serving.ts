/**
 * Serving the peers that pull from us: one serve session per inbound stream,
 * under the peer's serve rules, keeping its runtime current (open sessions,
 * served and skipped counts, its position in our feed, last contact, last
 * error). An object too large for any frame is logged once per agent run,
 * whichever peers it is skipped for. The sessions still running are kept for
 * the replicator's stop to wait on; its signal is what ends them.
 */
import type { Stream } from '@libp2p/interface'
import { MAX_OBJECT_BYTES } from '../../protocol/constants.js'
import { describeError } from '../../protocol/errors.js'
import type { MeshPeer } from '../net/mesh.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'
import { serveExclusion, serveRulesHash } from '../rules/serve.js'
import { acceptedCodecs } from './compression-policy.js'
import type { PeerRuntime } from './peer-runtime.js'
import { learnBinding, peerChanged, type ReplicatorDeps } from './replicator-deps.js'
import { serveSession, type ServeSessionDeps, type SessionEnd, type SkippedObject } from './serve-session.js'
import { SharedFeedReads, type FeedReader } from './shared-feed-reads.js'

export interface InboundServing {
  /** serve this stream from `peer` until it ends or `signal` aborts */
  serve (rt: PeerRuntime, stream: Stream, peer: MeshPeer, signal: AbortSignal): void
  /** the serve sessions still running */
  readonly running: ReadonlySet<Promise<unknown>>
}

export function createInboundServing (deps: ReplicatorDeps): InboundServing {
  /** uids of objects too large to serve that were logged already (once per agent run) */
  const oversizeWarned = new Set<string>()
  const running = new Set<Promise<unknown>>()
  // peers caught up with us all ask for the same page after a commit: read it once
  const feedReads = new SharedFeedReads(deps.store)

  const warnOversize = (skip: SkippedObject): void => {
    if (oversizeWarned.has(skip.uid)) return
    oversizeWarned.add(skip.uid)
    deps.log.warn({ uid: skip.uid, bytes: skip.bytes, code: skip.reason }, `object ${skip.uid} takes ${skip.bytes} bytes as JSON, over the ${MAX_OBJECT_BYTES}-byte limit for one object (it was stored before that limit was enforced): no frame can carry it, so it is not served to any peer (counted per peer as "skipped"); make it smaller with a local edit`)
  }

  return {
    running,

    serve (rt, stream, peer, signal) {
      const peerLog = deps.log.child({ peer: peer.name, peerId: shortPeerId(peer.peerId), side: 'serve' })
      peerLog.info('serve session started')
      rt.serving++
      const done = serveSession(stream, serveDeps(deps, rt, peer, peerLog, warnOversize, feedReads.read), signal)
        .catch((err: unknown): SessionEnd => ({ reason: 'error', error: err as Error })).then((end) => {
          rt.serving--
          if (end.reason === 'error') rt.lastError = describeError(end.error)
          // a session whose stream or connection went away underneath ends here without a warn (nothing was wrong
          // with a message, and there was no stream left to send an error frame on): the error says what happened
          peerLog.info({ reason: end.reason, served: rt.served, ...(end.reason === 'error' ? { err: describeError(end.error) } : {}) }, 'serve session ended')
          peerChanged(deps, peer.name)
        })
      running.add(done)
      rt.track(done)
      void done.finally(() => running.delete(done))
    }
  }
}

function serveDeps (deps: ReplicatorDeps, rt: PeerRuntime, peer: MeshPeer, peerLog: Logger, warnOversize: (skip: SkippedObject) => void, readFeed: FeedReader): ServeSessionDeps {
  const rules = rt.serveRules
  return {
    store: deps.store,
    domain: deps.config.domain,
    peerName: peer.name,
    peerId: peer.peerId,
    batchSize: deps.config.sync.batchSize,
    mayServe: (object) => serveExclusion(rules, object) === undefined,
    servesHash: serveRulesHash(rules),
    log: peerLog,
    onActivity: () => { rt.lastContact = deps.now() },
    onServed: (n) => { rt.served += n; deps.events?.onServed?.(peer.name, n) },
    onSkipped: (skip) => {
      rt.skipped++
      warnOversize(skip)
    },
    onPosition: (position, pending) => {
      if (rt.positionAt(position, pending, deps.store.info().head)) peerChanged(deps, peer.name)
    },
    onHello: (hello) => learnBinding(deps, rt, hello.domain),
    codecs: acceptedCodecs(deps.config.sync.compression),
    readFeed,
    push: deps.push !== false,
    onPushed: () => { rt.pushedOut++ }
  }
}
