/**
 * The LevelDB store (`level` 10 → classic-level on Node): the Store object,
 * its write chain and its recovery from a failed write. Layout in keys.ts;
 * opening and meta rows in level-open.ts; committed reads in level-reads.ts;
 * what memory holds of the committed rows in level-memory.ts; one
 * transaction in level-write-tx.ts.
 *
 * Writes are serialised through one promise chain: a transaction reads what
 * it needs, decides, and its operations are committed as one `batch()` — the
 * atomic unit of the store invariant. In-memory counters (head, objects,
 * conflicts, failed) change only after a batch has been committed, so a
 * failed write leaves memory and disk in agreement. So do the digest's
 * aggregates (digest-mirror.ts): each transaction computes its aggregate
 * rows before it is queued (finishDigest), and the mirror takes them after
 * the batch committed.
 */
import type { Level } from 'level'
import { StoreClosedError, StoreWriteError } from './errors.js'
import { META_KEYS, auxKey } from './keys.js'
import type {
  Checkpoint, CommitEvent, FailedEntry, FeedPage, ListPage, Store, StoreDigest, StoreInfo, StoredObject, WriteOptions, WriteTx
} from './types.js'
import { writeBatch, type LevelStoreOptions, type Sublevels } from './level-db.js'
import { LevelWriteTx, NOT_KNOWN, type TxHost } from './level-write-tx.js'
import { holdsThrough } from './tx-host.js'
import { nextChunk } from './type-index.js'
import { AgentError } from '../protocol/errors.js'
import { DigestKeys } from './digest-rows.js'
import { CommittedState } from './level-memory.js'
import { createDigestView } from './digest-view.js'
import type { DigestAggregate } from '../protocol/digest.js'
import { UPGRADE_STEPS, latestSchema } from './upgrades/index.js'
import { DEFAULT_HISTORY_VERSIONS } from '../protocol/constants.js'
import type { HistoryEntry } from './history.js'
import { inPastOrder, PAST_VERSIONS_KEPT, type PastVersion } from './past-versions.js'
import { openStoreSnapshot, type StoreSnapshot } from './backup/snapshot.js'
import { loadMeta, openDatabase } from './level-open.js'
import { blobReferrerUids, countFeedRows, iterateAuxRows, listConflictRecords, listObjectsPage, pastSlots, readFeedPage } from './level-reads.js'

export { DEFAULT_WRITE_BUFFER_BYTES, type LevelStoreOptions } from './level-db.js'

export function createLevelStore (options: LevelStoreOptions): Store {
  return new LevelStore(options)
}

class LevelStore implements Store, TxHost {
  readonly #options: LevelStoreOptions
  // the database and its sublevels exist from open() on: a `Level` starts
  // opening (and takes the lock) as soon as it is constructed
  #db!: Level<string, unknown>
  #subs!: Sublevels
  readonly #listeners = new Set<(event: CommitEvent) => void>()
  #open = false
  #writeChain: Promise<unknown> = Promise.resolve()
  /** what memory holds of the committed rows (counters, indexes, digest aggregates) */
  readonly #mem = new CommittedState()
  /** the last transaction given a batch to commit; the next one is built on it while it is unsettled */
  #inflight: LevelWriteTx | undefined
  /** a write failed: LevelDB's log may end in a torn record (see #recover) */
  #damaged = false
  /** why the store cannot be read right now: its recovery failed and the database is closed */
  #unavailable: StoreWriteError | undefined
  #recoveryQueued = false
  /** the type index build running now (finishBulkLoad) */
  #building: Promise<number> | undefined

  /** the schema this store is brought to at open: the last upgrade step's */
  readonly #schema: number
  readonly digestKeys = new DigestKeys()
  readonly digest: StoreDigest

  constructor (options: LevelStoreOptions) {
    if ((options.bulkLoad as boolean | undefined) === true) throw new AgentError('BAD_REQUEST', 'bulkLoad is not available: the type-index rows carry the anti-entropy digest\'s leaves, which a deferred build does not write; leave the option out')
    this.#options = options
    this.#schema = latestSchema(options.upgradeSteps ?? UPGRADE_STEPS)
    this.digest = createDigestView({
      subs: () => this.#subs,
      snapshot: () => this.#db.snapshot(),
      mirror: this.#mem.digestMirror,
      objects: () => this.#mem.objectCount,
      assertOpen: () => this.#assertOpen(),
      readBetweenWrites: async (fn) => await this.readBetweenWrites(fn)
    })
  }

