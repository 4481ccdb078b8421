/**
 * The LevelDB store (`level` 10 → classic-level on Node). Layout in keys.ts.
 *
 * Writes are serialised through one promise chain: a transaction reads what
 * it needs, decides, and its operations are committed as one `batch()` — the
 * atomic unit of the store invariant. In-memory counters (head, objects,
 * conflicts, failed) change only after a batch has been committed, so a
 * failed write leaves memory and disk in agreement. The transaction itself is
 * level-write-tx.ts.
 */
import { randomBytes } from 'node:crypto'
import { Level } from 'level'
import { StoreClosedError, StoreLockedError, StoreWriteError } from '../agent/errors.js'
import { META_KEYS, SCHEMA_VERSION, SUBLEVELS, auxKey, parseSeqKey, seqKey, typeKey } from './keys.js'
import type {
  Checkpoint, CommitEvent, FailedEntry, FeedPage, ListPage, Store, StoreInfo, StoredObject, WriteOptions, WriteTx
} from './types.js'
import { LevelWriteTx, type BatchOp, type Sub, type TxHost } from './level-write-tx.js'

export interface LevelStoreOptions {
  /** directory of the LevelDB database */
  location: string
  /** this agent's domain; a store made for another domain refuses to open */
  domain: string
  /** LevelDB memtable size in bytes (default DEFAULT_WRITE_BUFFER_BYTES) */
  writeBufferSize?: number
  /** other classic-level options (tuning experiments) */
  leveldb?: Readonly<Record<string, unknown>>
}

/**
 * LevelDB's memtable. Its 4 MiB default makes a bulk pull flush an L0 table
 * every ~3,000 objects and compact them over and over: on a 2-core machine
 * that background work costs as much CPU as the apply itself. 16 MiB cuts
 * the store's CPU during an initial sync by about a tenth, for at most
 * 2 × 16 MiB of memory (the memtable and the one being flushed).
 */
export const DEFAULT_WRITE_BUFFER_BYTES = 16 * 1024 * 1024


export function createLevelStore (options: LevelStoreOptions): Store {
  return new LevelStore(options)
}

class LevelStore implements Store, TxHost {
  readonly #options: LevelStoreOptions
  readonly #db: Level<string, unknown>
  readonly #objects: Sub
  readonly #feed: Sub
  readonly #types: Sub
  readonly #checkpoints: Sub
  readonly #conflicts: Sub
  readonly #failed: Sub
  readonly #aux: Sub
  readonly #meta: Sub
  readonly #listeners = new Set<(event: CommitEvent) => void>()
  #open = false
  #writeChain: Promise<unknown> = Promise.resolve()
  #epoch = ''
  #head = 0
  #objectCount = 0
  #conflictCount = 0
  readonly #failedUids = new Set<string>()
  /** committed checkpoints by peer ID (undefined: known to have none) */
  readonly #checkpointCache = new Map<string, Checkpoint | undefined>()

  constructor (options: LevelStoreOptions) {
    this.#options = options
    // utf8 at the root: only #commit writes there, with values its sublevels
    // already encoded; every sublevel names its own encoding
    this.#db = new Level<string, unknown>(options.location, { valueEncoding: 'utf8', writeBufferSize: options.writeBufferSize ?? DEFAULT_WRITE_BUFFER_BYTES, ...options.leveldb })
    const json = { valueEncoding: 'json' }
    this.#objects = this.#db.sublevel(SUBLEVELS.objects, json)
    this.#feed = this.#db.sublevel(SUBLEVELS.feed, { valueEncoding: 'utf8' })
    this.#types = this.#db.sublevel(SUBLEVELS.types, { valueEncoding: 'utf8' })
    this.#checkpoints = this.#db.sublevel(SUBLEVELS.checkpoints, json)
    this.#conflicts = this.#db.sublevel(SUBLEVELS.conflicts, json)
    this.#failed = this.#db.sublevel(SUBLEVELS.failed, json)
    this.#aux = this.#db.sublevel(SUBLEVELS.aux, json)
    this.#meta = this.#db.sublevel(SUBLEVELS.meta, json)
  }

