/**
 * The store's contract: what the rest of the agent may rely on.
 *
 * Reads return `undefined` for what is not there. Every mutation goes through
 * `write()`, whose transaction is committed as ONE LevelDB batch — objects,
 * feed entries, conflict and failure indexes, and the checkpoint a pull
 * advances — or not at all (DESIGN.md, "Store" invariant).
 */
import type { DigestGroup, DigestLeaf } from '../protocol/digest.js'
import type { ObjectVersion, WireObject } from '../protocol/object.js'
import type { VersionVector } from '../protocol/version-vector.js'
import type { PastVersion } from '../protocol/merge.js'
import type { DigestCheckOptions, DigestCheckReport } from './digest-types.js'

export type { DigestCheckOptions, DigestCheckReport, DigestProblem } from './digest-types.js'
import type { StoreSnapshot } from './backup/snapshot.js'

/** An object as this agent holds it: its current version plus local metadata. */
export interface StoredObject extends ObjectVersion {
  /** position in this agent's feed; the latest version of each uid appears once */
  readonly seq: number
  /** versions concurrent with the current one, kept beside it (never applied over it) */
  readonly conflicts: readonly ObjectVersion[]
  /** name of the peer the current version was pulled from; null when written here */
  readonly via: string | null
  /**
   * feed epoch of `via` when the version was pulled: a peer whose store was
   * rebuilt since (new epoch) no longer holds it, and must be sent it again
   */
  readonly viaEpoch?: string
  /** peers whose batches brought the conflict siblings (status per peer) */
  readonly conflictVia?: readonly string[]
}

/** One entry of an object's history (store/history.ts decides which a write adds). */
export type HistoryEvent = 'version' | 'conflict' | 'resolution' | 'rejected' | 'seeded'
export type SignatureState = 'valid' | 'unsigned' | 'bad'

export interface HistoryEntry {
  readonly event: HistoryEvent
  readonly vector: VersionVector
  readonly deleted: boolean
  /** the id as presented here */
  readonly id: string
  /** the id its signer wrote, when prefix rules present it otherwise here */
  readonly signedId?: string
  /** domain that made the version: its signer; unsigned, the one vector entry it raised (null when that cannot be told) */
  readonly origin: string | null
  /** the signer's peer ID; null for an unsigned version */
  readonly peerId: string | null
  readonly signature: SignatureState
  /** when it was written where it was made (the version's `at`) */
  readonly at: number
  /** when this agent applied (or refused) it; null for a version it held before history began */
  readonly appliedAt: number | null
  /** the peer it was pulled from; null when written here */
  readonly via: string | null
  /** fields that differ from the version before it (current versions) or from the current one (siblings); null for the first version seen */
  readonly changed: readonly string[] | null
  /** why it was refused (`rejected`) */
  readonly reason?: string
}

/** Per remote: how far its feed is applied here, and under which rules. */
export interface Checkpoint {
  /** last sequence of the remote's feed applied here */
  readonly seq: number
  /** the remote's feed epoch this seq belongs to */
  readonly epoch: string
  /** hash of the import rules the checkpoint was made under */
  readonly rulesHash: string
  /** the remote's hash of what it served us when the checkpoint was made */
  readonly servesHash?: string
  /** total objects pulled from this remote into this store (for status) */
  readonly pulled: number
  readonly updatedAt: number
}

/** An object parked because it could not be applied (missing dependency, instance refused it …). */
export interface FailedEntry {
  readonly uid: string
  /** name of the peer the version came from */
  readonly peer: string
  readonly reason: string
  readonly code: string
  /** dependencies (uids) that could not be had, when that is the reason */
  readonly missing: readonly string[]
  readonly attempts: number
  readonly firstFailedAt: number
  readonly lastFailedAt: number
  readonly nextRetryAt: number
  readonly version: WireObject
}

export interface StoreInfo {
  readonly epoch: string
  readonly domain: string
  /**
   * the vector entry local writes raise: the domain, or in a restored store
   * its restore entry `<domain>~<tag>` (meta `entry`; protocol/version-vector.ts
   * restoreEntry)
   */
  readonly entry: string
  readonly head: number
  readonly objects: number
  readonly conflicts: number
  readonly failed: number
}

export interface FeedEntry {
  readonly seq: number
  /**
   * The stored record (StoredObject) as its JSON text: serving splices it
   * into frames and parses it only when it must (agent/wire.ts).
   */
  readonly json: string
}

export interface FeedPage {
  readonly entries: readonly FeedEntry[]
  /** the last feed sequence read (≥ the last entry's seq) */
  readonly lastSeq: number
  /** whether the feed has entries after lastSeq */
  readonly more: boolean
}

export interface ListPage {
  readonly items: readonly StoredObject[]
  readonly next: string | null
}

