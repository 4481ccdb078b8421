/**
 * The sync protocol's identity, limits and timeouts: one place, so that a
 * reviewer sees every bound a peer can push against.
 */

/** libp2p protocol ID; bump the major part on any incompatible change. */
export const PROTOCOL_ID = '/labmesh/sync/1.0.0'
/** carried in every message as `v` */
export const PROTOCOL_VERSION = 1
/**
 * Version 2 (bulk-frame.ts): the same messages with `v: 2`, except that a
 * batch travels as a bulk frame carrying each object's envelope and `data` as
 * separate JSON texts, so that the receiver can store the data text it
 * received. Agents offer both, 2 first (protocol/versions.ts).
 */
export const PROTOCOL_ID_V2 = '/labmesh/sync/2.0.0'
export const PROTOCOL_VERSION_2 = 2

/** hard cap on one length-prefixed frame; a larger frame closes the stream */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024
/** bytes buffered while decoding frames before the stream is considered hostile */
export const MAX_DECODE_BUFFER_BYTES = MAX_FRAME_BYTES + 64 * 1024
/**
 * Largest stored record — an object's current version, its conflict siblings
 * and its store-local fields, as JSON bytes — enforced by the store's
 * putObject. Its wire JSON (the record without the store-local fields) is no
 * larger, so it always travels alone in one batch or objects frame: the
 * frame's envelope (type, ids, sequences: under 200 bytes) fits in the
 * 64 KiB margin. One object cannot reach the frame limit; conflict siblings
 * cannot either: 1 + MAX_CONFLICT_SIBLINGS versions of MAX_LOCAL_OBJECT_BYTES
 * would be ~33 × 7.9 MiB, so a pulled version that would make the holding
 * larger than this is parked (OBJECT_TOO_LARGE) instead of stored.
 */
export const MAX_OBJECT_BYTES = MAX_FRAME_BYTES - 64 * 1024
/**
 * Largest object a local write may make (document API, connectors, conflict
 * resolutions): its wire JSON, conflict siblings included. It stays 64 KiB
 * below MAX_OBJECT_BYTES because every agent that pulls the object stores it
 * with a few more bytes: its own store-local fields (`via`, `viaEpoch`,
 * `seq`, `conflictVia`: a few hundred bytes) and ids rewritten by prefix
 * rules. So what one agent may write, every other agent can store and serve.
 */
export const MAX_LOCAL_OBJECT_BYTES = MAX_OBJECT_BYTES - 64 * 1024

/** objects per batch frame, default and cap */
export const DEFAULT_BATCH_OBJECTS = 500
export const MAX_BATCH_OBJECTS = 5000
/** a batch frame stops growing once its JSON passes this many bytes */
export const BATCH_TARGET_BYTES = 1024 * 1024
/** objects one `pull` may ask for (a window of several batches) */
export const DEFAULT_PULL_WINDOW = 4000
export const MAX_PULL_WINDOW = 100_000
/**
 * batches received but not yet applied before the puller stops asking; the
 * objects waiting plus those asked for are bounded by the window too
 * (agent/sync/pull-pipeline.ts)
 */
export const MAX_UNAPPLIED_BATCHES = 8

/**
 * Push (version 2, negotiated in the hello as the capability PUSH_CAPABILITY):
 * a server sends a live, caught-up puller the batch of each commit instead of
 * a notify it would answer with a pull. The puller grants credit in its pull
 * (`push`): push answers it may receive and not yet have acknowledged
 * (`ack`). It acknowledges after applying half its credit, so a slow puller
 * holds at most PUSH_CREDIT unapplied answers, as pulls hold
 * MAX_UNAPPLIED_BATCHES.
 */
export const PUSH_CAPABILITY = 'push'
export const PUSH_CREDIT = MAX_UNAPPLIED_BATCHES
export const MAX_PUSH_CREDIT = 64
/** request id of pushed batches (pull ids start at 1) */
export const PUSH_ID = 0
/** capabilities one hello may name, and their length */
export const MAX_CAPABILITIES = 16
export const MAX_CAPABILITY_LENGTH = 32

/** uids per `get` request */
export const MAX_GET_UIDS = 1000
/** entries in one version vector */
export const MAX_VECTOR_ENTRIES = 256
/** concurrent siblings carried with one object */
export const MAX_CONFLICT_SIBLINGS = 32
/**
 * nesting depth of an object's `data` (the data object itself is depth 1).
 * Deeper JSON parses fine but overflows the stack when it is serialised
 * again (store, wire), so it is refused at the edge instead.
 */
export const MAX_DATA_DEPTH = 64
/** refs of one object */
export const MAX_REFS = 1000
/** length of uid, type, id and domain strings */
export const MAX_UID_LENGTH = 128
export const MAX_TYPE_LENGTH = 128
export const MAX_ID_LENGTH = 512
export const MAX_DOMAIN_LENGTH = 64
/** largest feed sequence number accepted (Number.MAX_SAFE_INTEGER) */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER

/** dialing a peer (TCP + Noise + yamux) */
export const DIAL_TIMEOUT_MS = 10_000
/** waiting for the peer's hello after opening a session */
export const HELLO_TIMEOUT_MS = 10_000
/** waiting for the answer to a pull or get */
export const REQUEST_TIMEOUT_MS = 60_000
/** reconnect backoff bounds */
export const RECONNECT_MIN_MS = 250
export const RECONNECT_MAX_MS = 30_000
/** streams a peer may have open on this protocol at once */
export const MAX_INBOUND_STREAMS_PER_PEER = 4

/**
 * Provenance (protocol/provenance.ts). A local transaction's versions are
 * signed in groups of at most SIGN_GROUP_MAX (one signature per group, an
 * audit path of log2(group) hashes per version): verifying a signature
 * costs ~100 µs here, more than applying an object, so it is shared. A
 * receiver accepts groups up to MAX_SIGN_GROUP (paths of 16 hashes).
 */
export const SIGN_GROUP_MAX = 32
export const MAX_SIGN_GROUP = 65_536
/** a libp2p peer ID as text (an Ed25519 one is 52 characters) */
export const MAX_PEER_ID_LENGTH = 128
/** base64url text of an Ed25519 signature (64 bytes) and of a SHA-256 hash (32 bytes), unpadded */
export const SIGNATURE_TEXT_LENGTH = 86
export const HASH_TEXT_LENGTH = 43
/** base64url text of the longest audit path (16 hashes) */
export const MAX_AUDIT_PATH_LENGTH = 683

/** object history (store/history.ts): versions kept per object by default (config `history.versions`), and at most */
export const DEFAULT_HISTORY_VERSIONS = 20
export const MAX_HISTORY_VERSIONS = 1000
