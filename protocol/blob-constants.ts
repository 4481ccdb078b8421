/**
 * The blob protocol's identity, limits and timeouts (its messages:
 * blob-messages.ts). One stream per blob transfer, opened by the agent that
 * wants the blob; the framing is the sync protocol's (varint length prefix,
 * size cap checked before a body is buffered).
 */

/** libp2p protocol ID; bump the major part on any incompatible change. */
export const BLOB_PROTOCOL_ID = '/labmesh/blob/1.0.0'
/** carried in every control message as `v` */
export const BLOB_PROTOCOL_VERSION = 1

/** bytes of blob data in one data frame */
export const BLOB_CHUNK_BYTES = 256 * 1024
/** a data frame's header: tag byte + 8-byte offset */
export const BLOB_DATA_HEADER_BYTES = 9
/** hard cap on one frame of this protocol (a data frame with a whole chunk is the largest) */
export const MAX_BLOB_FRAME_BYTES = BLOB_CHUNK_BYTES + BLOB_DATA_HEADER_BYTES
/** largest control (JSON) frame: they are a few dozen bytes */
export const MAX_BLOB_CONTROL_BYTES = 4096
/**
 * Bytes the fetching side lets the server send ahead of what it has
 * written (request-driven window): its memory bound per transfer, and
 * enough in flight to keep a loopback or LAN link busy.
 */
export const BLOB_WINDOW_BYTES = 4 * 1024 * 1024
/** largest credit one message may grant (a window) */
export const MAX_BLOB_CREDIT_BYTES = BLOB_WINDOW_BYTES

/** waiting for the server's answer to `get` */
export const BLOB_OPEN_TIMEOUT_MS = 30_000
/** a transfer with no data for this long is cut (the fetch resumes later) */
export const BLOB_IDLE_TIMEOUT_MS = 60_000
/** blob streams a peer may have open with us at once */
export const MAX_BLOB_STREAMS_PER_PEER = 4