/** A new or replaced object handed to a transaction; the store assigns `seq`. */
export type ObjectWrite = Omit<StoredObject, 'seq'>

/** Reads and writes inside one atomic transaction. */
export interface WriteTx {
  /** current record, including writes made earlier in this transaction */
  get (uid: string): Promise<StoredObject | undefined>
  getMany (uids: readonly string[]): Promise<Array<StoredObject | undefined>>
  /** which of these uids this transaction sees a record of (tombstones count), without reading them whole */
  holds (uids: readonly string[]): Promise<boolean[]>
  // what this transaction sees: its own writes and those it was built on (see Store.write)
  getAux<T = unknown> (space: string, key: string): Promise<T | undefined>
  getCheckpoint (peerId: string): Promise<Checkpoint | undefined>
  getFailed (uid: string): Promise<FailedEntry | undefined>
  /**
   * replace the object (it must have been read in this tx); returns it with
   * its new feed seq. Throws ObjectTooLargeError, changing nothing, when its
   * JSON would exceed MAX_OBJECT_BYTES, or its wire JSON (without the
   * store-local fields) `limits.maxWireBytes`.
   */
  putObject (object: ObjectWrite, limits?: PutLimits): StoredObject
  /**
   * add entries to the object's history (putObject adds those of the write
   * itself): versions refused for their signature. Synchronous: the row is
   * the one read with the object (getMany), or none for a uid new here.
   */
  appendHistory (uid: string, entries: readonly HistoryEntry[]): void
  /** the versions the object had here before its current one, oldest first (store/past-versions.ts) */
  getPastVersions (uid: string): Promise<readonly PastVersion[]>
  setCheckpoint (peerId: string, checkpoint: Checkpoint): void
  putFailed (entry: FailedEntry): void
  /** no-op when the uid is not parked */
  deleteFailed (uid: string): void
  /** connector-owned key/value rows (e.g. the SENAITE uid mapping), written in the same batch */
  putAux (space: string, key: string, value: unknown): void
  deleteAux (space: string, key: string): void
  /**
   * Whether any object references the blob `hash` (the `b` index, which
   * putObject keeps), counting this transaction's writes and those it is
   * built on: garbage collection decides inside a transaction, so no write
   * can add a reference between its check and its removal.
   */
  blobReferenced (hash: string): Promise<boolean>
  /** when a reference to `hash` last went away (undefined: never referenced, or the mark was dropped) */
  blobOrphanedAt (hash: string): Promise<number | undefined>
  /** drop the blob's orphan mark (it was collected) */
  forgetBlob (hash: string): void
  /**
   * Make the digest agree with the record of `uid` again after a write that
   * bypassed the store (a digest check found it): the leaf rows at
   * `staleKeys` (DigestProblem.stored.key) and at the record's own key are
   * replaced by the record's leaf. Read-only for the record itself.
   */
  healDigest (uid: string, staleKeys: readonly string[]): Promise<void>
}

/** A group's (or a bucket's) count and XOR hash of leaves. */
export interface DigestCount {
  readonly count: number
  /** 32 hex digits */
  readonly hash: string
}

/** One leaf: its uid's bucket hash (16 bits) and the leaf. */
export interface DigestLeafRow {
  readonly bucket16: number
  readonly leaf: DigestLeaf
}

/**
 * The anti-entropy digest of what the store holds (protocol/digest.ts says
 * what is hashed), kept in the same batch as every write.
 */
export interface StoreDigest {
  /** every group with leaves, committed: its count and hash, in group order */
  groups (): Array<DigestGroup & DigestCount>
  /** a consistent view for one verify: the groups and their leaves as of one moment (close it) */
  view (): Promise<DigestView>
  /** rebuild the digest from the records and compare it with the stored one */
  check (options?: DigestCheckOptions): Promise<DigestCheckReport>
}

/** The digest as of one moment: later commits change nothing in it. */
export interface DigestView {
  readonly groups: ReadonlyArray<DigestGroup & DigestCount>
  /** every leaf of `group`, page by page (in type-index order; the next page is read once onPage has resolved) */
  scan (group: DigestGroup, onPage: (rows: readonly DigestLeafRow[]) => void | Promise<void>): Promise<void>
  close (): Promise<void>
}

export interface CommitEvent {
  readonly head: number
  /**
   * objects whose current version or conflict set changed: each got a new
   * feed entry in (previous head, head]; 0 when the commit only moved
   * checkpoints, failed entries or aux rows
   */
  readonly changed: number
  /**
   * feed seqs this commit removed: the old positions of objects it replaced
   * (including positions assigned earlier in the same transaction). With
   * `changed`, a listener can keep "entries after seq S" exact without
   * re-counting the feed: +changed, −1 for every moved seq above S.
   */
  readonly moved: readonly number[]
  /** the peer whose batch this commit applied (undefined for local writes) */
  readonly source: string | undefined
  /** objects that gained a conflict sibling in this commit */
  readonly conflictsAdded: number
}

