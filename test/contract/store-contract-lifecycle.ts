/**
 * Store contract, durability and limits: what was committed comes back
 * after close and reopen (records, feed order, indexes, aux rows, counters,
 * epoch); a write prepared before close() still lands; a closed store
 * refuses with StoreClosedError; putObject refuses a record over
 * MAX_OBJECT_BYTES, or a wire form over limits.maxWireBytes, with
 * ObjectTooLargeError — exactly at the byte — and the transaction goes on
 * as if it had not been called.
 */
import { describe, expect, it } from 'vitest'
import { MAX_OBJECT_BYTES } from '../../protocol/constants.js'
import { ObjectTooLargeError } from '../../protocol/errors.js'
import { StoreClosedError } from '../../store/errors.js'
import type { ObjectWrite, Store, StoredObject } from '../../store/types.js'
import { allFeed, auditStore, storeDigest } from '../helpers/store-audit.js'
import type { ContractStore } from './store-contract.js'
import { AT, auxRows, failed, putAll, sibling, version } from './store-fixtures.js'

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value))

/** `object` with its data padded so that `measure(object)` is exactly `target` bytes */
function padded (object: ObjectWrite, target: number, measure: (o: ObjectWrite) => number): ObjectWrite {
  const bare = { ...object, data: { ...object.data, pad: '' } }
  return { ...bare, data: { ...bare.data, pad: 'x'.repeat(target - measure(bare)) } }
}

/** putObject that hands back its refusal instead of throwing it */
function tryPut (put: () => StoredObject): StoredObject | unknown {
  try {
    return put()
  } catch (err) {
    return err
  }
}

