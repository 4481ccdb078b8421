/**
 * The invite protocol's identity, limits and timeouts (the sync protocol's
 * are in constants.ts). The invite protocol is the only one an agent not
 * listed in the config may open, and only while an invitation is open: so
 * every bound it can push against is here, and all of them are small.
 */

/** libp2p protocol ID of the invite handshake; bump the major part on any incompatible change */
export const INVITE_PROTOCOL_ID = '/labmesh/invite/1.0.0'
/** carried in every message as `v` */
export const INVITE_PROTOCOL_VERSION = 1

/** hard cap on one frame of the handshake: its messages are a few hundred bytes */
export const MAX_INVITE_FRAME_BYTES = 16 * 1024

/** bytes of the random invite id (public: names the invitation) */
export const INVITE_ID_BYTES = 8
/** bytes of the one-time secret (private: only its HMAC travels) */
export const INVITE_SECRET_BYTES = 16
/** bytes of the inviter's challenge nonce */
export const INVITE_NONCE_BYTES = 16
/** listen addresses an invite code or a handshake message may carry */
export const MAX_INVITE_ADDRS = 16
/** characters of one multiaddr in a handshake message */
export const MAX_INVITE_ADDR_LENGTH = 256

/** how long an invitation is valid when nothing else is said */
export const DEFAULT_INVITE_EXPIRY_MS = 24 * 3_600_000
/** the longest validity an invitation may be given */
export const MAX_INVITE_EXPIRY_MS = 30 * 24 * 3_600_000
/** invitations (open or used, not yet expired) one agent keeps at once */
export const MAX_INVITES = 100

/** the whole handshake, from stream open to the answer (the inviter's side adds a config write) */
export const INVITE_HANDSHAKE_TIMEOUT_MS = 15_000
/**
 * A connection from a peer not in the config, admitted for the invite
 * protocol, is closed after this long unless the peer has joined by then.
 */
export const INVITE_GUEST_TTL_MS = 20_000
/** connections from peers not in the config admitted per minute (all invitations together) */
export const INVITE_ADMISSIONS_PER_MINUTE = 20
/** connections from peers not in the config open at once */
export const MAX_INVITE_GUESTS = 8
