/**
 * The status view of one peer: what the admin API, the CLI and the status
 * page show, read from its PeerRuntime, the mesh and the store. It writes
 * nothing; lags are computed when asked.
 */
import type { Store } from '../../store/types.js'
import type { Mesh } from '../net/mesh.js'
import type { PeerRuntime } from './peer-runtime.js'
import type { ProgressSnapshot } from './progress.js'
import type { SessionTerms } from './pull-session.js'

/**
 * What the admin API shows for one peer. Lags count objects: a feed entry is
 * the latest version of one object, so "entries after a position" is "objects
 * changed since it".
 */
export interface PeerStatus {
  readonly name: string
  readonly peerId: string
  /** we import from this peer (it is one of our remotes) */
  readonly pull: boolean
  /** a libp2p connection to the peer is open */
  readonly connected: boolean
  /** its address on the open connection, or the last one seen */
  readonly address: string | undefined
  /** ms since the epoch of the last message or connection from it */
  readonly lastContact: number | undefined
  /** the last session or connection error; cleared when a pull session starts */
  readonly lastError: string | undefined
  /** objects received from this peer into our store (all time, from the checkpoint) */
  readonly pulled: number
  /** objects we sent this peer since this agent started */
  readonly served: number
  /**
   * objects not sent to this peer since this agent started because no frame
   * can carry them (records over MAX_OBJECT_BYTES, stored before that limit);
   * each is logged once as a warning
   */
  readonly skipped: number
  /**
   * versions this peer relayed to us whose signature did not verify, since
   * this agent started: each parked as BAD_SIGNATURE (the failed queue names
   * the peer) and logged as a warning; our previous version was kept
   */
  readonly badSignatures: number
  /** versions from this peer accepted without a signature (older stores or agents), since this agent started */
  readonly unsigned: number
  /** batches this peer pushed to us that we applied (protocol 2 push: no notify and pull), since this agent started */
  readonly pushedIn: number
  /** batches we pushed to this peer, since this agent started */
  readonly pushedOut: number
  /** the remote's feed head as last heard (hello, notify, batch); the checkpoint's seq before the first hello */
  readonly remoteHead: number
  /** last seq of the remote's feed applied here */
  readonly appliedSeq: number
  /**
   * Objects this remote has that we have not applied (0 for peers we do not
   * pull from): the remote's exact count at the last batch boundary, plus the
   * feed positions it announced since as an upper bound (= progress.remaining).
   */
  readonly lagIn: number
  /**
   * Objects of our feed after this peer's position (it has not pulled them):
   * exact while it has a session open (kept current as we commit); once it
   * disconnects, the last count plus our feed growth since, an upper bound.
   * Counts what its serve rules may exclude. 0 until it has pulled from us.
   */
  readonly lagOut: number
  /** lagIn for a remote we pull from, lagOut for a peer that only pulls from us */
  readonly lag: number
  /** open conflicts (objects) whose concurrent sibling arrived in a batch from this peer */
  readonly conflicts: number
  /** objects in the failed queue whose version came from this peer */
  readonly failed: number
  readonly progress: ProgressSnapshot
  /** a pull session with this remote is open */
  readonly sessionOpen: boolean
  /** the open pull session's protocol version, frame codec and push, once its hellos are exchanged */
  readonly session?: SessionTerms | undefined
  /** serve sessions this peer has open with us (it pulls from us) */
  readonly serving: number
}

/** `conflictsByPeer`, `failedByPeer`: the store's counts, read once for all peers of one status call. */
export function peerStatusOf (rt: PeerRuntime, store: Store, mesh: Mesh, conflictsByPeer: Map<string, number>, failedByPeer: Map<string, number>): PeerStatus {
  const head = store.info().head
  const progress = rt.progress.snapshot()
  const lagIn = rt.config.pull ? progress.remaining : 0
  const out = rt.out
  // while it has a session open the count is kept current; after, our feed may have grown since
  const lagOut = out === undefined ? 0 : rt.serving > 0 ? out.pending : out.pending + Math.max(0, head - out.head)
  return {
    name: rt.config.name,
    peerId: rt.config.peerId,
    pull: rt.config.pull,
    connected: mesh.isConnected(rt.config.peerId),
    address: mesh.remoteAddress(rt.config.peerId) ?? rt.address,
    lastContact: rt.lastContact,
    lastError: rt.lastError,
    pulled: rt.pulled,
    served: rt.served,
    skipped: rt.skipped,
    badSignatures: rt.badSignatures,
    unsigned: rt.unsigned,
    pushedIn: rt.pushedIn,
    pushedOut: rt.pushedOut,
    remoteHead: progress.remoteHead ?? progress.appliedSeq,
    appliedSeq: progress.appliedSeq,
    lagIn,
    lagOut,
    lag: rt.config.pull ? lagIn : lagOut,
    conflicts: conflictsByPeer.get(rt.config.name) ?? 0,
    failed: failedByPeer.get(rt.config.name) ?? 0,
    progress,
    sessionOpen: rt.session !== undefined,
    session: rt.session?.negotiated,
    serving: rt.serving
  }
}
