/**
 * The seam between the agent and the lab's system of record (its instance).
 *
 * The embedded connector has nothing to do: the agent's own store is the
 * instance. The SENAITE connector writes remote versions into the site
 * through its JSON API and reports local edits it detects by polling.
 */
import type { FileTransferStatus } from './file-transfers.js'
import type { ObjectContent, ObjectVersion } from '../../protocol/object.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'
import type { Store, StoredObject } from '../../store/types.js'
import type { Logger } from '../runtime/logger.js'

/** A remote version about to become current here. */
export interface RemoteWrite {
  readonly previous: StoredObject | undefined
  readonly next: ObjectVersion
}

export type RemoteWriteResult =
  | { readonly ok: true }
  /**
   * the instance refused or failed; `retryable` decides between backoff and
   * the failed queue; `missing` names the mesh objects it waits for (a
   * dependency the instance must hold first), so the failed queue retries it
   * as soon as they are applied here
   */
  | { readonly ok: false, readonly code: string, readonly reason: string, readonly retryable: boolean, readonly missing?: readonly string[] }

/** Where the instance would put a version that a pull creates (the dry run, `labmesh plan`): the version's uid with its placement. */
export interface PlacedVersion extends Placement {
  readonly uid: string
}

/** Where one version would go, and what the instance would do there. */
export interface Placement {
  /** a container path in the instance, or where it goes when that container is itself still to be made */
  readonly where: string
  /** create it there; adopt what the instance makes by itself (a sample's analyses); or refuse it */
  readonly action: 'create' | 'adopt' | 'refuse'
  /** why it is refused, or how it is made */
  readonly note?: string
}

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

/**
 * The blob store as a connector sees it: put a file (streamed; answers its
 * hash and size, `created: false` when it was here already), read one
 * (streamed, whole or a byte range), look one up.
 */
export type ConnectorBlobs = Pick<BlobStore, 'put' | 'read' | 'stat'>

export interface ConnectorContext {
  readonly store: Store
  /**
   * The agent's files by hash (content-addressed, stored once), streamed in
   * and out: an instance's attachments go here (`put`, then reference the
   * answered hash from the object's data as `{blob, size, name, mediaType}`),
   * and come out of here for the instance (`read`). A local change may
   * reference only blobs already put (else it is refused, BLOB_MISSING);
   * an applied remote version's blobs are here before applyRemote sees it.
   */
  readonly blobs: ConnectorBlobs
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
  /**
   * Optional, for the dry run: where each of these versions — the ones a
   * pull would create — would go in the instance, one answer per version,
   * in the order the connector would write them. Reads only; the connector
   * may not be started (`labmesh plan` with no agent running), `store` is
   * the agent's.
   */
  placement? (versions: readonly ObjectVersion[], store: Store): Promise<PlacedVersion[]>
  /** Optional: files moving between the instance and the agent now (bytes, percent, ETA), for the status. */
  fileTransfers? (): FileTransferStatus[]
}
