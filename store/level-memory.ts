/**
 * What the LevelDB store (level-store.ts) keeps in memory of its committed
 * rows: epoch, head and object counters, the checkpoint cache, the conflict
 * and failed-queue indexes by uid, the digest's aggregates and where the
 * type index stands. Invariant: it changes only after a batch has been
 * committed (applyCommit) or when it is read from disk (level-open.ts
 * loadMeta), so a failed write leaves memory and disk in agreement.
 */
import type { Checkpoint, StoreInfo } from './types.js'
import { DigestMirror } from './digest-mirror.js'
import type { TypeIndexState } from './type-index.js'
import type { LevelWriteTx } from './level-write-tx.js'

export class CommittedState {
  epoch = ''
  /** the meta row `entry` (a restored store's vector entry); undefined: the domain */
  entry: string | undefined = undefined
  head = 0
  objectCount = 0
  /** committed checkpoints by peer ID (undefined: known to have none) */
  readonly checkpointCache = new Map<string, Checkpoint | undefined>()
  /** uid → peers whose batches brought its conflict siblings (the `x` index, in memory) */
  readonly conflictVia = new Map<string, readonly string[]>()
  /** uid → the peer its parked version came from (the failed queue's keys, in memory) */
  readonly failedPeer = new Map<string, string>()
  /** the digest's aggregate rows as committed */
  readonly digestMirror = new DigestMirror()
  /** where the type index stands (type-index.ts); cursor undefined: complete */
  typeIndex: TypeIndexState = { cursor: undefined }

  /** `tx`'s memory-side effects, once its batch (which advanced the head to `head`) has committed */
  applyCommit (tx: LevelWriteTx, head: number): void {
    this.head = head
    this.objectCount += tx.objectDelta
    this.digestMirror.apply(tx.digest.values)
    for (const [uid, via] of tx.conflictChanges) {
      if (via === undefined) this.conflictVia.delete(uid)
      else this.conflictVia.set(uid, via)
    }
    for (const [peerId, checkpoint] of tx.checkpointChanges) this.checkpointCache.set(peerId, checkpoint)
    for (const [uid, peer] of tx.failedChanges) {
      if (peer !== undefined) this.failedPeer.set(uid, peer)
      else this.failedPeer.delete(uid)
    }
  }

  /** forget the indexes read from disk, before they are read again */
  clearIndexes (): void {
    this.conflictVia.clear()
    this.failedPeer.clear()
    this.checkpointCache.clear()
  }

  info (domain: string): StoreInfo {
    return {
      epoch: this.epoch,
      domain,
      entry: this.entry ?? domain,
      head: this.head,
      objects: this.objectCount,
      conflicts: this.conflictVia.size,
      failed: this.failedPeer.size
    }
  }

  failedByPeer (): Map<string, number> {
    const out = new Map<string, number>()
    for (const peer of this.failedPeer.values()) out.set(peer, (out.get(peer) ?? 0) + 1)
    return out
  }

  conflictsByPeer (): Map<string, number> {
    const out = new Map<string, number>()
    for (const via of this.conflictVia.values()) for (const peer of via) out.set(peer, (out.get(peer) ?? 0) + 1)
    return out
  }
}
