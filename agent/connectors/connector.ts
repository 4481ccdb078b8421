/**
 * The seam between the agent and the lab's system of record (its instance).
 *
 * The embedded connector has nothing to do: the agent's own store is the
 * instance. The SENAITE connector writes remote versions into the site
 * through its JSON API and reports local edits it detects by polling.
 */
import type { ObjectContent, ObjectVersion } from '../../protocol/object.js'
import type { Store, StoredObject } from '../../store/types.js'
import type { Logger } from '../runtime/logger.js'

/** A remote version about to become current here. */
export interface RemoteWrite {
  readonly previous: StoredObject | undefined
  readonly next: ObjectVersion
}

export type RemoteWriteResult =
  | { readonly ok: true }
  /** the instance refused or failed; `retryable` decides between backoff and the failed queue */
  | { readonly ok: false, readonly code: string, readonly reason: string, readonly retryable: boolean }

/** A change the connector detected in the instance (not written by the agent). */
export interface LocalChange extends ObjectContent {
  readonly deleted: boolean
}

/** A connector row written in the same transaction as a recorded local change. */
export interface ConnectorRow {
  readonly space: string
  readonly key: string
  readonly value: unknown
}

export interface ConnectorContext {
  readonly store: Store
  readonly log: Logger
  /**
   * Record an edit made in the instance: bumps this agent's vector entry and
   * appends to the feed. Resolves undefined when the edit was not accepted —
   * an object of a read-only type, which the agent has reverted in the
   * instance (through applyRemote) and reported; an object the echo-loop
   * guard holds (the edit is the instance's echo of a write in a loop; the
   * rows are then not written either) — or when `precondition`, checked
   * inside the store transaction, says the observation is stale (the
   * connector wrote into the instance since it looked).
   */
  readonly recordLocalChange: (change: LocalChange, rows?: readonly ConnectorRow[], precondition?: () => boolean) => Promise<StoredObject | undefined>
  /** false while a pull is applying batches: a poll then waits (cascades of writes still to come are not local edits) */
  readonly pullsIdle: () => boolean
}

/**
 * Rows a connector keeps in the agent's store (e.g. SENAITE uid ↔ path),
 * written in the SAME transaction as the objects whose remote writes created
 * them, so the mapping and the applied versions commit together or not at all.
 */
export interface ConnectorRows {
  get<T = unknown> (space: string, key: string): Promise<T | undefined>
  put (space: string, key: string, value: unknown): void
  delete (space: string, key: string): void
}

export interface InstanceConnector {
  readonly kind: string
  start (context: ConnectorContext): Promise<void>
  stop (): Promise<void>
  /**
   * Bring remote versions into the instance before the store commits them.
   * One result per write, in order; never one boolean for the whole batch.
   */
  applyRemote (writes: readonly RemoteWrite[], rows?: ConnectorRows): Promise<RemoteWriteResult[]>
}
