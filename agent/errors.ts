/**
 * The agent's own errors (peers, rules, connectors, lifecycle, the admin
 * API). The base class and the protocol's errors are in protocol/errors.ts,
 * the store's and the config's beside their code.
 */
import { AgentError } from '../protocol/errors.js'

export class PeerNotAllowedError extends AgentError {
  constructor (peerId: string) {
    super('PEER_NOT_ALLOWED', `peer ${peerId} is not listed in this agent's config: add it under peers (with its peerId) to allow it`)
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

export class ConnectorError extends AgentError {
  readonly retryable: boolean
  constructor (message: string, retryable: boolean, options?: { cause?: unknown }) {
    super('CONNECTOR_ERROR', message, options)
    this.retryable = retryable
  }
}

/**
 * The remote ended a sync session: its side of the stream ended (its agent
 * stopped, or the connection was lost), or it sent an error frame. Not a bad
 * message: nothing is sent back, and the pull loop opens a new session.
 */
export class PeerClosedSessionError extends AgentError {
  constructor (message: string) {
    super('PEER_CLOSED', message)
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

/** A local write references blobs that are not here: upload them first. Nothing was written. */
export class BlobMissingError extends AgentError {
  readonly hashes: readonly string[]
  constructor (uid: string, hashes: readonly string[]) {
    super('BLOB_MISSING', `object ${uid.slice(0, 200)} references ${hashes.length === 1 ? 'blob' : 'blobs'} ${hashes.slice(0, 5).join(', ')}${hashes.length > 5 ? ' …' : ''}, not stored here: upload ${hashes.length === 1 ? 'it' : 'them'} first (PUT /api/blobs answers the hash to reference); nothing was written`)
    this.hashes = hashes
  }
}