  async open (): Promise<void> {
    if (this.#open) return
    const { db, subs } = await openDatabase(this.#options)
    this.#db = db
    this.#subs = subs
    try {
      await loadMeta(this.#db, this.#subs, this.#options, this.#schema, this.#mem)
    } catch (err) {
      await this.#db.close().catch(() => {})
      throw err
    }
    this.#open = true
  }

  async close (): Promise<void> {
    if (!this.#open) return
    this.#open = false
    await this.#writeChain.catch(() => {})
    await this.#quiesce()
    await this.#db.close()
  }

  info (): StoreInfo {
    return this.#mem.info(this.#options.domain)
  }

  async getObject (uid: string): Promise<StoredObject | undefined> {
    this.#assertOpen()
    return await this.#subs.objects.get(uid) as StoredObject | undefined
  }

  async holds (uids: readonly string[]): Promise<boolean[]> {
    this.#assertOpen()
    const last = this.#inflight !== undefined && !this.#inflight.settled ? this.#inflight : undefined
    return await holdsThrough(uids, (uid) => last !== undefined ? last.peek(uid) : NOT_KNOWN, async (rest) => await this.hasObjects(rest))
  }

  /** which of these uids have a committed record (tombstones count); read as text, since only presence matters */
  async hasObjects (uids: readonly string[]): Promise<boolean[]> {
    const texts: Array<string | undefined> = await this.#subs.objects.getMany(uids as string[], { valueEncoding: 'utf8' })
    return texts.map((t) => t !== undefined)
  }

  async getObjects (uids: readonly string[]): Promise<Array<StoredObject | undefined>> {
    this.#assertOpen()
    if (uids.length === 0) return []
    return await this.#subs.objects.getMany(uids as string[]) as Array<StoredObject | undefined>
  }

  async listObjects (options: { type?: string, after?: string, limit: number }): Promise<ListPage> {
    this.#assertOpen()
    return await listObjectsPage(this.#subs, this.#mem.typeIndex.cursor === undefined, async (uids) => await this.getObjects(uids), options)
  }

  async finishBulkLoad (onProgress?: (done: number, total: number) => void): Promise<number> {
    this.#building ??= this.#buildTypeIndex(onProgress).finally(() => { this.#building = undefined })
    return await this.#building
  }

  async #buildTypeIndex (onProgress?: (done: number, total: number) => void): Promise<number> {
    let done = 0
    while (this.#open && this.#mem.typeIndex.cursor !== undefined) {
      // one chunk between two writes: nothing lands while it reads, and the next write sees the new cursor
      await this.readBetweenWrites(async () => {
        const cursor = this.#mem.typeIndex.cursor
        if (cursor === undefined) return
        const chunk = await nextChunk(this.#subs, cursor, META_KEYS.typeIndex, this.#options.typeIndexChunk)
        try {
          await writeBatch(this.#db, chunk.ops)
        } catch (err) {
          this.#damaged = true
          throw new StoreWriteError(`the store could not write its type index (${(err as Error).message}): it resumes at the next pull; check free disk space and permissions on ${this.#options.location}`, { cause: err })
        }
        this.#mem.typeIndex = { cursor: chunk.cursor }
        done += chunk.objects
      })
      onProgress?.(done, this.#mem.objectCount)
    }
    return done
  }

  async readFeed (since: number, limit: number): Promise<FeedPage> {
    this.#assertOpen()
    return await readFeedPage(this.#subs, since, limit)
  }

  async countFeed (after: number, upTo?: number): Promise<number> {
    this.#assertOpen()
    return await countFeedRows(this.#subs, after, upTo)
  }

  async getCheckpoint (peerId: string): Promise<Checkpoint | undefined> {
    this.#assertOpen()
    // Read through a cache: a pull reads the checkpoint in every batch it
    // applies, and only a committed transaction changes it (see write()).
    if (this.#mem.checkpointCache.has(peerId)) return this.#mem.checkpointCache.get(peerId)
    const checkpoint = await this.#subs.checkpoints.get(peerId) as Checkpoint | undefined
    if (!this.#mem.checkpointCache.has(peerId)) this.#mem.checkpointCache.set(peerId, checkpoint)
    return this.#mem.checkpointCache.get(peerId)
  }

  async listCheckpoints (): Promise<Array<{ peerId: string, checkpoint: Checkpoint }>> {
    this.#assertOpen()
    const rows: Array<[string, Checkpoint]> = await this.#subs.checkpoints.iterator().all()
    return rows.map(([peerId, checkpoint]) => ({ peerId, checkpoint }))
  }

  async listConflicts (options: { limit?: number, after?: string } = {}): Promise<StoredObject[]> {
    this.#assertOpen()
    return await listConflictRecords(this.#subs, async (uids) => await this.getObjects(uids), options)
  }

  async getFailed (uid: string): Promise<FailedEntry | undefined> {
    this.#assertOpen()
    return await this.#subs.failed.get(uid) as FailedEntry | undefined
  }

  async listFailed (options: { limit?: number, after?: string } = {}): Promise<FailedEntry[]> {
    this.#assertOpen()
    const range = options.after !== undefined ? { gt: options.after } : {}
    return await this.#subs.failed.values({ ...range, limit: options.limit ?? 1000 }).all()
  }

  async getAux<T = unknown> (space: string, key: string): Promise<T | undefined> {
    this.#assertOpen()
    return await this.#subs.aux.get(auxKey(space, key)) as T | undefined
  }

  async getHistory (uid: string): Promise<HistoryEntry[] | undefined> {
    this.#assertOpen()
    return await this.#subs.history.get(uid) as HistoryEntry[] | undefined
  }

  async getPastVersions (uid: string): Promise<PastVersion[]> {
    this.#assertOpen()
    return inPastOrder((await this.getPastSlots(uid)).values())
  }

  async * iterateAux<T = unknown> (space: string): AsyncIterable<[string, T]> {
    this.#assertOpen()
    yield * iterateAuxRows<T>(this.#subs, space)
  }

  async blobReferrers (hash: string, options: { limit?: number, after?: string } = {}): Promise<string[]> {
    this.#assertOpen()
    return await blobReferrerUids(this.#subs, hash, options)
  }

  failedByPeer (): Map<string, number> {
    return this.#mem.failedByPeer()
  }

  conflictsByPeer (): Map<string, number> {
    return this.#mem.conflictsByPeer()
  }

  async openSnapshot (): Promise<StoreSnapshot> {
    this.#assertOpen()
    return await openStoreSnapshot(this.#db)
  }

  onCommit (listener: (event: CommitEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  async write<T> (fn: (tx: WriteTx) => Promise<T> | T, options: WriteOptions = {}): Promise<T> {
    if (!this.#open) throw new StoreClosedError()
    let committed: Promise<T> | undefined
    // The chain serialises the transactions' functions; commits follow in
    // the same order, each after its base's (#commitAfter).
    const prepare = async (): Promise<void> => {
      if (!this.#open) throw new StoreClosedError()
      const base = this.#inflight !== undefined && !this.#inflight.settled ? this.#inflight : undefined
      if (base === undefined && this.#damaged) await this.#recover()
      const tx = new LevelWriteTx(this, this.#mem.head, base, options.source)
      const result = await fn(tx)
      tx.finishDigest()
      if (tx.ops.length === 0) {
        // nothing to write, but what it read may rest on its base's writes
        committed = base !== undefined ? this.#commitAfter(base, undefined, options).then(() => result) : Promise.resolve(result)
        options.onPrepared?.()
        return
      }
      tx.committed = this.#commitAfter(base, tx, options).finally(() => { tx.settled = true })
      this.#inflight = tx
      committed = tx.committed.then(() => result)
      options.onPrepared?.()
    }
    const prepared = this.#writeChain.then(prepare, prepare)
    this.#writeChain = prepared.catch(() => {})
    await prepared
    return await committed!
  }

  /**
   * Commit `tx` once its base (the transaction it was built on) is settled:
   * if the base failed, `tx` read what never landed and fails too, writing
   * nothing. `tx` undefined: only wait for the base.
   */
  async #commitAfter (base: LevelWriteTx | undefined, tx: LevelWriteTx | undefined, options: WriteOptions): Promise<void> {
    if (base !== undefined) {
      try {
        await base.committed
      } catch (err) {
        throw new StoreWriteError(`a write was built on an earlier one that failed (${(err as Error).message}): nothing from it was applied; try again`, { cause: err })
      }
    }
    if (tx === undefined) return
    const head = tx.nextSeq - 1
    // counters as of the base's commit, which has landed by now
    tx.ops.push({ type: 'put', sublevel: this.#subs.meta, key: META_KEYS.head, value: head })
    if (tx.objectDelta !== 0) tx.ops.push({ type: 'put', sublevel: this.#subs.meta, key: META_KEYS.objects, value: this.#mem.objectCount + tx.objectDelta })
    // rows were skipped: the batch says where the index stands (a build may then resume from it)
    try {
      await writeBatch(this.#db, tx.ops)
    } catch (err) {
      this.#damaged = true
      throw new StoreWriteError(`the store could not commit a write (${(err as Error).message}): nothing from it was applied; check free disk space and permissions on ${this.#options.location}`, { cause: err })
    }
    this.#mem.applyCommit(tx, head)
    const event: CommitEvent = { head, changed: tx.changed, moved: tx.moved, source: options.source, conflictsAdded: tx.conflictsAdded }
    for (const listener of this.#listeners) listener(event)
  }

  /** wait until no batch is being written (whatever their outcome) */
  async #quiesce (): Promise<void> {
    const last = this.#inflight
    if (last !== undefined && !last.settled) await last.committed?.catch(() => {})
  }

  async readBetweenWrites<T> (fn: () => Promise<T>): Promise<T> {
    this.#assertOpen()
    // a link of the write chain that writes nothing: commits wait for it,
    // and it waits for every batch already being written
    const run = async (): Promise<T> => {
      await this.#quiesce()
      return await fn()
    }
    const next = this.#writeChain.then(run, run)
    this.#writeChain = next.catch(() => {})
    return await next
  }

  /**
   * A failed write (disk full, read-only directory) can leave a torn record
   * at the end of LevelDB's log. LevelDB goes on appending after it, and the
   * next open's recovery then drops what follows the tear: writes made and
   * acknowledged after the fault was gone vanished at the next restart. So
   * before the next write the database is closed and opened again: recovery
   * discards the torn record now, new writes go to a fresh log, and the
   * counters are reloaded from what is really on disk. While that fails the
   * fault is still there, and writes keep failing with a clear message.
   */
  async #recover (): Promise<void> {
    try {
      await this.#db.close()
      await this.#db.open()
      // sublevels close with their database but do not reopen with it
      await Promise.all(Object.values(this.#subs).map(async (sub) => await sub.open()))
      this.#mem.clearIndexes()
      await loadMeta(this.#db, this.#subs, this.#options, this.#schema, this.#mem)
    } catch (err) {
      this.#unavailable = new StoreWriteError(`the store at ${this.#options.location} cannot recover from its last failed write yet (${(err as Error).message}): free disk space or restore write permission there; it resumes once it can`, { cause: err })
      throw this.#unavailable
    }
    this.#damaged = false
    this.#unavailable = undefined
  }

  #assertOpen (): void {
    if (!this.#open) throw new StoreClosedError()
    if (this.#unavailable !== undefined && this.#db.status !== 'open') {
      // reads too bring the store back once the fault is gone (a serve-only agent may never write)
      this.#queueRecovery()
      throw this.#unavailable
    }
  }

  #queueRecovery (): void {
    if (this.#recoveryQueued) return
    this.#recoveryQueued = true
    const run = async (): Promise<void> => {
      this.#recoveryQueued = false
      await this.#quiesce()
      if (this.#open && this.#damaged) await this.#recover()
    }
    this.#writeChain = this.#writeChain.then(run, run).catch(() => {})
  }

  // ---- accessors for the transaction (TxHost, not part of Store) ----
  isFailed (uid: string): boolean {
    return this.#mem.failedPeer.has(uid)
  }

  async getHistoryTexts (uids: readonly string[]): Promise<Array<string | undefined>> {
    return await this.#subs.history.getMany(uids as string[], { valueEncoding: 'utf8' }) as Array<string | undefined>
  }

  async getPastSlots (uid: string): Promise<Map<string, PastVersion>> {
    return await pastSlots(this.#subs, uid)
  }

  get pastVersions (): number {
    return this.historyVersions === 0 ? 0 : this.#options.pastVersions ?? PAST_VERSIONS_KEPT
  }

  get historyVersions (): number {
    return this.#options.historyVersions ?? DEFAULT_HISTORY_VERSIONS
  }

  get domain (): string {
    return this.#options.domain
  }

  now (): number {
    return (this.#options.now ?? Date.now)()
  }

  get subs (): Sublevels {
    return this.#subs
  }

  digestAggregate (group: string): DigestAggregate | undefined {
    return this.#mem.digestMirror.get(group)
  }

  async getTypeRow (key: string): Promise<string | undefined> {
    return await this.#subs.types.get(key) as string | undefined
  }

  async getTypeRows (keys: readonly string[]): Promise<Array<string | undefined>> {
    return await this.#subs.types.getMany(keys as string[]) as Array<string | undefined>
  }
}

