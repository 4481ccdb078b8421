/**
 * The verify protocol's identity, limits and timeouts (issue 13,
 * anti-entropy): beside the sync protocol's (constants.ts), whose framing
 * and frame cap it shares.
 */

/** libp2p protocol ID; bump the major part on any incompatible change (a new digest definition is one) */
export const VERIFY_PROTOCOL_ID = '/labmesh/verify/1.0.0'
/** carried in every message as `v` */
export const VERIFY_PROTOCOL_VERSION = 1

/** types a client may name in `open` (its import scope) */
export const MAX_VERIFY_TYPES = 10_000
/** groups (type × origin) in one `summary` frame; a larger summary takes several */
export const MAX_SUMMARY_GROUPS = 10_000
/** ranges one `ranges` request may ask for */
export const MAX_VERIFY_RANGES = 1024
/** leaves in one `nodes` frame (an answer takes as many frames as it needs) */
export const MAX_FRAME_LEAVES = 5000
/** a range with at most this many leaves is answered with its leaves rather than its children */
export const LEAF_LIST_MAX = 128
/** uids with a digest problem one side reports after its check */
export const MAX_CHECK_PROBLEMS = 1000

/** waiting for the peer's next message (an answer, or check progress) */
export const VERIFY_IDLE_TIMEOUT_MS = 60_000
/** a checking server reports progress at most this often (and so keeps the client waiting) */
export const CHECK_PROGRESS_MS = 1000
/** verify streams a peer may have open with us at once */
export const MAX_VERIFY_STREAMS_PER_PEER = 2
