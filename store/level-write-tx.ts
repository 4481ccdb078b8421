/**
 * One write transaction of the LevelDB store (level-store.ts): objects and
 * the rows derived from them (feed, type index with the digest's leaves,
 * conflicts, blob references, history, past versions). Reads see the store
 * plus this transaction's own writes; every write becomes an operation of
 * the ONE `batch()` the store commits when the transaction's function
 * resolves — the side rows (checkpoints, failed queue, aux; tx-side-rows.ts,
 * which this class extends) write into the same `ops`. Memory-side effects
 * (counters, failed uids, checkpoints) are collected here and applied by the
 * store only after that batch committed (level-memory.ts). What a
 * transaction reads of its store: tx-host.ts; the record it puts:
 * record-text.ts.
 *
 * A transaction may be built on another whose batch is still being written
 * (its `base`): it then reads through the base's writes, down the chain of
 * bases not yet settled, and the store commits it only after its base.
 *
 * The digest (verify) rides on the type-index row: putObject writes each
 * record's leaf as that row's value and hands `digest` (digest-tx.ts) the
 * old leaf (the row's value as read with the record, not recomputed) and
 * the new one; the store calls finishDigest() once the
 * transaction's function has resolved, which adds the groups' aggregate rows.
 */
import type { DigestAggregate } from '../protocol/digest.js'
import { groupOfTypeRow, leafHashOf, recordDigest, type DigestKeys } from './digest-rows.js'
import { DigestWrites } from './digest-tx.js'
import { blobIndexChange, recordBlobHashes } from './blob-index.js'
import { blobRefRange, seqKey, pastKey, typeKey } from './keys.js'
import { entriesForWrite, type HistoryEntry } from './history.js'
import { appendEntriesText } from './history-text.js'
import { inPastOrder, pastWrite, type PastVersion } from './past-versions.js'
import type { ObjectWrite, PutLimits, StoredObject, WriteTx } from './types.js'
import { storedRecord } from './record-text.js'
import { NOT_KNOWN, holdsThrough, type TxHost } from './tx-host.js'
import { TxSideRows } from './tx-side-rows.js'
export type { BatchOp, Sub } from './sublevels.js'
export { storeLocalBytes } from './record-text.js'
export { NOT_KNOWN, type TxHost } from './tx-host.js'

export class LevelWriteTx extends TxSideRows implements WriteTx {
  nextSeq: number
  objectDelta = 0
  /** conflict index changes of this tx: uid → peers, or undefined when the conflict is gone */
  readonly conflictChanges = new Map<string, readonly string[] | undefined>()
  changed = 0
  /** feed seqs deleted by this tx (old positions of replaced objects) */
  readonly moved: number[] = []
  conflictsAdded = 0
  /** this transaction's digest rows (leaves as it goes, aggregates at finishDigest) */
  readonly digest: DigestWrites
  readonly #store: TxHost
  readonly #known = new Map<string, StoredObject | undefined>()
  /** blob references this tx added (true) or removed (false): hash → uid → referenced */
  readonly #blobRefs = new Map<string, Map<string, boolean>>()
  /** history rows read or written by this tx, as text (undefined: the object has none) */
  readonly #historyKnown = new Map<string, string | undefined>()
  /**
   * committed type-index rows (leaves) of the records this tx read, by row
   * key: an update takes its old leaf out of the digest from here instead
   * of serialising and hashing the old record again
   */
  readonly #leavesRead = new Map<string, string | undefined>()
  /** past-version rows written by this tx: uid → key → version */
  readonly #pastWritten = new Map<string, Map<string, PastVersion>>()
  /** the peer whose batch this tx applies (undefined: a local write) */
  readonly #source: string | undefined
  /** the transaction this one is built on, while its batch is not settled */
  #base: LevelWriteTx | undefined
  /** set by the store once this tx's batch is committed or has failed: successors read the store, not it */
  settled = false
  /** set by the store: resolves when this tx's batch has committed, rejects if it failed */
  committed: Promise<void> | undefined

  /** `head`: the store's committed head; ignored when built on `base`; `source`: the peer whose batch it applies */
  constructor (store: TxHost, head: number, base?: LevelWriteTx, source?: string) {
    super(store)
    this.#store = store
    this.#source = source
    this.#base = base !== undefined && !base.settled ? base : undefined
    this.nextSeq = this.#base !== undefined ? this.#base.nextSeq : head + 1
    this.digest = new DigestWrites(this.ops, store.subs.digest)
  }

