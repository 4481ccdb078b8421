/**
 * The LevelDB store (`level` 10 → classic-level on Node). Layout in keys.ts.
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
import { randomBytes } from 'node:crypto'
import type { Level } from 'level'
import { StoreClosedError, StoreLockedError, StoreSchemaTooNewError, StoreWriteError } from './errors.js'
import { META_KEYS, auxKey, blobRefRange, parseSeqKey, seqKey, typeKey, pastRange } from './keys.js'
import type {
  Checkpoint, CommitEvent, FailedEntry, FeedPage, ListPage, Store, StoreDigest, StoreInfo, StoredObject, WriteOptions, WriteTx
} from './types.js'
import { lockHolder, openLevel, writeBatch, type LevelStoreOptions, type Sublevels } from './level-db.js'
import { LevelWriteTx, NOT_KNOWN, type TxHost } from './level-write-tx.js'
import { nextChunk, scanType, type TypeIndexState } from './type-index.js'
import { AgentError } from '../protocol/errors.js'
import { DigestKeys } from './digest-rows.js'
import { DigestMirror } from './digest-mirror.js'
import { createDigestView } from './digest-view.js'
import type { DigestAggregate } from '../protocol/digest.js'
import { UPGRADE_STEPS, latestSchema, runUpgrades } from './upgrades/index.js'
import { DEFAULT_HISTORY_VERSIONS } from '../protocol/constants.js'
import type { HistoryEntry } from './history.js'
import { inPastOrder, PAST_VERSIONS_KEPT, type PastVersion } from './past-versions.js'
import { openStoreSnapshot, type StoreSnapshot } from './backup/snapshot.js'

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
  #epoch = ''
  #head = 0
  #objectCount = 0
  /** the last transaction given a batch to commit; the next one is built on it while it is unsettled */
  #inflight: LevelWriteTx | undefined
  /** committed checkpoints by peer ID (undefined: known to have none) */
  readonly #checkpointCache = new Map<string, Checkpoint | undefined>()
  /** uid → peers whose batches brought its conflict siblings (the `x` index, in memory) */
  readonly #conflictVia = new Map<string, readonly string[]>()
  /** uid → the peer its parked version came from (the failed queue's keys, in memory) */
  readonly #failedPeer = new Map<string, string>()
  /** a write failed: LevelDB's log may end in a torn record (see #recover) */
  #damaged = false
  /** why the store cannot be read right now: its recovery failed and the database is closed */
  #unavailable: StoreWriteError | undefined
  #recoveryQueued = false
  /** where the type index stands (type-index.ts); cursor undefined: complete */
  #typeIndex: TypeIndexState = { cursor: undefined }
  /** the type index build running now (finishBulkLoad) */
  #building: Promise<number> | undefined

  /** the schema this store is brought to at open: the last upgrade step's */
  readonly #schema: number
  /** the digest's aggregate rows as committed */
  readonly #digestMirror = new DigestMirror()
  readonly digestKeys = new DigestKeys()
  readonly digest: StoreDigest

  constructor (options: LevelStoreOptions) {
    if ((options.bulkLoad as boolean | undefined) === true) throw new AgentError('BAD_REQUEST', 'bulkLoad is not available: the type-index rows carry the anti-entropy digest\'s leaves, which a deferred build does not write; leave the option out')
    this.#options = options
    this.#schema = latestSchema(options.upgradeSteps ?? UPGRADE_STEPS)
    this.digest = createDigestView({
      subs: () => this.#subs,
      snapshot: () => this.#db.snapshot(),
      mirror: this.#digestMirror,
      objects: () => this.#objectCount,
      assertOpen: () => this.#assertOpen(),
      readBetweenWrites: async (fn) => await this.readBetweenWrites(fn)
    })
  }

  #attach (): void {
    const { db, subs } = openLevel(this.#options)
    this.#db = db
    this.#subs = subs
  }

  async open (): Promise<void> {
    if (this.#open) return
    // Already open in this very process: refuse before LevelDB does. LevelDB's
    // refusal closes its own descriptor of LOCK, and POSIX then drops every
    // fcntl lock this process holds on that file: the store that is open here
    // would lose its protection against other processes.
    const holder = await lockHolder(this.#options.location)
    if (holder === process.pid) throw new StoreLockedError(this.#options.location, { holder })
    this.#attach()
    try {
      await this.#db.open()
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(this.#options.location, { cause: err, holder: await lockHolder(this.#options.location) })
      throw new StoreWriteError(`cannot open the store at ${this.#options.location}: ${(err as Error).message}${cause !== undefined ? ` (${String((cause as Error).message ?? cause.code)})` : ''}: check that the directory exists and is writable (it is <dataDir>/store; dataDir is set in the config)`, { cause: err })
    }
    try {
      await this.#loadMeta()
    } catch (err) {
      await this.#db.close().catch(() => {})
      throw err
    }
    this.#open = true
  }

  async #loadMeta (): Promise<void> {
    const [epoch, domain, schema, head, objects, typeIndex] = await this.#subs.meta.getMany([
      META_KEYS.epoch, META_KEYS.domain, META_KEYS.schema, META_KEYS.head, META_KEYS.objects, META_KEYS.typeIndex
    ]) as [string | undefined, string | undefined, number | undefined, number | undefined, number | undefined, { cursor: string } | undefined]
    this.#typeIndex = { cursor: typeIndex?.cursor }
    if (epoch === undefined) {
      // A new store: a fresh random epoch tells every remote that any
      // checkpoint it holds for us belongs to a feed that no longer exists.
      this.#epoch = randomBytes(8).toString('hex')
      await this.#subs.meta.batch([
        { type: 'put', key: META_KEYS.epoch, value: this.#epoch },
        { type: 'put', key: META_KEYS.domain, value: this.#options.domain },
        { type: 'put', key: META_KEYS.schema, value: this.#schema },
        { type: 'put', key: META_KEYS.head, value: 0 },
        { type: 'put', key: META_KEYS.objects, value: 0 }
      ])
      await this.#digestMirror.load(this.#subs.digest)
      return
    }
    if (domain !== this.#options.domain) {
      throw new StoreWriteError(`the store at ${this.#options.location} belongs to domain "${String(domain)}", not "${this.#options.domain}": use that domain in the config, or point dataDir at a new directory`)
    }
    // a store without the row predates schema versions: schema 1
    const stored = schema ?? 1
    if (stored > this.#schema) throw new StoreSchemaTooNewError(this.#options.location, stored, this.#schema)
    if (stored < this.#schema) {
      await runUpgrades({
        db: this.#db,
        subs: this.#subs,
        location: this.#options.location,
        steps: this.#options.upgradeSteps ?? UPGRADE_STEPS,
        schema: stored,
        onProgress: this.#options.onUpgradeProgress
      })
    }
    this.#epoch = epoch
    this.#head = head ?? 0
    this.#objectCount = objects ?? 0
    for await (const [uid, via] of this.#subs.conflicts.iterator()) this.#conflictVia.set(uid as string, Array.isArray(via) ? via as string[] : [])
    for await (const [uid, entry] of this.#subs.failed.iterator()) this.#failedPeer.set(uid as string, (entry as FailedEntry).peer)
    await this.#digestMirror.load(this.#subs.digest)
  }

  async close (): Promise<void> {
    if (!this.#open) return
    this.#open = false
    await this.#writeChain.catch(() => {})
    await this.#quiesce()
    await this.#db.close()
  }

  info (): StoreInfo {
    return {
      epoch: this.#epoch,
      domain: this.#options.domain,
      head: this.#head,
      objects: this.#objectCount,
      conflicts: this.#conflictVia.size,
      failed: this.#failedPeer.size
    }
  }

  async getObject (uid: string): Promise<StoredObject | undefined> {
    this.#assertOpen()
    return await this.#subs.objects.get(uid) as StoredObject | undefined
  }

  async holds (uids: readonly string[]): Promise<boolean[]> {
    this.#assertOpen()
    const out: boolean[] = new Array<boolean>(uids.length).fill(false)
    const last = this.#inflight !== undefined && !this.#inflight.settled ? this.#inflight : undefined
    const unknown: number[] = []
    for (let i = 0; i < uids.length; i++) {
      const known = last !== undefined ? last.peek(uids[i]!) : NOT_KNOWN
      if (known === NOT_KNOWN) unknown.push(i)
      else out[i] = known !== undefined
    }
    if (unknown.length > 0) {
      const present = await this.hasObjects(unknown.map((i) => uids[i]!))
      for (let j = 0; j < unknown.length; j++) out[unknown[j]!] = present[j]!
    }
    return out
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
    const limit = Math.max(1, options.limit)
    let items: StoredObject[]
    if (options.type !== undefined && this.#typeIndex.cursor !== undefined) {
      items = await scanType(this.#subs, options.type, options.after, limit + 1)
    } else if (options.type !== undefined) {
      const range = options.after !== undefined
        ? { gt: typeKey(options.type, options.after) }
        : { gte: typeKey(options.type, '') }
      const keys: string[] = await this.#subs.types.keys({ ...range, lt: `${options.type}\x01`, limit: limit + 1 }).all()
      const uids = keys.map((k) => k.slice(options.type!.length + 1))
      items = (await this.getObjects(uids)).filter((o): o is StoredObject => o !== undefined)
    } else {
      const range = options.after !== undefined ? { gt: options.after } : {}
      items = await this.#subs.objects.values({ ...range, limit: limit + 1 }).all()
    }
    const more = items.length > limit
    if (more) items = items.slice(0, limit)
    return { items, next: more ? (items[items.length - 1]?.uid ?? null) : null }
  }


  async finishBulkLoad (onProgress?: (done: number, total: number) => void): Promise<number> {
    this.#building ??= this.#buildTypeIndex(onProgress).finally(() => { this.#building = undefined })
    return await this.#building
  }

  async #buildTypeIndex (onProgress?: (done: number, total: number) => void): Promise<number> {
    let done = 0
    while (this.#open && this.#typeIndex.cursor !== undefined) {
      // one chunk between two writes: nothing lands while it reads, and the next write sees the new cursor
      await this.readBetweenWrites(async () => {
        const cursor = this.#typeIndex.cursor
        if (cursor === undefined) return
        const chunk = await nextChunk(this.#subs, cursor, META_KEYS.typeIndex, this.#options.typeIndexChunk)
        try {
          await writeBatch(this.#db, chunk.ops)
        } catch (err) {
          this.#damaged = true
          throw new StoreWriteError(`the store could not write its type index (${(err as Error).message}): it resumes at the next pull; check free disk space and permissions on ${this.#options.location}`, { cause: err })
        }
        this.#typeIndex = { cursor: chunk.cursor }
        done += chunk.objects
      })
      onProgress?.(done, this.#objectCount)
    }
    return done
  }

  async readFeed (since: number, limit: number): Promise<FeedPage> {
    this.#assertOpen()
    const rows: Array<[string, string]> = await this.#subs.feed.iterator({ gt: seqKey(since), limit: limit + 1 }).all()
    const more = rows.length > limit
    const page = more ? rows.slice(0, limit) : rows
    // the records' text as stored: a serve session need not parse them
    const texts: Array<string | undefined> = page.length > 0 ? await this.#subs.objects.getMany(page.map(([, uid]) => uid), { valueEncoding: 'utf8' }) : []
    const entries = []
    for (let i = 0; i < page.length; i++) {
      const json = texts[i]
      // A row whose object moved on between the two reads is skipped here: the
      // object reappears at its newer position further along the feed.
      if (json !== undefined) entries.push({ seq: parseSeqKey((page[i] as [string, string])[0]), json })
    }
    const lastRow = page[page.length - 1]
    return { entries, lastSeq: lastRow !== undefined ? parseSeqKey(lastRow[0]) : since, more }
  }

  async countFeed (after: number, upTo?: number): Promise<number> {
    this.#assertOpen()
    const range = upTo !== undefined ? { gt: seqKey(after), lte: seqKey(upTo) } : { gt: seqKey(after) }
    let n = 0
    for await (const _ of this.#subs.feed.keys(range)) n++ // eslint-disable-line @typescript-eslint/no-unused-vars
    return n
  }

  async getCheckpoint (peerId: string): Promise<Checkpoint | undefined> {
    this.#assertOpen()
    // Read through a cache: a pull reads the checkpoint in every batch it
    // applies, and only a committed transaction changes it (see write()).
    if (this.#checkpointCache.has(peerId)) return this.#checkpointCache.get(peerId)
    const checkpoint = await this.#subs.checkpoints.get(peerId) as Checkpoint | undefined
    if (!this.#checkpointCache.has(peerId)) this.#checkpointCache.set(peerId, checkpoint)
    return this.#checkpointCache.get(peerId)
  }

  async listCheckpoints (): Promise<Array<{ peerId: string, checkpoint: Checkpoint }>> {
    this.#assertOpen()
    const rows: Array<[string, Checkpoint]> = await this.#subs.checkpoints.iterator().all()
    return rows.map(([peerId, checkpoint]) => ({ peerId, checkpoint }))
  }

  async listConflicts (options: { limit?: number, after?: string } = {}): Promise<StoredObject[]> {
    this.#assertOpen()
    const range = options.after !== undefined ? { gt: options.after } : {}
    const uids: string[] = await this.#subs.conflicts.keys({ ...range, limit: options.limit ?? 1000 }).all()
    return (await this.getObjects(uids)).filter((o): o is StoredObject => o !== undefined && o.conflicts.length > 0)
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
    const prefix = auxKey(space, '')
    for await (const [key, value] of this.#subs.aux.iterator({ gte: prefix, lt: `${space}\x01` })) {
      yield [(key as string).slice(prefix.length), value as T]
    }
  }

  async blobReferrers (hash: string, options: { limit?: number, after?: string } = {}): Promise<string[]> {
    this.#assertOpen()
    const range = blobRefRange(hash)
    const keys: string[] = await this.#subs.blobRefs.keys({ ...range, ...(options.after !== undefined ? { gt: `${hash}\x00${options.after}` } : {}), limit: options.limit ?? 1000 }).all()
    return keys.map((k) => k.slice(hash.length + 1))
  }

  failedByPeer (): Map<string, number> {
    const out = new Map<string, number>()
    for (const peer of this.#failedPeer.values()) out.set(peer, (out.get(peer) ?? 0) + 1)
    return out
  }

  conflictsByPeer (): Map<string, number> {
    const out = new Map<string, number>()
    for (const via of this.#conflictVia.values()) for (const peer of via) out.set(peer, (out.get(peer) ?? 0) + 1)
    return out
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
      const tx = new LevelWriteTx(this, this.#head, base, options.source)
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
    if (tx.objectDelta !== 0) tx.ops.push({ type: 'put', sublevel: this.#subs.meta, key: META_KEYS.objects, value: this.#objectCount + tx.objectDelta })
    // rows were skipped: the batch says where the index stands (a build may then resume from it)
    try {
      await writeBatch(this.#db, tx.ops)
    } catch (err) {
      this.#damaged = true
      throw new StoreWriteError(`the store could not commit a write (${(err as Error).message}): nothing from it was applied; check free disk space and permissions on ${this.#options.location}`, { cause: err })
    }
    this.#head = head
    this.#objectCount += tx.objectDelta
    this.#digestMirror.apply(tx.digest.values)
    for (const [uid, via] of tx.conflictChanges) {
      if (via === undefined) this.#conflictVia.delete(uid)
      else this.#conflictVia.set(uid, via)
    }
    for (const [peerId, checkpoint] of tx.checkpointChanges) this.#checkpointCache.set(peerId, checkpoint)
    for (const [uid, peer] of tx.failedChanges) {
      if (peer !== undefined) this.#failedPeer.set(uid, peer)
      else this.#failedPeer.delete(uid)
    }
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
      this.#conflictVia.clear()
      this.#failedPeer.clear()
      this.#checkpointCache.clear()
      await this.#loadMeta()
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
    return this.#failedPeer.has(uid)
  }

  async getHistoryTexts (uids: readonly string[]): Promise<Array<string | undefined>> {
    return await this.#subs.history.getMany(uids as string[], { valueEncoding: 'utf8' }) as Array<string | undefined>
  }

  async getPastSlots (uid: string): Promise<Map<string, PastVersion>> {
    const rows: Array<[string, PastVersion]> = await this.#subs.past.iterator(pastRange(uid)).all()
    return new Map(rows)
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
    return this.#digestMirror.get(group)
  }

  async getTypeRow (key: string): Promise<string | undefined> {
    return await this.#subs.types.get(key) as string | undefined
  }

  async getTypeRows (keys: readonly string[]): Promise<Array<string | undefined>> {
    return await this.#subs.types.getMany(keys as string[]) as Array<string | undefined>
  }
}

