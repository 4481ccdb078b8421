/**
 * Store contract, the indexes beside the objects: the failed queue (parked
 * entries, paging, per-peer counts), the conflict index (objects with
 * siblings, paging, per-peer counts), connector aux spaces (isolated from
 * each other, key order, deletes) and checkpoints — each read through a
 * transaction as it is being written and through the store once committed.
 */
import { describe, expect, it } from 'vitest'
import type { Checkpoint } from '../../store/types.js'
import type { ContractStore } from './store-contract.js'
import { AT, auxRows, failed, putAll, sibling, version } from './store-fixtures.js'

const uidsOf = (items: ReadonlyArray<{ uid: string }>): string[] => items.map((i) => i.uid)

export function describeIndexClauses (s: ContractStore): void {
  describe('indexes', () => {
    it('the failed queue: put, replace, delete, pages in uid order, counts per peer; deleting what is not parked changes nothing', async () => {
      await s.store.write(async (tx) => {
        for (const [uid, peer] of [['f-3', 'lab-b'], ['f-1', 'lab-b'], ['f-4', 'lab-c'], ['f-2', 'lab-c']] as const) tx.putFailed(failed(uid, peer))
        // read back inside the transaction that parked it
        expect(await tx.getFailed('f-3')).toEqual(failed('f-3', 'lab-b'))
        tx.deleteFailed('f-4')
        expect(await tx.getFailed('f-4')).toBeUndefined()
      })
      expect(s.store.info().failed).toBe(3)
      expect(s.store.failedByPeer()).toEqual(new Map([['lab-b', 2], ['lab-c', 1]]))
      expect(uidsOf(await s.store.listFailed())).toEqual(['f-1', 'f-2', 'f-3'])
      expect(uidsOf(await s.store.listFailed({ limit: 2 }))).toEqual(['f-1', 'f-2'])
      expect(uidsOf(await s.store.listFailed({ limit: 2, after: 'f-2' }))).toEqual(['f-3'])
      expect(await s.store.getFailed('f-2')).toEqual(failed('f-2', 'lab-c'))

      // a retry that fails again replaces the entry; the peer it came from may change
      await s.store.write(async (tx) => {
        tx.putFailed(failed('f-2', 'lab-b', 2))
        tx.deleteFailed('never-parked')
        tx.deleteFailed('f-4')
      })
      expect(await s.store.getFailed('f-2')).toEqual(failed('f-2', 'lab-b', 2))
      expect(s.store.info().failed).toBe(3)
      expect(s.store.failedByPeer()).toEqual(new Map([['lab-b', 3]]))
      await s.store.write((tx) => { tx.deleteFailed('f-1'); tx.deleteFailed('f-1') })
      expect([s.store.info().failed, uidsOf(await s.store.listFailed())]).toEqual([2, ['f-2', 'f-3']])
    })

    it('the conflict index lists only objects holding siblings, pages by uid, counts per peer, and drops an object once resolved', async () => {
      const conflicted = (uid: string, labs: string[]): ReturnType<typeof version> =>
        ({ ...version(uid, 2), conflicts: labs.map((lab) => sibling(uid, lab)), conflictVia: labs })
      await putAll(s.store, [conflicted('c-2', ['lab-b']), version('plain'), conflicted('c-1', ['lab-b', 'lab-c']), conflicted('c-3', ['lab-c'])])
      expect(s.store.info().conflicts).toBe(3)
      expect(s.store.conflictsByPeer()).toEqual(new Map([['lab-b', 2], ['lab-c', 2]]))
      const all = await s.store.listConflicts()
      expect(uidsOf(all)).toEqual(['c-1', 'c-2', 'c-3'])
      expect(all[0]?.conflicts).toEqual([sibling('c-1', 'lab-b'), sibling('c-1', 'lab-c')])
      expect(uidsOf(await s.store.listConflicts({ limit: 2 }))).toEqual(['c-1', 'c-2'])
      expect(uidsOf(await s.store.listConflicts({ after: 'c-1', limit: 1 }))).toEqual(['c-2'])

      // resolved (no siblings left), and one tombstoned with its siblings kept
      await putAll(s.store, [version('c-2', 3), { ...conflicted('c-3', ['lab-c']), deleted: true, data: {} }])
      expect(uidsOf(await s.store.listConflicts())).toEqual(['c-1', 'c-3'])
      expect(s.store.info().conflicts).toBe(2)
      expect(s.store.conflictsByPeer()).toEqual(new Map([['lab-b', 1], ['lab-c', 2]]))
    })

    it('aux spaces are separate (even when one name begins with another), iterate in key order, and delete; a transaction reads its own rows', async () => {
      await s.store.write(async (tx) => {
        tx.putAux('map', 'k2', { uid: 'two' })
        tx.putAux('map', 'k1', 'one')
        tx.putAux('map', 'k3', [3])
        tx.putAux('mapping', 'k1', 'other space')
        tx.putAux('ma', 'p', 'not a prefix of map')
        expect(await tx.getAux('map', 'k2')).toEqual({ uid: 'two' })
        tx.deleteAux('map', 'k3')
        expect(await tx.getAux('map', 'k3')).toBeUndefined()
      })
      const rows: Array<[string, unknown]> = []
      for await (const row of s.store.iterateAux('map')) rows.push(row)
      expect(rows).toEqual([['k1', 'one'], ['k2', { uid: 'two' }]])
      expect(await auxRows(s.store, ['mapping', 'ma'])).toEqual({ 'mapping/k1': 'other space', 'ma/p': 'not a prefix of map' })
      expect(await s.store.getAux('map', 'k1')).toBe('one')
      expect(await s.store.getAux('mapping', 'k2')).toBeUndefined()

      await s.store.write(async (tx) => {
        expect(await tx.getAux('map', 'k1')).toBe('one')
        tx.deleteAux('map', 'k1')
        tx.putAux('map', 'k2', null)
        tx.deleteAux('map', 'never-there')
      })
      expect(await auxRows(s.store, ['map'])).toEqual({ 'map/k2': null })
      expect(s.store.info()).toMatchObject({ head: 0, objects: 0 })
    })

    it('checkpoints: set, overwritten, listed per peer, read through the transaction that sets them', async () => {
      const cp = (seq: number, extra: Partial<Checkpoint> = {}): Checkpoint => ({ seq, epoch: `epoch-${seq}`, rulesHash: 'rules', pulled: seq * 10, updatedAt: AT + seq, ...extra })
      await s.store.write(async (tx) => {
        expect(await tx.getCheckpoint('peer-a')).toBeUndefined()
        tx.setCheckpoint('peer-a', cp(1))
        tx.setCheckpoint('peer-b', cp(2, { servesHash: 'serves' }))
        expect(await tx.getCheckpoint('peer-a')).toEqual(cp(1))
      })
      expect(await s.store.getCheckpoint('peer-b')).toEqual(cp(2, { servesHash: 'serves' }))
      await s.store.write(async (tx) => {
        expect(await tx.getCheckpoint('peer-a')).toEqual(cp(1))
        tx.setCheckpoint('peer-a', cp(5))
      })
      expect(await s.store.getCheckpoint('peer-a')).toEqual(cp(5))
      const listed = await s.store.listCheckpoints()
      expect(listed.sort((x, y) => x.peerId.localeCompare(y.peerId))).toEqual([
        { peerId: 'peer-a', checkpoint: cp(5) },
        { peerId: 'peer-b', checkpoint: cp(2, { servesHash: 'serves' }) }
      ])
    })
  })
}
