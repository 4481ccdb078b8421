/**
 * The seam between a write transaction (level-write-tx.ts, tx-side-rows.ts)
 * and its store (level-store.ts): what a transaction may read of the
 * committed store, and the markers of its layered reads. A transaction
 * writes nothing through this interface: its writes are operations of the
 * one batch the store commits.
 */
import type { DigestAggregate } from '../protocol/digest.js'
import type { DigestKeys } from './digest-rows.js'
import type { PastVersion } from './past-versions.js'
import type { Sub } from './sublevels.js'
import type { Checkpoint, FailedEntry, StoredObject } from './types.js'

/** What a transaction needs from its store. */
export interface TxHost {
  isFailed (uid: string): boolean
  getAux (space: string, key: string): Promise<unknown>
  getCheckpoint (peerId: string): Promise<Checkpoint | undefined>
  getFailed (uid: string): Promise<FailedEntry | undefined>
  readonly subs: { objects: Sub, feed: Sub, types: Sub, checkpoints: Sub, conflicts: Sub, failed: Sub, aux: Sub, history: Sub, blobRefs: Sub, blobOrphans: Sub, past: Sub, digest: Sub }
  getObjects (uids: readonly string[]): Promise<Array<StoredObject | undefined>>
  hasObjects (uids: readonly string[]): Promise<boolean[]>
  /** the digest's group keys and origins as JSON (a cache the store keeps) */
  readonly digestKeys: DigestKeys
  /** a group's committed aggregate */
  digestAggregate (group: string): DigestAggregate | undefined
  /** a committed type-index row's value (the record's leaf) */
  getTypeRow (key: string): Promise<string | undefined>
  /** committed type-index rows' values, by key */
  getTypeRows (keys: readonly string[]): Promise<Array<string | undefined>>
  /** history rows as their stored JSON text (history-text.ts appends to them as text) */
  getHistoryTexts (uids: readonly string[]): Promise<Array<string | undefined>>
  /** an object's past-version rows by key */
  getPastSlots (uid: string): Promise<Map<string, PastVersion>>
  /** history entries kept per object (0: none written) */
  readonly historyVersions: number
  /** past versions kept per object (0: none written) */
  readonly pastVersions: number
  readonly domain: string
  now (): number
}

/** "this transaction and its bases do not know": read the store */
export const NOT_KNOWN: unique symbol = Symbol('not known')
/** an aux row this transaction or a base deleted */
export const DELETED: unique symbol = Symbol('deleted')

/**
 * Which of `uids` are held: what `peek` (a transaction and its unsettled
 * bases) knows, else the committed store (`hasObjects`) for the rest.
 */
export async function holdsThrough (uids: readonly string[], peek: (uid: string) => StoredObject | undefined | typeof NOT_KNOWN, hasObjects: (uids: readonly string[]) => Promise<boolean[]>): Promise<boolean[]> {
  const out = new Array<boolean>(uids.length).fill(false)
  const unknown: number[] = []
  for (let i = 0; i < uids.length; i++) {
    const known = peek(uids[i]!)
    if (known === NOT_KNOWN) unknown.push(i)
    else out[i] = known !== undefined
  }
  if (unknown.length > 0) {
    const present = await hasObjects(unknown.map((i) => uids[i]!))
    for (let j = 0; j < unknown.length; j++) out[unknown[j]!] = present[j]!
  }
  return out
}