  /** the unsettled base, dropping it once settled (so the chain can be collected) */
  #liveBase (): LevelWriteTx | undefined {
    if (this.#base?.settled === true) this.#base = undefined
    return this.#base
  }

  protected sideBase (): TxSideRows | undefined {
    return this.#liveBase()
  }

  /** what this tx or an unsettled base knows of `uid` (read or written), else NOT_KNOWN */
  peek (uid: string): StoredObject | undefined | typeof NOT_KNOWN {
    if (this.#known.has(uid)) return this.#known.get(uid)
    const base = this.#liveBase()
    return base !== undefined ? base.peek(uid) : NOT_KNOWN
  }

  #peekHistory (uid: string): string | undefined | typeof NOT_KNOWN {
    if (this.#historyKnown.has(uid)) return this.#historyKnown.get(uid)
    const base = this.#liveBase()
    return base !== undefined ? base.#peekHistory(uid) : NOT_KNOWN
  }

  /** the past-version rows of `uid` written by the unsettled bases and this tx, onto `into` (later writes win) */
  #overlayPast (uid: string, into: Map<string, PastVersion>): void {
    const base = this.#liveBase()
    if (base !== undefined) base.#overlayPast(uid, into)
    for (const [key, version] of this.#pastWritten.get(uid) ?? []) into.set(key, version)
  }

  async get (uid: string): Promise<StoredObject | undefined> {
    return (await this.getMany([uid]))[0]
  }

  async getMany (uids: readonly string[]): Promise<Array<StoredObject | undefined>> {
    let unique: Set<string> | undefined
    const base = this.#liveBase()
    for (const u of uids) {
      if (this.#known.has(u)) continue
      const inBase = base !== undefined ? base.peek(u) : NOT_KNOWN
      if (inBase !== NOT_KNOWN) this.#known.set(u, inBase)
      else (unique ??= new Set()).add(u)
    }
    if (unique !== undefined) {
      const keys = [...unique]
      const found = await this.#store.getObjects(keys)
      for (let i = 0; i < keys.length; i++) this.#known.set(keys[i]!, found[i])
      await Promise.all([this.#readHistory(keys, found), this.#readLeaves(found)])
      // the common case (one read of distinct uids): the answer is `found` itself
      if (keys.length === uids.length) return found
    }
    return uids.map((u) => this.#known.get(u))
  }

  /**
   * Read the history rows of the objects just read that can have one (held,
   * or parked: a refused version leaves an entry), so that putObject, which
   * is synchronous, can append to them. A uid new here has no row: an
   * initial sync reads none.
   */
  async #readHistory (keys: readonly string[], found: ReadonlyArray<StoredObject | undefined>): Promise<void> {
    if (this.#store.historyVersions === 0) return
    let wanted: string[] | undefined
    for (let i = 0; i < keys.length; i++) {
      if (found[i] !== undefined || this.#store.isFailed(keys[i]!)) (wanted ??= []).push(keys[i]!)
    }
    if (wanted === undefined) return
    const rows = await this.#store.getHistoryTexts(wanted)
    for (let i = 0; i < wanted.length; i++) this.#historyKnown.set(wanted[i]!, rows[i])
  }

  /** Read the leaves of the records just read (an initial sync reads none: it finds no records). */
  async #readLeaves (found: ReadonlyArray<StoredObject | undefined>): Promise<void> {
    let wanted: string[] | undefined
    for (const record of found) if (record !== undefined) (wanted ??= []).push(typeKey(record.type, record.uid))
    if (wanted === undefined) return
    const rows = await this.#store.getTypeRows(wanted)
    for (let i = 0; i < wanted.length; i++) this.#leavesRead.set(wanted[i]!, rows[i])
  }

  /**
   * The leaf `prev` counts with in its group's aggregate: its type-index row
   * as this tx sees it — its own or an unsettled base's write, else the row
   * read with the record — which is the leaf putObject computed when it
   * wrote `prev`. Only a row of no leaf (never expected after the digest's
   * upgrade) is computed from the record's fields again.
   */
  #oldLeaf (prev: StoredObject, keys: DigestKeys): { group: string, hash: string, typeRowKey: string } {
    const key = typeKey(prev.type, prev.uid)
    let value: string | undefined
    // newest first: a tx's own writes, then what it read before them, then its base's
    for (let tx: LevelWriteTx | undefined = this; tx !== undefined; tx = tx.#liveBase()) {
      const rows = tx.digest.rows.has(key) ? tx.digest.rows : tx.#leavesRead.has(key) ? tx.#leavesRead : undefined
      if (rows !== undefined) { value = rows.get(key); break }
    }
    const group = value !== undefined ? groupOfTypeRow(key, value, keys) : undefined
    if (group !== undefined) return { group, hash: leafHashOf(value!), typeRowKey: key }
    return recordDigest(prev, undefined, keys)
  }

  async getPastVersions (uid: string): Promise<readonly PastVersion[]> {
    // the overlay first: a base that settles while the store is read has
    // committed before it settled, but maybe after the read began
    const written = new Map<string, PastVersion>()
    this.#overlayPast(uid, written)
    const slots = await this.#store.getPastSlots(uid)
    for (const [key, version] of written) slots.set(key, version)
    return inPastOrder(slots.values())
  }

  async holds (uids: readonly string[]): Promise<boolean[]> {
    return await holdsThrough(uids, (uid) => this.peek(uid), async (rest) => await this.#store.hasObjects(rest))
  }

  putObject (object: ObjectWrite, limits?: PutLimits): StoredObject {
    if (!this.#known.has(object.uid)) throw new Error(`putObject(${object.uid}) before reading it in this transaction`)
    const prev = this.#known.get(object.uid)
    const { subs } = this.#store
    const seq = this.nextSeq
    // built and measured before anything is written: a record too large leaves the tx as it was
    const { stored, text } = storedRecord(object, seq, limits)
    this.nextSeq++
    const keys = this.#store.digestKeys
    const digest = recordDigest(stored, text, keys, true)
    if (prev !== undefined) {
      this.ops.push({ type: 'del', sublevel: subs.feed, key: seqKey(prev.seq) })
      this.moved.push(prev.seq)
      const old = this.#oldLeaf(prev, keys)
      this.digest.remove(old.group, old.hash)
      if (prev.type !== stored.type) {
        this.ops.push({ type: 'del', sublevel: subs.types, key: old.typeRowKey })
        this.digest.deleted(old.typeRowKey)
      }
    } else {
      this.objectDelta++
    }
    this.ops.push({ type: 'put', sublevel: subs.objects, key: stored.uid, value: stored, text })
    this.ops.push({ type: 'put', sublevel: subs.feed, key: seqKey(seq), value: stored.uid })
    // the type-index row carries the record's digest leaf (digest-rows.ts)
    this.ops.push({ type: 'put', sublevel: subs.types, key: digest.typeRowKey, value: digest.value, text: digest.value })
    this.digest.add(digest)
    const had = (prev?.conflicts.length ?? 0) > 0
    const has = stored.conflicts.length > 0
    if (has) {
      const via = stored.conflictVia ?? []
      this.ops.push({ type: 'put', sublevel: subs.conflicts, key: stored.uid, value: via })
      this.conflictChanges.set(stored.uid, via)
    } else if (had) {
      this.ops.push({ type: 'del', sublevel: subs.conflicts, key: stored.uid })
      this.conflictChanges.set(stored.uid, undefined)
    }
    if (stored.conflicts.length > (prev?.conflicts.length ?? 0)) this.conflictsAdded++
    this.#indexBlobs(stored, text, prev)
    this.appendHistory(stored.uid, entriesForWrite(prev, stored, { appliedAt: this.#store.now(), source: this.#source, domain: this.#store.domain }))
    this.#appendPast(prev, stored)
    this.#known.set(stored.uid, stored)
    this.changed++
    return stored
  }

  /** The blob reference index follows the record (store/blob-index.ts), in this same batch. */
  #indexBlobs (stored: StoredObject, text: string, prev: StoredObject | undefined): void {
    const after = recordBlobHashes(stored, text)
    const before = prev !== undefined ? recordBlobHashes(prev) : []
    const change = blobIndexChange(this.#store.subs, stored.uid, before, after, this.#store.now())
    if (change === undefined) return
    for (const op of change.ops) this.ops.push(op)
    for (const [hash, referenced] of change.refs) {
      let uids = this.#blobRefs.get(hash)
      if (uids === undefined) this.#blobRefs.set(hash, uids = new Map())
      uids.set(stored.uid, referenced)
    }
  }

  /**
   * Whether any object references `hash`, counting this transaction's writes
   * and those of the unsettled transactions it is built on. Their changes
   * are taken before the committed rows are read: one that commits in
   * between is then counted twice, which changes nothing (set semantics),
   * rather than not at all.
   */
  async blobReferenced (hash: string): Promise<boolean> {
    const layers: Array<Map<string, boolean>> = []
    for (let tx: LevelWriteTx | undefined = this; tx !== undefined; tx = tx.#liveBase()) {
      const uids = tx.#blobRefs.get(hash)
      if (uids !== undefined) layers.unshift(uids)
    }
    const removed = new Set<string>()
    const added = new Set<string>()
    for (const layer of layers) {
      for (const [uid, referenced] of layer) {
        if (referenced) { added.add(uid); removed.delete(uid) } else { removed.add(uid); added.delete(uid) }
      }
    }
    if (added.size > 0) return true
    // committed rows: enough of them to find one the pending changes did not remove
    const rows: string[] = await this.#store.subs.blobRefs.keys({ ...blobRefRange(hash), limit: removed.size + 1 }).all()
    return rows.some((key) => !removed.has(key.slice(hash.length + 1)))
  }

  /** When the last reference to `hash` went away (its orphan mark), if it has one. */
  async blobOrphanedAt (hash: string): Promise<number | undefined> {
    return await this.#store.subs.blobOrphans.get(hash) as number | undefined
  }

  /** Drop the orphan mark of a blob (garbage collection removed it, or it is referenced again). */
  forgetBlob (hash: string): void {
    this.ops.push({ type: 'del', sublevel: this.#store.subs.blobOrphans, key: hash })
  }

  appendHistory (uid: string, entries: readonly HistoryEntry[]): void {
    const keep = this.#store.historyVersions
    if (keep === 0 || entries.length === 0) return
    // not read (a uid new here, neither held nor parked): it has no row yet
    const known = this.#peekHistory(uid)
    const row = appendEntriesText(known === NOT_KNOWN ? undefined : known, entries, keep)
    this.ops.push({ type: 'put', sublevel: this.#store.subs.history, key: uid, value: row, text: row })
    this.#historyKnown.set(uid, row)
  }

  #appendPast (prev: StoredObject | undefined, stored: StoredObject): void {
    const write = pastWrite(prev, stored, this.#store.pastVersions)
    if (write === undefined) return
    const key = pastKey(stored.uid, write.slot)
    this.ops.push({ type: 'put', sublevel: this.#store.subs.past, key, value: write.version })
    let own = this.#pastWritten.get(stored.uid)
    if (own === undefined) this.#pastWritten.set(stored.uid, own = new Map())
    own.set(key, write.version)
  }

  /**
   * Make the digest agree with the record of `uid` again, after a write that
   * bypassed the store (found by a digest check): the leaf rows at
   * `staleKeys` (the check's) and at the record's own key go out, whatever
   * they hold, and the record's leaf comes in. Commits with this transaction.
   */
  async healDigest (uid: string, staleKeys: readonly string[]): Promise<void> {
    const keys = this.#store.digestKeys
    const record = await this.get(uid)
    const actual = record !== undefined ? recordDigest(record, undefined, keys) : undefined
    const rows = new Set(staleKeys)
    if (actual !== undefined) rows.add(actual.typeRowKey)
    for (const key of rows) {
      const value = await this.#typeRow(key)
      const group = value !== undefined ? groupOfTypeRow(key, value, keys) : undefined
      if (group !== undefined) this.digest.remove(group, leafHashOf(value!))
      if (value !== undefined && key !== actual?.typeRowKey) {
        // a type-index row of no record (or of a type the record no longer has): gone with its leaf
        this.ops.push({ type: 'del', sublevel: this.#store.subs.types, key })
        this.digest.deleted(key)
      }
    }
    if (actual !== undefined) {
      this.ops.push({ type: 'put', sublevel: this.#store.subs.types, key: actual.typeRowKey, value: actual.value, text: actual.value })
      this.digest.add(actual)
    }
  }

  /** The digest's aggregate rows: called once the transaction's function has resolved. */
  finishDigest (): void {
    this.digest.finish((key) => this.#baseAggregate(key))
  }

  /** a group's aggregate as the base chain leaves it, else as committed */
  #baseAggregate (key: string): DigestAggregate | undefined {
    const base = this.#liveBase()
    if (base === undefined) return this.#store.digestAggregate(key)
    return base.digest.values.get(key) ?? base.#baseAggregate(key)
  }

  /** a type-index row (a leaf) as this transaction sees it */
  async #typeRow (key: string): Promise<string | undefined> {
    for (let tx: LevelWriteTx | undefined = this; tx !== undefined; tx = tx.#liveBase()) {
      if (tx.digest.rows.has(key)) return tx.digest.rows.get(key)
    }
    return await this.#store.getTypeRow(key)
  }
}
