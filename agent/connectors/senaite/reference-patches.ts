/**
 * Create-then-patch: a version whose references point at objects not in
 * this site yet (reference cycles, targets the site refused) is written
 * without them, and patched once they can be set.
 *
 * Versions waiting for targets are kept in memory and, when a batch comes
 * with a store transaction (a pull's), as PATCH_SPACE rows written in that
 * transaction, so a restart still patches them; a row of a version the store
 * has moved past since is dropped at start (loadAwaitingPatches). A revert
 * from the poller has no transaction: what it defers waits in memory only,
 * and it does not retry earlier batches' waiting versions.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import { compare } from '../../../protocol/version-vector.js'
import type { Store } from '../../../store/types.js'
import type { Logger } from '../../runtime/logger.js'
import type { ConnectorRows, RemoteWrite, RemoteWriteResult } from '../connector.js'
import { versionToFields } from './convert.js'
import { PATCH_SPACE, siteUidOf, type Mapping } from './mapping.js'
import type { ObjectWriter } from './object-writer.js'

/** A version written without some references, kept until their targets exist here (PATCH_SPACE rows). */
export interface AwaitingPatch {
  readonly next: ObjectVersion
  /** how many of its references were left out at the last attempt */
  readonly deferred: number
}

/**
 * The patches persisted by an earlier run that still apply: the store holds
 * that very version. The others are deleted (a newer version was written
 * since, whole or waiting on its own).
 */
export async function loadAwaitingPatches (store: Store, log: Logger): Promise<Array<[string, AwaitingPatch]>> {
  const awaiting: Array<[string, AwaitingPatch]> = []
  const stale: string[] = []
  for await (const [uid, patch] of store.iterateAux<AwaitingPatch>(PATCH_SPACE)) {
    const current = await store.getObject(uid)
    if (current !== undefined && compare(current.vector, patch.next.vector) === 'equal') awaiting.push([uid, patch])
    else stale.push(uid)
  }
  if (stale.length > 0) await store.write((tx) => { for (const uid of stale) tx.deleteAux(PATCH_SPACE, uid) })
  if (awaiting.length > 0) log.info({ objects: awaiting.length }, 'SENAITE: references still to be set on objects written before the restart')
  return awaiting
}

export interface ReferencePatchDeps {
  readonly mapping: Mapping
  /** writes one version again (the references whose targets are here now are set) */
  readonly writeObject: ObjectWriter['write']
  /** waiting patches loaded at start */
  readonly awaiting?: ReadonlyArray<readonly [string, AwaitingPatch]>
}

export interface ReferencePatches {
  /**
   * After a batch's objects are written (`deferred`: the indexes of those
   * written without some references): set the references whose targets
   * exist now, in this batch's objects and in those waiting from earlier
   * batches. Updates `results` for the batch's objects written again.
   */
  afterBatch (writes: readonly RemoteWrite[], deferred: readonly number[], results: RemoteWriteResult[], rows: ConnectorRows | undefined): Promise<void>
}

export function createReferencePatches (deps: ReferencePatchDeps): ReferencePatches {
  const { mapping, writeObject } = deps
  const awaitingTargets = new Map<string, { write: RemoteWrite, deferred: number }>(
    (deps.awaiting ?? []).map(([uid, a]) => [uid, { write: { previous: undefined, next: a.next }, deferred: a.deferred }]))

  const awaitPatch = (uid: string, write: RemoteWrite, deferred: number, rows: ConnectorRows | undefined): void => {
    awaitingTargets.set(uid, { write, deferred })
    rows?.put(PATCH_SPACE, uid, { next: write.next, deferred } satisfies AwaitingPatch)
  }
  const patched = (uid: string, rows: ConnectorRows | undefined): void => {
    awaitingTargets.delete(uid)
    rows?.delete(PATCH_SPACE, uid)
  }
  /** how many of a version's references cannot be set in this site yet */
  const deferredCount = (w: RemoteWrite): number => versionToFields(w.next, { localUidOf: (m) => siteUidOf(mapping, m) }).deferred.length

  /** the batch's own deferred objects, once: their targets written later in the batch are here now */
  async function patchDeferred (writes: readonly RemoteWrite[], deferred: readonly number[], results: RemoteWriteResult[], rows: ConnectorRows | undefined): Promise<void> {
    for (const i of deferred) {
      const again = await writeObject(writes[i]!, rows)
      results[i] = again.result
      if (again.deferred) awaitPatch(writes[i]!.next.uid, writes[i]!, deferredCount(writes[i]!), rows)
      else patched(writes[i]!.next.uid, rows)
    }
  }

  /** earlier batches' waiting versions: written again once more of their references can be set */
  async function patchWaiting (inBatch: ReadonlySet<string>, rows: ConnectorRows): Promise<void> {
    for (const [uid, waiting] of [...awaitingTargets]) {
      if (inBatch.has(uid)) continue // this batch carried a newer version: written (and deferred again if need be) already
      if (deferredCount(waiting.write) >= waiting.deferred) continue
      const again = await writeObject(waiting.write, rows)
      if (!again.deferred || !again.result.ok) patched(uid, rows)
      else awaitPatch(uid, waiting.write, deferredCount(waiting.write), rows)
    }
  }

  return {
    async afterBatch (writes, deferred, results, rows) {
      await patchDeferred(writes, deferred, results, rows)
      // a version written whole in this batch supersedes what waited for it
      const deferredHere = new Set(deferred.map((i) => writes[i]!.next.uid))
      for (const w of writes) if (awaitingTargets.has(w.next.uid) && !deferredHere.has(w.next.uid)) patched(w.next.uid, rows)
      // not from a revert, which has no transaction to record it in
      if (rows !== undefined) await patchWaiting(new Set(writes.map((w) => w.next.uid)), rows)
    }
  }
}
