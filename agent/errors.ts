/**
 * Named error classes. Callers branch on the class or on `code`, never on the
 * message text. Messages say what happened and what to do about it.
 *
 * Errors are mapped to the outside world in exactly two places: the admin
 * app's onError (HTTP status) and the session's error frame (wire).
 */
import { MAX_FRAME_BYTES } from '../protocol/constants.js'

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'PROTOCOL_ERROR'
  | 'PROTOCOL_VERSION_UNSUPPORTED'
  | 'MESSAGE_TOO_LARGE'
  | 'OBJECT_TOO_LARGE'
  | 'OBJECT_INVALID'
  | 'PEER_NOT_ALLOWED'
  | 'RULE_VIOLATION'
  | 'STORE_CLOSED'
  | 'STORE_LOCKED'
  | 'STORE_WRITE_FAILED'
  | 'CONNECTOR_ERROR'
  | 'NOT_STARTED'
  | 'IDENTITY_ERROR'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'TIMEOUT'

export class AgentError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** One entry of a ConfigError: where in the file, what is wrong, how to fix it. */
export interface ConfigIssue {
  /** dotted field path, e.g. `peers[1].peerId` */
  readonly path: string
  readonly message: string
  readonly fix: string
}

export class ConfigError extends AgentError {
  readonly issues: readonly ConfigIssue[]
  readonly file: string | undefined
  constructor (issues: readonly ConfigIssue[], file?: string) {
    const where = file !== undefined ? ` in ${file}` : ''
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}. Fix: ${i.fix}`)
    super('CONFIG_INVALID', `invalid configuration${where} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`)
    this.issues = issues
    this.file = file
  }
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

export class PeerNotAllowedError extends AgentError {
  constructor (peerId: string) {
    super('PEER_NOT_ALLOWED', `peer ${peerId} is not listed in this agent's config: add it under peers (with its peerId) to allow it`)
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

/** A write that an import rule forbids (read-only type, update-only type …). */
export class RuleViolationError extends AgentError {
  readonly reason: string
  constructor (reason: string, message: string) {
    super('RULE_VIOLATION', message)
    this.reason = reason
  }
}

export class StoreClosedError extends AgentError {
  constructor () {
    super('STORE_CLOSED', 'the store is closed: the agent is stopping or failed to start')
  }
}

export class StoreLockedError extends AgentError {
  /** the process holding the lock, when the system says (Linux: /proc/locks) */
  readonly holder: number | undefined
  constructor (location: string, options?: { cause?: unknown, holder?: number }) {
    // a lock ends with the process that holds it, crash or not: whoever holds it is alive (perhaps hung)
    const who = options?.holder !== undefined ? `process ${options.holder}` : 'another process'
    super('STORE_LOCKED', `the store at ${location} is locked by ${who}: stop that labmesh agent (it is running, perhaps hung), or point dataDir at another directory; an agent that crashed leaves no lock behind`, options)
    this.holder = options?.holder
  }
}

export class StoreWriteError extends AgentError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('STORE_WRITE_FAILED', message, options)
  }
}

export class ConnectorError extends AgentError {
  readonly retryable: boolean
  constructor (message: string, retryable: boolean, options?: { cause?: unknown }) {
    super('CONNECTOR_ERROR', message, options)
    this.retryable = retryable
  }
}

export class NotStartedError extends AgentError {
  constructor (what: string) {
    super('NOT_STARTED', `${what} is not started`)
  }
}

export class IdentityError extends AgentError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('IDENTITY_ERROR', message, options)
  }
}

export class NotFoundError extends AgentError {
  constructor (message: string) {
    super('NOT_FOUND', message)
  }
}

export class BadRequestError extends AgentError {
  readonly details: unknown
  constructor (message: string, details?: unknown) {
    super('BAD_REQUEST', message)
    this.details = details
  }
}

export class TimeoutError extends AgentError {
  constructor (message: string) {
    super('TIMEOUT', message)
  }
}

/** A short, single-line description of any thrown value, for logs and status. */
export function describeError (err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name
  return String(err)
}
