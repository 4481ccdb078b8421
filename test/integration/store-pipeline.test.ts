/**
 * Pipelined writes (Store.write): the next transaction runs while the batch
 * of the one before is being written, reading through its writes; its own
 * batch lands only after, and fails if that one failed. Real LevelDB.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { createLevelStore } from '../../store/level-store.js'
import type { FailedEntry, ObjectWrite, Store } from '../../store/types.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'
import { auditStore } from '../helpers/store-audit.js'

let dir: string
let store: Store

beforeEach(async () => {
  dir = await makeTempDir()
  store = createLevelStore({ location: join(dir, 'store'), domain: 'lab-a' })
  await store.open()
})

afterEach(async () => {
  await store.close()
  await removeDir(dir)
})

const object = (uid: string, n: number): ObjectWrite => ({
  uid, type: 'Sample', id: uid, parent: null, refs: [], data: { n, pad: 'x'.repeat(800) }, vector: { 'lab-a': n }, origin: 'lab-a', deleted: false, at: n, conflicts: [], via: null
})

const failedEntry = (uid: string, attempts: number): FailedEntry => ({
  uid, peer: 'lab-b', reason: 'test', code: 'TEST', missing: [], attempts, firstFailedAt: 1, lastFailedAt: 1, nextRetryAt: 2, version: { ...object(uid, 1) }
})

/** a first transaction big enough that its batch is still being written while the next ones run */
async function bigWrite (s: Store, onPrepared: () => void): Promise<void> {
  const uids = Array.from({ length: 4000 }, (_, i) => `big-${String(i).padStart(5, '0')}`)
  await s.write(async (tx) => {
    await tx.getMany(uids)
    uids.forEach((uid, i) => tx.putObject(object(uid, i + 1)))
    tx.putAux('space', 'k', 'from-first')
    tx.setCheckpoint('peer-1', { seq: 10, epoch: 'e', rulesHash: 'r', pulled: 4000, updatedAt: 1 })
    tx.putFailed(failedEntry('parked', 1))
  }, { onPrepared })
}

describe('pipelined store writes', () => {
  it('the next transaction reads the writes of one still committing, continues its feed, and lands after it', async () => {
    const seen: Record<string, unknown> = {}
    let firstPrepared = false
    let firstCommitted = false
    const first = bigWrite(store, () => { firstPrepared = true }).then(() => { firstCommitted = true })
    const second = store.write(async (tx) => {
      seen.ranWhileFirstCommitting = firstPrepared && !firstCommitted
      seen.object = (await tx.get('big-00007'))?.data.n
      seen.absent = await tx.get('nowhere')
      seen.aux = await tx.getAux('space', 'k')
      seen.checkpoint = (await tx.getCheckpoint('peer-1'))?.pulled
      seen.failed = (await tx.getFailed('parked'))?.attempts
      seen.holds = await store.holds(['big-03999', 'nowhere'])
      seen.txHolds = await tx.holds(['big-03999', 'nowhere', 'second-new'])
      const previous = await tx.get('big-00007')
      const put = tx.putObject({ ...object('big-00007', 9999), vector: { 'lab-a': 9999 } })
      seen.seq = put.seq
      expect(previous?.seq).toBeGreaterThan(0)
      await tx.get('second-new')
      tx.putObject(object('second-new', 1))
      seen.txHoldsOwn = await tx.holds(['second-new'])
      tx.putFailed(failedEntry('parked', (await tx.getFailed('parked'))!.attempts + 1))
    })
    await Promise.all([first, second])
    expect(seen).toEqual({
      ranWhileFirstCommitting: true, object: 8, absent: undefined, aux: 'from-first', checkpoint: 4000, failed: 1, holds: [true, false], txHolds: [true, false, false], txHoldsOwn: [true], seq: 4001
    })
    // once committed, a transaction finds them in the store itself
    expect(await store.write(async (tx) => await tx.holds(['big-00000', 'second-new', 'nowhere']))).toEqual([true, true, false])
    expect(store.info()).toMatchObject({ head: 4002, objects: 4001, failed: 1 })
    expect((await store.getObject('big-00007'))?.data.n).toBe(9999)
    expect((await store.getFailed('parked'))?.attempts).toBe(2)
    expect(await auditStore(store)).toEqual([])

    // the counters are on disk as they are in memory
    await store.close()
    store = createLevelStore({ location: join(dir, 'store'), domain: 'lab-a' })
    await store.open()
    expect(store.info()).toMatchObject({ head: 4002, objects: 4001, failed: 1 })
  })

  it('a transaction built on one whose batch fails fails too, and nothing of either lands', async () => {
    const before = store.info()
    let builtOnFailing: unknown
    const first = bigWrite(store, () => {})
    // its batch waits for the first one's, so it is still in flight while the third runs
    const failing = store.write(async (tx) => {
      await tx.get('big-00001')
      tx.putAux('space', 'poison', 1n) // a value JSON cannot encode: this batch fails
      tx.putAux('space', 'k', 'from-failing')
      tx.putObject(object('big-00001', 5000))
    })
    const third = store.write(async (tx) => {
      builtOnFailing = await tx.getAux('space', 'k')
      await tx.get('third')
      tx.putObject(object('third', 1))
    })
    await first
    await expect(failing).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' })
    await expect(third).rejects.toThrow(/built on an earlier one that failed/)
    expect(builtOnFailing).toBe('from-failing')
    expect(await store.getObject('third')).toBeUndefined()
    expect((await store.getObject('big-00001'))?.data.n).toBe(2)
    expect(await store.getAux('space', 'k')).toBe('from-first')
    expect(store.info()).toMatchObject({ head: before.head + 4000, objects: 4000 })

    // the store carries on: the next write lands
    await store.write(async (tx) => { await tx.get('after'); tx.putObject(object('after', 1)) })
    expect(store.info()).toMatchObject({ head: before.head + 4001, objects: 4001 })
    expect(await auditStore(store)).toEqual([])
  })

  it('readBetweenWrites waits for batches being written', async () => {
    const first = bigWrite(store, () => {})
    const count = await store.readBetweenWrites(async () => store.info().objects)
    await first
    expect(count).toBe(4000)
  })
})
