/**
 * The error base every layer uses, and the protocol's own errors.
 *
 * Callers branch on the class or on `code`, never on the message text;
 * messages say what happened and what to do about it. The codes live here,
 * at the bottom of the layers, because they are protocol vocabulary: error
 * frames carry them to peers. Each layer keeps its own subclasses beside its
 * code (store/errors.ts, config/errors.ts, agent/errors.ts).
 *
 * Errors are mapped to the outside world in exactly two places: the admin
 * app's onError (HTTP status) and the session's error frame (wire).
 */
import { MAX_FRAME_BYTES } from './constants.js'

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_RESTART_REQUIRED'
  | 'PROTOCOL_ERROR'
  | 'PROTOCOL_VERSION_UNSUPPORTED'
  | 'MESSAGE_TOO_LARGE'
  /** a compressed frame that is damaged, or inflates past what it announces (protocol/frame-compression.ts) */
  | 'COMPRESSED_FRAME_INVALID'
  | 'OBJECT_TOO_LARGE'
  | 'OBJECT_INVALID'
  | 'PEER_NOT_ALLOWED'
  | 'RULE_VIOLATION'
  | 'STORE_CLOSED'
  | 'STORE_LOCKED'
  | 'STORE_WRITE_FAILED'
  | 'STORE_SCHEMA_TOO_NEW'
  | 'STORE_UPGRADE_FAILED'
  /** a backup directory or stream that is damaged, incomplete or not a labmesh backup */
  | 'BACKUP_INVALID'
  /** a backup of another schema than this code reads (newer), or of another domain */
  | 'BACKUP_INCOMPATIBLE'
  /** a restore would overwrite a store, or a second backup was asked for while one runs */
  | 'BACKUP_CONFLICT'
  | 'CONNECTOR_ERROR'
  | 'NOT_STARTED'
  | 'IDENTITY_ERROR'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'TIMEOUT'
  | 'PEER_CLOSED'
  | 'BLOB_MISSING'
  | 'BLOB_MISMATCH'
  | 'BLOB_TOO_LARGE'
  | 'BLOB_NOT_SERVED'
  /** a three-way merge left fields changed on both sides unpicked (protocol/merge.ts) */
  | 'MERGE_CONFLICT'
  /** a field pick names no field of the object, or picks a base that is not known */
  | 'MERGE_FIELD_INVALID'
  | InviteErrorCode

/**
 * Why an invite code was refused: each case has its own code and message
 * (protocol/invite-*.ts; the inviter sends them in an error frame).
 */
export type InviteErrorCode =
  /** not a labmesh invite code at all, or one of a newer format */
  | 'INVITE_MALFORMED'
  /** the checksum does not match: truncated or altered on the way */
  | 'INVITE_DAMAGED'
  | 'INVITE_EXPIRED'
  /** single use, and used already */
  | 'INVITE_USED'
  /** well-formed, but the inviting agent never issued it (or it was revoked), or the secret does not match */
  | 'INVITE_UNKNOWN'
  /** the inviting agent could not take the joiner into its config (name taken, its own file invalid) */
  | 'INVITE_REFUSED'
  /** the inviting agent could not be reached, or refused the connection */
  | 'INVITE_UNREACHABLE'

export class AgentError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A short, single-line description of any thrown value, for logs and status. */
export function describeError (err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name
  return String(err)
}

export class ProtocolError extends AgentError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('PROTOCOL_ERROR', message, options)
  }
}

export class UnsupportedProtocolVersionError extends AgentError {
  constructor (received: unknown, supported: number) {
    super('PROTOCOL_VERSION_UNSUPPORTED', `peer speaks protocol version ${String(received)}, this agent speaks ${supported}: upgrade the older agent`)
  }
}

export class MessageTooLargeError extends AgentError {
  constructor (size: number | undefined, limit: number) {
    super('MESSAGE_TOO_LARGE', `message of ${size ?? 'unknown'} bytes exceeds the ${limit}-byte limit`)
  }
}

/**
 * An object whose JSON (conflict siblings included) would be larger than one
 * object may be: a local write over MAX_LOCAL_OBJECT_BYTES, or a record over
 * MAX_OBJECT_BYTES at the store. Nothing was written.
 */
export class ObjectTooLargeError extends AgentError {
  readonly uid: string
  /** its size as JSON, in bytes (UTF-8) */
  readonly bytes: number
  /** the limit it went over */
  readonly limit: number
  constructor (uid: string, bytes: number, limit: number) {
    super('OBJECT_TOO_LARGE', `object ${uid} would take ${bytes} bytes as JSON (its conflict siblings included), over the ${limit}-byte limit for one object (every object must travel whole in one ${MAX_FRAME_BYTES}-byte protocol frame); nothing was written: make its data smaller (keep large files outside labmesh and reference them), or resolve its conflicts first`)
    this.uid = uid
    this.bytes = bytes
    this.limit = limit
  }
}

/**
 * A local write (a connector's, mostly: the document API checks its input
 * first) of an object that no other agent could take — a field over the
 * protocol's limits (uid, type or id length, refs, nesting of data, conflict
 * siblings) — refused before it reaches the feed, where serving it would
 * break every pull of it. Nothing was written.
 */
export class InvalidObjectError extends AgentError {
  readonly uid: string
  readonly problems: string
  constructor (uid: string, problems: string) {
    super('OBJECT_INVALID', `object ${uid.slice(0, 200)} cannot be replicated: ${problems}; nothing was written: correct it where it was made`)
    this.uid = uid
    this.problems = problems
  }
}

/** An invite code that cannot be used; `code` says why (see InviteErrorCode). */
export class InviteError extends AgentError {
  constructor (code: InviteErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