export interface WriteOptions {
  /** the peer whose batch is being applied; passed on to commit listeners */
  readonly source?: string
  /**
   * Called once the transaction's function has resolved and its batch is
   * queued for commit: a write started from now on is built on this one.
   */
  readonly onPrepared?: () => void
}

export interface Store {
  open (): Promise<void>
  close (): Promise<void>
  info (): StoreInfo

  getObject (uid: string): Promise<StoredObject | undefined>
  getObjects (uids: readonly string[]): Promise<Array<StoredObject | undefined>>
  /**
   * Whether these uids are held, counting writes whose batch is prepared but
   * not yet committed (see write()). For deciding what to fetch before a
   * write only: whoever acts on it re-reads those uids in its transaction.
   */
  holds (uids: readonly string[]): Promise<boolean[]>
  /** objects in uid order, optionally of one type, after a uid */
  listObjects (options: { type?: string, after?: string, limit: number }): Promise<ListPage>
  /** feed entries with seq > since, at most `limit` of them */
  readFeed (since: number, limit: number): Promise<FeedPage>
  /** number of feed entries with seq in (after, upTo] */
  countFeed (after: number, upTo?: number): Promise<number>
  /**
   * Run `fn` (reads only) between two writes: no commit lands while it runs,
   * and every earlier commit's listeners have already been called. What it
   * reads is therefore consistent with what commit listeners have seen.
   */
  readBetweenWrites<T> (fn: () => Promise<T>): Promise<T>
  /**
   * Build what a bulk load (an initial sync into an empty store) left out —
   * the type index (type-index.ts) — in chunks between writes; resumes where
   * an interrupted build stopped; resolves with the objects it indexed (0 at
   * once when nothing is left). Concurrent calls share one build.
   */
  finishBulkLoad (onProgress?: (done: number, total: number) => void): Promise<number>

  getCheckpoint (peerId: string): Promise<Checkpoint | undefined>
  listCheckpoints (): Promise<Array<{ peerId: string, checkpoint: Checkpoint }>>
  listConflicts (options?: { limit?: number, after?: string }): Promise<StoredObject[]>
  getFailed (uid: string): Promise<FailedEntry | undefined>
  /** parked entries in uid order, `limit` (default 1000) after the uid `after` */
  listFailed (options?: { limit?: number, after?: string }): Promise<FailedEntry[]>
  getAux<T = unknown> (space: string, key: string): Promise<T | undefined>
  /** the object's history, oldest first (store/history.ts); undefined when there is none */
  getHistory (uid: string): Promise<HistoryEntry[] | undefined>
  /** the versions the object had here before its current one, oldest first, at most PAST_VERSIONS_KEPT (store/past-versions.ts); [] when none */
  getPastVersions (uid: string): Promise<PastVersion[]>
  /** iterate one aux space in key order */
  iterateAux<T = unknown> (space: string): AsyncIterable<[string, T]>
  /** uids of objects that reference the blob `hash` (committed), in uid order, `limit` after `after` */
  blobReferrers (hash: string, options?: { limit?: number, after?: string }): Promise<string[]>

  /**
   * Run `fn` as one transaction: writes are serialised with every other
   * write and committed as one atomic batch after `fn` resolves; if `fn`
   * throws, nothing is written. Resolves once the batch is committed.
   *
   * Pipelined: the next transaction's `fn` may run while this one's batch is
   * being written. It then reads through this one's writes, and its own batch
   * is committed only after this one's — if this one fails, so does it.
   */
  write<T> (fn: (tx: WriteTx) => Promise<T> | T, options?: WriteOptions): Promise<T>

  /** open conflicts per peer that brought a sibling */
  conflictsByPeer (): Map<string, number>
  /** parked objects per peer their version came from */
  failedByPeer (): Map<string, number>
  /**
   * A consistent snapshot of every row, for a backup while writes go on
   * (store/backup/snapshot.ts): whole transactions only. Close it when done:
   * LevelDB keeps what it sees until then.
   */
  openSnapshot (): Promise<StoreSnapshot>
  /** called after every committed write; `changed` is 0 when the feed did not change */
  onCommit (listener: (event: CommitEvent) => void): () => void

  /** the anti-entropy digest (verify) */
  readonly digest: StoreDigest
}

export interface PutLimits {
  /** refuse (ObjectTooLargeError) an object whose wire JSON would take more bytes (local writes: MAX_LOCAL_OBJECT_BYTES) */
  readonly maxWireBytes?: number
  /**
   * the JSON text of the object's `data`, when the caller has made it
   * already (its content hash): stored as it is instead of encoding `data`
   * again. It must be a JSON text of that very value (canonical JSON is).
   */
  readonly dataText?: string
}