  async open (): Promise<void> {
    if (this.#open) return
    try {
      await this.#db.open()
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(this.#options.location, { cause: err })
      throw new StoreWriteError(`cannot open the store at ${this.#options.location}: ${(err as Error).message}${cause !== undefined ? ` (${String((cause as Error).message ?? cause.code)})` : ''}: check that the directory exists and is writable`, { cause: err })
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
    const [epoch, domain, schema, head, objects] = await this.#meta.getMany([
      META_KEYS.epoch, META_KEYS.domain, META_KEYS.schema, META_KEYS.head, META_KEYS.objects
    ]) as [string | undefined, string | undefined, number | undefined, number | undefined, number | undefined]
    if (epoch === undefined) {
      // A new store: a fresh random epoch tells every remote that any
      // checkpoint it holds for us belongs to a feed that no longer exists.
      this.#epoch = randomBytes(8).toString('hex')
      await this.#meta.batch([
        { type: 'put', key: META_KEYS.epoch, value: this.#epoch },
        { type: 'put', key: META_KEYS.domain, value: this.#options.domain },
        { type: 'put', key: META_KEYS.schema, value: SCHEMA_VERSION },
        { type: 'put', key: META_KEYS.head, value: 0 },
        { type: 'put', key: META_KEYS.objects, value: 0 }
      ])
      return
    }
    if (domain !== this.#options.domain) {
      throw new StoreWriteError(`the store at ${this.#options.location} belongs to domain "${String(domain)}", not "${this.#options.domain}": use that domain in the config, or point dataDir at a new directory`)
    }
    if (schema !== SCHEMA_VERSION) {
      throw new StoreWriteError(`the store at ${this.#options.location} has schema ${String(schema)}, this labmesh reads schema ${SCHEMA_VERSION}: use a matching labmesh version`)
    }
    this.#epoch = epoch
    this.#head = head ?? 0
    this.#objectCount = objects ?? 0
    this.#conflictCount = await countKeys(this.#conflicts)
    for await (const uid of this.#failed.keys()) this.#failedUids.add(uid as string)
  }

  async close (): Promise<void> {
    if (!this.#open) return
    this.#open = false
    await this.#writeChain.catch(() => {})
    await this.#db.close()
  }

  info (): StoreInfo {
    return {
      epoch: this.#epoch,
      domain: this.#options.domain,
      head: this.#head,
      objects: this.#objectCount,
      conflicts: this.#conflictCount,
      failed: this.#failedUids.size
    }
  }

  async getObject (uid: string): Promise<StoredObject | undefined> {
    this.#assertOpen()
    return await this.#objects.get(uid) as StoredObject | undefined
  }

  async getObjects (uids: readonly string[]): Promise<Array<StoredObject | undefined>> {
    this.#assertOpen()
    if (uids.length === 0) return []
    return await this.#objects.getMany(uids as string[]) as Array<StoredObject | undefined>
  }

  async listObjects (options: { type?: string, after?: string, limit: number }): Promise<ListPage> {
    this.#assertOpen()
    const limit = Math.max(1, options.limit)
    let items: StoredObject[]
    if (options.type !== undefined) {
      const range = options.after !== undefined
        ? { gt: typeKey(options.type, options.after) }
        : { gte: typeKey(options.type, '') }
      const keys: string[] = await this.#types.keys({ ...range, lt: `${options.type}\x01`, limit: limit + 1 }).all()
      const uids = keys.map((k) => k.slice(options.type!.length + 1))
      items = (await this.getObjects(uids)).filter((o): o is StoredObject => o !== undefined)
    } else {
      const range = options.after !== undefined ? { gt: options.after } : {}
      items = await this.#objects.values({ ...range, limit: limit + 1 }).all()
    }
    const more = items.length > limit
    if (more) items = items.slice(0, limit)
    return { items, next: more ? (items[items.length - 1]?.uid ?? null) : null }
  }

  async readFeed (since: number, limit: number): Promise<FeedPage> {
    this.#assertOpen()
    const rows: Array<[string, string]> = await this.#feed.iterator({ gt: seqKey(since), limit: limit + 1 }).all()
    const more = rows.length > limit
    const page = more ? rows.slice(0, limit) : rows
    // the records' text as stored: a serve session need not parse them
    const texts: Array<string | undefined> = page.length > 0 ? await this.#objects.getMany(page.map(([, uid]) => uid), { valueEncoding: 'utf8' }) : []
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
    for await (const _ of this.#feed.keys(range)) n++ // eslint-disable-line @typescript-eslint/no-unused-vars
    return n
  }

  async getCheckpoint (peerId: string): Promise<Checkpoint | undefined> {
    this.#assertOpen()
    // Read through a cache: a pull reads the checkpoint in every batch it
    // applies, and only a committed transaction changes it (see write()).
    if (this.#checkpointCache.has(peerId)) return this.#checkpointCache.get(peerId)
    const checkpoint = await this.#checkpoints.get(peerId) as Checkpoint | undefined
    if (!this.#checkpointCache.has(peerId)) this.#checkpointCache.set(peerId, checkpoint)
    return this.#checkpointCache.get(peerId)
  }

  async listCheckpoints (): Promise<Array<{ peerId: string, checkpoint: Checkpoint }>> {
    this.#assertOpen()
    const rows: Array<[string, Checkpoint]> = await this.#checkpoints.iterator().all()
    return rows.map(([peerId, checkpoint]) => ({ peerId, checkpoint }))
  }

  async listConflicts (options: { limit?: number, after?: string } = {}): Promise<StoredObject[]> {
    this.#assertOpen()
    const range = options.after !== undefined ? { gt: options.after } : {}
    const uids: string[] = await this.#conflicts.keys({ ...range, limit: options.limit ?? 1000 }).all()
    return (await this.getObjects(uids)).filter((o): o is StoredObject => o !== undefined && o.conflicts.length > 0)
  }

  async getFailed (uid: string): Promise<FailedEntry | undefined> {
    this.#assertOpen()
    return await this.#failed.get(uid) as FailedEntry | undefined
  }

  async listFailed (options: { limit?: number } = {}): Promise<FailedEntry[]> {
    this.#assertOpen()
    return await this.#failed.values({ limit: options.limit ?? 1000 }).all()
  }

  async getAux<T = unknown> (space: string, key: string): Promise<T | undefined> {
    this.#assertOpen()
    return await this.#aux.get(auxKey(space, key)) as T | undefined
  }

  async * iterateAux<T = unknown> (space: string): AsyncIterable<[string, T]> {
    this.#assertOpen()
    const prefix = auxKey(space, '')
    for await (const [key, value] of this.#aux.iterator({ gte: prefix, lt: `${space}\x01` })) {
      yield [(key as string).slice(prefix.length), value as T]
    }
  }

  onCommit (listener: (event: CommitEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  async write<T> (fn: (tx: WriteTx) => Promise<T> | T, options: WriteOptions = {}): Promise<T> {
    this.#assertOpen()
    const run = async (): Promise<T> => {
      this.#assertOpen()
      const tx = new LevelWriteTx(this, this.#head)
      const result = await fn(tx)
      if (tx.ops.length === 0) return result
      const head = tx.nextSeq - 1
      tx.ops.push({ type: 'put', sublevel: this.#meta, key: META_KEYS.head, value: head })
      if (tx.objectDelta !== 0) tx.ops.push({ type: 'put', sublevel: this.#meta, key: META_KEYS.objects, value: this.#objectCount + tx.objectDelta })
      try {
        await this.#commit(tx.ops)
      } catch (err) {
        throw new StoreWriteError(`the store could not commit a write (${(err as Error).message}): nothing from it was applied; check free disk space and permissions on ${this.#options.location}`, { cause: err })
      }
      const grew = head > this.#head
      this.#head = head
      this.#objectCount += tx.objectDelta
      this.#conflictCount += tx.conflictDelta
      for (const [peerId, checkpoint] of tx.checkpointChanges) this.#checkpointCache.set(peerId, checkpoint)
      for (const [uid, present] of tx.failedChanges) {
        if (present) this.#failedUids.add(uid)
        else this.#failedUids.delete(uid)
      }
      if (grew) {
        const event = { head, changed: tx.changed, source: options.source, conflictsAdded: tx.conflictsAdded }
        for (const listener of this.#listeners) listener(event)
      }
      return result
    }
    const next = this.#writeChain.then(run, run)
    this.#writeChain = next.catch(() => {})
    return await next
  }

  /**
   * Commit a transaction's operations as ONE LevelDB batch. Built as a
   * chained batch on the root database with each key already prefixed by its
   * sublevel and each value already encoded by its sublevel's encoding — the
   * very bytes an array `batch()` of sublevel operations writes — because
   * abstract-level's per-operation preparation of such an array cost ~8 µs per
   * pulled object against ~5 µs this way.
   */
  async #commit (ops: readonly BatchOp[]): Promise<void> {
    const batch = this.#db.batch()
    try {
      for (const op of ops) {
        const sub = op.sublevel as { prefix: string, valueEncoding: () => { encode: (v: unknown) => string } }
        if (op.type === 'put') batch.put(sub.prefix + op.key, sub.valueEncoding().encode(op.value))
        else batch.del(sub.prefix + op.key)
      }
    } catch (err) {
      await batch.close()
      throw err
    }
    await batch.write()
  }

  #assertOpen (): void {
    if (!this.#open) throw new StoreClosedError()
  }

  // ---- accessors for the transaction (TxHost, not part of Store) ----
  get failedUids (): ReadonlySet<string> {
    return this.#failedUids
  }

  get subs (): { objects: Sub, feed: Sub, types: Sub, checkpoints: Sub, conflicts: Sub, failed: Sub, aux: Sub } {
    return { objects: this.#objects, feed: this.#feed, types: this.#types, checkpoints: this.#checkpoints, conflicts: this.#conflicts, failed: this.#failed, aux: this.#aux }
  }
}

async function countKeys (sub: Sub): Promise<number> {
  let n = 0
  for await (const _ of sub.keys()) n++ // eslint-disable-line @typescript-eslint/no-unused-vars
  return n
}