export function describeLifecycleClauses (s: ContractStore): void {
  describe('durability and limits', () => {
    it('close and reopen give back everything committed: records, feed order, indexes, aux rows, counters and the epoch; the feed goes on from the head', async () => {
      await putAll(s.store, [version('a'), version('b'), { ...version('c'), conflicts: [sibling('c', 'lab-b')], conflictVia: ['lab-b'] }])
      await putAll(s.store, [version('a', 2), version('b', 2, { deleted: true, data: {} })], { source: 'lab-b' })
      await s.store.write(async (tx) => {
        tx.putFailed(failed('parked', 'lab-c'))
        tx.putAux('map', 'k', { uid: 'u' })
        tx.setCheckpoint('lab-b', { seq: 7, epoch: 'e', rulesHash: 'r', pulled: 7, updatedAt: AT })
      })
      const digest = await storeDigest(s.store)
      const info = s.store.info()
      const feed = (await allFeed(s.store)).map((e) => [e.seq, e.object.uid])

      const reopened = await s.reopen()
      expect(reopened.info()).toEqual(info)
      expect(await storeDigest(reopened)).toBe(digest)
      expect((await allFeed(reopened)).map((e) => [e.seq, e.object.uid])).toEqual(feed)
      expect(await auxRows(reopened, ['map'])).toEqual({ 'map/k': { uid: 'u' } })
      expect(reopened.conflictsByPeer()).toEqual(new Map([['lab-b', 1]]))
      expect(reopened.failedByPeer()).toEqual(new Map([['lab-c', 1]]))
      const [next] = await putAll(reopened, [version('d')])
      expect(next?.seq).toBe(info.head + 1)
      expect(await auditStore(reopened)).toEqual([])
      // another store starts a feed of its own
      expect((await s.another()).info().epoch).not.toBe(info.epoch)
    })

    it('a write prepared before close() lands before the store closes, and is there after reopening', async () => {
      let closing: Promise<void> | undefined
      const written = s.store.write(async (tx) => {
        await tx.get('last')
        return tx.putObject(version('last'))
      }, { onPrepared: () => { closing = s.store.close() } })
      expect((await written).seq).toBe(1)
      await closing
      const reopened = await s.reopen()
      expect((await reopened.getObject('last'))?.seq).toBe(1)
      expect(reopened.info()).toMatchObject({ head: 1, objects: 1 })
    })

    it('a closed store refuses reads and writes with StoreClosedError; closing again is harmless', async () => {
      await putAll(s.store, [version('a')])
      const closed: Store = s.store
      await closed.close()
      await closed.close()
      const refusals: Array<[string, () => Promise<unknown>]> = [
        ['getObject', async () => await closed.getObject('a')],
        ['getObjects', async () => await closed.getObjects(['a'])],
        ['holds', async () => await closed.holds(['a'])],
        ['listObjects', async () => await closed.listObjects({ limit: 1 })],
        ['readFeed', async () => await closed.readFeed(0, 1)],
        ['countFeed', async () => await closed.countFeed(0)],
        ['getCheckpoint', async () => await closed.getCheckpoint('p')],
        ['listCheckpoints', async () => await closed.listCheckpoints()],
        ['listConflicts', async () => await closed.listConflicts()],
        ['getFailed', async () => await closed.getFailed('a')],
        ['listFailed', async () => await closed.listFailed()],
        ['getAux', async () => await closed.getAux('s', 'k')],
        ['iterateAux', async () => { for await (const _ of closed.iterateAux('s')) break }], // eslint-disable-line @typescript-eslint/no-unused-vars
        ['readBetweenWrites', async () => await closed.readBetweenWrites(async () => 1)],
        ['write', async () => await closed.write(() => 1)]
      ]
      for (const [name, call] of refusals) {
        const outcome = await call().then(() => 'resolved', (err: unknown) => err)
        expect(outcome, name).toBeInstanceOf(StoreClosedError)
        expect((outcome as StoreClosedError).code, name).toBe('STORE_CLOSED')
      }
    })

    it('putObject refuses a record one byte over MAX_OBJECT_BYTES with ObjectTooLargeError, takes one of exactly the limit, and the refusal consumes nothing', async () => {
      await putAll(s.store, [version('first')])
      // the seq is part of the record: both would get seq 2
      const recordBytes = (o: ObjectWrite): number => bytes({ ...o, seq: 2 })
      const exact = padded(version('exact'), MAX_OBJECT_BYTES, recordBytes)
      const over = padded(version('over'), MAX_OBJECT_BYTES + 1, recordBytes)
      const [refusal, stored] = await s.store.write(async (tx) => {
        await tx.getMany(['over', 'exact'])
        const refused = tryPut(() => tx.putObject(over))
        expect(await tx.get('over')).toBeUndefined()
        return [refused, tx.putObject(exact)]
      })
      expect(refusal).toBeInstanceOf(ObjectTooLargeError)
      expect(refusal).toMatchObject({ code: 'OBJECT_TOO_LARGE', uid: 'over', bytes: MAX_OBJECT_BYTES + 1, limit: MAX_OBJECT_BYTES })
      expect((stored as StoredObject).seq).toBe(2)
      expect(bytes(await s.store.getObject('exact'))).toBe(MAX_OBJECT_BYTES)
      expect(await s.store.getObject('over')).toBeUndefined()
      expect(s.store.info()).toMatchObject({ head: 2, objects: 2 })
      expect(await auditStore(s.store)).toEqual([])
    })

    it('with limits.maxWireBytes, putObject measures the wire form (siblings counted, via/viaEpoch/conflictVia/seq not) to the byte, and a refusal writes nothing', async () => {
      const limit = 4096
      const pulled = { ...version('pulled', 1, { data: { text: 'Grüße 😀' } }), conflicts: [sibling('pulled', 'lab-c')], via: 'lab-b', viaEpoch: 'a1b2c3d4', conflictVia: ['lab-c'] }
      // what travels: the version's own fields and its siblings
      const wireBytes = (o: ObjectWrite): number => bytes({ uid: o.uid, type: o.type, id: o.id, parent: o.parent, refs: o.refs, data: o.data, vector: o.vector, origin: o.origin, deleted: o.deleted, at: o.at, conflicts: o.conflicts })
      const exact = padded(pulled, limit, wireBytes)
      const over = padded({ ...pulled, uid: 'pulled-2' }, limit + 1, wireBytes)
      const outcome = await s.store.write(async (tx) => {
        await tx.getMany(['pulled', 'pulled-2'])
        return [tryPut(() => tx.putObject(over, { maxWireBytes: limit })), tryPut(() => tx.putObject(exact, { maxWireBytes: limit }))]
      })
      expect(outcome[0]).toBeInstanceOf(ObjectTooLargeError)
      expect(outcome[0]).toMatchObject({ uid: 'pulled-2', bytes: limit + 1, limit })
      expect(outcome[1]).toMatchObject({ uid: 'pulled', seq: 1, via: 'lab-b' })
      expect(await s.store.getObject('pulled-2')).toBeUndefined()
      expect(await s.store.countFeed(0)).toBe(1)
      // a transaction whose only write was refused commits nothing at all
      const info = s.store.info()
      await s.store.write(async (tx) => { await tx.get('pulled-2'); tryPut(() => tx.putObject(over, { maxWireBytes: limit })) })
      expect(s.store.info()).toEqual(info)
    })
  })
}
