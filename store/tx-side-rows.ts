/**
 * A write transaction's side rows (level-write-tx.ts extends this): peer
 * checkpoints, the failed queue and aux rows. Reads see the committed store
 * plus the writes of this transaction and of the unsettled transactions it
 * is built on (`sideBase()`, newest first); every write is an operation of
 * `ops`, the transaction's ONE batch, and the memory-side changes
 * (checkpointChanges, failedChanges) are applied by the store only after
 * that batch committed.
 */
import { auxKey } from './keys.js'
import type { BatchOp } from './sublevels.js'
import type { Checkpoint, FailedEntry } from './types.js'
import { DELETED, NOT_KNOWN, type TxHost } from './tx-host.js'

export abstract class TxSideRows {
  readonly ops: BatchOp[] = []
  /** checkpoints set by this tx, put into the store's cache after commit */
  readonly checkpointChanges = new Map<string, Checkpoint>()
  readonly #host: TxHost
  /** failed-queue changes of this tx: uid → peer of the parked version, or undefined when removed */
  readonly #failedKnown = new Map<string, string | undefined>()
  /** aux rows written by this tx (DELETED when deleted) */
  readonly #auxKnown = new Map<string, unknown>()
  /** failed entries put by this tx */
  readonly #failedEntries = new Map<string, FailedEntry>()

  constructor (host: TxHost) {
    this.#host = host
  }

  /** the transaction this one is built on, while its batch is not settled */
  protected abstract sideBase (): TxSideRows | undefined

  #peekFailed (uid: string): string | undefined | typeof NOT_KNOWN {
    if (this.#failedKnown.has(uid)) return this.#failedKnown.get(uid)
    const base = this.sideBase()
    return base !== undefined ? base.#peekFailed(uid) : NOT_KNOWN
  }

  #peekCheckpoint (peerId: string): Checkpoint | typeof NOT_KNOWN {
    const own = this.checkpointChanges.get(peerId)
    if (own !== undefined) return own
    const base = this.sideBase()
    return base !== undefined ? base.#peekCheckpoint(peerId) : NOT_KNOWN
  }

  #peekFailedEntry (uid: string): FailedEntry | undefined | typeof NOT_KNOWN {
    if (this.#failedKnown.has(uid)) return this.#failedKnown.get(uid) !== undefined ? this.#failedEntries.get(uid) : undefined
    const base = this.sideBase()
    return base !== undefined ? base.#peekFailedEntry(uid) : NOT_KNOWN
  }

  #peekAux (key: string): unknown {
    if (this.#auxKnown.has(key)) return this.#auxKnown.get(key)
    const base = this.sideBase()
    return base !== undefined ? base.#peekAux(key) : NOT_KNOWN
  }

  setCheckpoint (peerId: string, checkpoint: Checkpoint): void {
    this.ops.push({ type: 'put', sublevel: this.#host.subs.checkpoints, key: peerId, value: checkpoint })
    this.checkpointChanges.set(peerId, checkpoint)
  }

  putFailed (entry: FailedEntry): void {
    this.ops.push({ type: 'put', sublevel: this.#host.subs.failed, key: entry.uid, value: entry })
    this.#failedKnown.set(entry.uid, entry.peer)
    this.#failedEntries.set(entry.uid, entry)
  }

  deleteFailed (uid: string): void {
    if (!this.#failedExists(uid)) return
    this.ops.push({ type: 'del', sublevel: this.#host.subs.failed, key: uid })
    this.#failedKnown.set(uid, undefined)
  }

  #failedExists (uid: string): boolean {
    const known = this.#peekFailed(uid)
    return known !== NOT_KNOWN ? known !== undefined : this.#host.isFailed(uid)
  }

  async getCheckpoint (peerId: string): Promise<Checkpoint | undefined> {
    const known = this.#peekCheckpoint(peerId)
    return known !== NOT_KNOWN ? known : await this.#host.getCheckpoint(peerId)
  }

  async getFailed (uid: string): Promise<FailedEntry | undefined> {
    const known = this.#peekFailedEntry(uid)
    return known !== NOT_KNOWN ? known : await this.#host.getFailed(uid)
  }

  async getAux<T = unknown> (space: string, key: string): Promise<T | undefined> {
    const known = this.#peekAux(auxKey(space, key))
    if (known === DELETED) return undefined
    if (known !== NOT_KNOWN) return known as T
    return await this.#host.getAux(space, key) as T | undefined
  }

  /** failed-queue membership changes made by this tx, applied to memory after commit */
  get failedChanges (): ReadonlyMap<string, string | undefined> {
    return this.#failedKnown
  }

  putAux (space: string, key: string, value: unknown): void {
    this.ops.push({ type: 'put', sublevel: this.#host.subs.aux, key: auxKey(space, key), value })
    this.#auxKnown.set(auxKey(space, key), value)
  }

  deleteAux (space: string, key: string): void {
    this.ops.push({ type: 'del', sublevel: this.#host.subs.aux, key: auxKey(space, key) })
    this.#auxKnown.set(auxKey(space, key), DELETED)
  }
}
