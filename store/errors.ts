/** The store's errors: closed, locked by another process, a write that failed. */
import { AgentError } from '../protocol/errors.js'

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

/** A store written by a newer labmesh: its format may hold what this code would misread or destroy. */
export class StoreSchemaTooNewError extends AgentError {
  readonly storeSchema: number
  readonly codeSchema: number
  constructor (location: string, storeSchema: number, codeSchema: number) {
    super('STORE_SCHEMA_TOO_NEW', `the store at ${location} has schema ${storeSchema}, written by a newer labmesh; this labmesh reads schema ${codeSchema} and older: run the newer labmesh, or restore a backup made with this version (nothing was changed)`)
    this.storeSchema = storeSchema
    this.codeSchema = codeSchema
  }
}

/** An upgrade step failed: the store keeps its old schema and resumes the step at the next open. */
export class StoreUpgradeError extends AgentError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('STORE_UPGRADE_FAILED', message, options)
  }
}

/** A backup that cannot be used: damaged, incomplete, or not a labmesh backup. */
export class BackupInvalidError extends AgentError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('BACKUP_INVALID', message, options)
  }
}

/** A backup this code must not restore: a newer schema, another domain. */
export class BackupIncompatibleError extends AgentError {
  constructor (message: string) {
    super('BACKUP_INCOMPATIBLE', message)
  }
}

/** A restore that would replace a store, or a backup asked for while another runs. */
export class BackupConflictError extends AgentError {
  constructor (message: string) {
    super('BACKUP_CONFLICT', message)
  }
}

/** No blob with this hash is stored here (yet). */
export class BlobNotFoundError extends AgentError {
  readonly hash: string
  constructor (hash: string) {
    super('NOT_FOUND', `blob ${hash} is not stored here: upload it (PUT /api/blobs) or wait until it has been fetched from a peer`)
    this.hash = hash
  }
}

/** Bytes that do not hash to what they were said to be: refused, nothing stored. */
export class BlobMismatchError extends AgentError {
  readonly expected: string
  readonly actual: string
  constructor (expected: string, actual: string, what: string) {
    super('BLOB_MISMATCH', `${what} hash to ${actual}, not to ${expected}: refused, nothing was stored`)
    this.expected = expected
    this.actual = actual
  }
}

/** More bytes than a limit allows: refused, nothing stored. */
export class BlobTooLargeError extends AgentError {
  readonly limit: number
  constructor (limit: number, what: string) {
    super('BLOB_TOO_LARGE', `${what} is larger than ${limit} bytes: refused, nothing was stored`)
    this.limit = limit
  }
}
