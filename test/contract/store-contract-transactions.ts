/**
 * Store contract, transactions: all or nothing (a function that throws, a
 * batch that fails at commit), what holds() counts, pipelined writes (a
 * transaction built on one whose batch then fails never lands), and
 * readBetweenWrites running strictly between commits.
 */
import { describe, expect, it } from 'vitest'
import type { Checkpoint, CommitEvent } from '../../store/types.js'
import { auditStore, storeDigest } from '../helpers/store-audit.js'
import type { ContractStore } from './store-contract.js'
import { AT, auxRows, failed, itUnless, putAll, sibling, version } from './store-fixtures.js'

const checkpoint = (seq: number): Checkpoint => ({ seq, epoch: 'e1', rulesHash: 'r1', pulled: seq, updatedAt: AT + seq })

export function describeTransactionClauses (s: ContractStore): void {
  describe('transactions', () => {
    it('a function that throws writes nothing — objects, feed, parked entries, conflicts, aux rows, checkpoints — and the feed goes on from the same head', async () => {
      await putAll(s.store, [version('kept'), { ...version('torn'), conflicts: [sibling('torn', 'lab-b')], conflictVia: ['lab-b'] }])
      await s.store.write((tx) => {
        tx.putAux('space', 'k', 'before')
        tx.setCheckpoint('peer', checkpoint(1))
        tx.putFailed(failed('parked', 'lab-b'))
      })
      const digest = await storeDigest(s.store)
      const aux = await auxRows(s.store, ['space', 'other'])
      const info = s.store.info()
      const events: CommitEvent[] = []
      const off = s.store.onCommit((e) => events.push(e))

      const boom = new Error('the function gives up after writing')
      await expect(s.store.write(async (tx) => {
        await tx.getMany(['kept', 'torn', 'new'])
        tx.putObject(version('kept', 2))
        tx.putObject(version('torn', 2)) // would resolve the conflict
        tx.putObject(version('new'))
        tx.putAux('space', 'k', 'after')
        tx.putAux('other', 'k2', { n: 1 })
        tx.setCheckpoint('peer', checkpoint(2))
        tx.putFailed(failed('also', 'lab-c'))
        tx.deleteFailed('parked')
        throw boom
      })).rejects.toBe(boom)
      // a function that throws before any await is no different
      await expect(s.store.write((tx) => { tx.deleteAux('space', 'k'); throw boom })).rejects.toBe(boom)

      expect(await storeDigest(s.store)).toBe(digest)
      expect(await auxRows(s.store, ['space', 'other'])).toEqual(aux)
      expect(s.store.info()).toEqual(info)
      expect(s.store.failedByPeer()).toEqual(new Map([['lab-b', 1]]))
      expect(s.store.conflictsByPeer()).toEqual(new Map([['lab-b', 1]]))
      expect(await s.store.holds(['new'])).toEqual([false])
      expect(events).toEqual([])
      const [next] = await putAll(s.store, [version('new')])
      expect(next?.seq).toBe(info.head + 1)
      off()
      expect(await auditStore(s.store)).toEqual([])
    })

    itUnless(s.impl.unencodable === undefined ? 'the implementation names no value it cannot commit' : undefined,
      'a batch that fails at commit writes nothing, fails the transaction built on it, is forgotten by holds() and heard by no listener; the store carries on', async () => {
        await putAll(s.store, [version('old')])
        const info = s.store.info()
        const events: CommitEvent[] = []
        s.store.onCommit((e) => events.push(e))
        let heldWhilePrepared: Promise<boolean[]> | undefined
        let builtOnSaw: unknown[] = []
        // Only the base's reads go to disk: the next two run on what it read
        // and wrote, so both are prepared while its batch is still being written.
        const base = s.store.write(async (tx) => {
          await tx.getMany(['base', 'doomed', 'child'])
          tx.putObject(version('base'))
        })
        const failing = s.store.write(async (tx) => {
          await tx.getMany(['base', 'doomed'])
          tx.putObject(version('base', 2))
          tx.putObject(version('doomed'))
          tx.putAux('space', 'poison', s.impl.unencodable)
          tx.putAux('space', 'k', 'from-failing')
          tx.setCheckpoint('peer', checkpoint(9))
          tx.putFailed(failed('parked-by-failing', 'lab-b'))
        }, { onPrepared: () => { heldWhilePrepared = s.store.holds(['doomed', 'child']) } })
        const builtOn = s.store.write(async (tx) => {
          builtOnSaw = [await tx.getAux('space', 'k'), (await tx.get('doomed'))?.uid]
          await tx.get('child')
          tx.putObject(version('child'))
        })
        await base
        await expect(failing).rejects.toThrow()
        await expect(builtOn).rejects.toThrow()
        expect(builtOnSaw, 'the third transaction ran on the failing one\'s writes').toEqual(['from-failing', 'doomed'])
        expect(await heldWhilePrepared, 'holds() counted the prepared write').toEqual([true, false])

        expect(await s.store.holds(['doomed', 'child'])).toEqual([false, false])
        expect(await s.store.getObjects(['base', 'doomed', 'child'])).toMatchObject([{ data: { n: 1 } }, undefined, undefined])
        expect(await auxRows(s.store, ['space'])).toEqual({})
        expect([await s.store.getCheckpoint('peer'), await s.store.getFailed('parked-by-failing')]).toEqual([undefined, undefined])
        expect(events.map((e) => e.head)).toEqual([info.head + 1])
        expect(s.store.info()).toMatchObject({ head: info.head + 1, objects: info.objects + 1, failed: 0 })
        // the next write lands, right after the base
        const [after] = await putAll(s.store, [version('after')])
        expect(after?.seq).toBe(info.head + 2)
        expect(await auditStore(s.store)).toEqual([])
      })

    it('holds() says which uids are held — tombstones included — counting prepared writes; tx.holds sees the transaction\'s own', async () => {
      await putAll(s.store, [version('alive'), version('tomb', 2, { deleted: true, data: {} })])
      expect(await s.store.holds(['alive', 'tomb', 'never'])).toEqual([true, true, false])
      let prepared: Promise<boolean[]> | undefined
      await s.store.write(async (tx) => {
        expect(await tx.holds(['pending', 'tomb'])).toEqual([false, true])
        await tx.get('pending')
        tx.putObject(version('pending'))
        expect(await tx.holds(['pending', 'never'])).toEqual([true, false])
      }, { onPrepared: () => { prepared = s.store.holds(['pending', 'never']) } })
      expect(await prepared).toEqual([true, false])
      expect(await s.store.holds(['pending'])).toEqual([true])
    })

    it('readBetweenWrites runs after every earlier commit and its listeners, and no commit lands while it runs', async () => {
      const heard: number[] = []
      s.store.onCommit((e) => heard.push(e.head))
      const earlier = [putAll(s.store, [version('x')]), putAll(s.store, [version('y')])]
      let later: Promise<unknown> | undefined
      const seen = await s.store.readBetweenWrites(async () => {
        const atStart = [...heard]
        const y = (await s.store.getObject('y'))?.uid
        later = putAll(s.store, [version('z')])
        // time enough for the later write to land, were it not held back
        await new Promise((resolve) => setTimeout(resolve, 30))
        return { atStart, y, z: await s.store.getObject('z'), heard: [...heard], head: s.store.info().head }
      })
      expect(seen).toEqual({ atStart: [1, 2], y: 'y', z: undefined, heard: [1, 2], head: 2 })
      await Promise.all([...earlier, later])
      expect(heard).toEqual([1, 2, 3])
    })
  })
}
