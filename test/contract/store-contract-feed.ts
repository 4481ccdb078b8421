/**
 * Store contract, reads and the feed: what an empty store answers, records
 * read back whole, one feed entry per uid at its latest seq, readFeed and
 * countFeed bounds, the CommitEvent of each commit (and the "entries after
 * S" arithmetic it promises listeners), and listObjects paging by uid and
 * by type.
 */
import { describe, expect, it } from 'vitest'
import type { CommitEvent, FeedPage, StoredObject } from '../../store/types.js'
import type { ContractStore } from './store-contract.js'
import { AT, DOMAIN, putAll, sibling, version } from './store-fixtures.js'

const seqs = (page: FeedPage): number[] => page.entries.map((e) => e.seq)
const uidsOf = (page: FeedPage): string[] => page.entries.map((e) => (JSON.parse(e.json) as StoredObject).uid)

export function describeFeedClauses (s: ContractStore): void {
  describe('reads and the feed', () => {
    it('an empty store answers "absent" everywhere, with a fresh epoch and zero counters', async () => {
      const { store } = s
      expect(await store.getObject('nowhere')).toBeUndefined()
      expect(await store.getObjects(['a', 'b'])).toEqual([undefined, undefined])
      expect(await store.getObjects([])).toEqual([])
      expect(await store.holds(['a'])).toEqual([false])
      expect(await store.getAux('space', 'key')).toBeUndefined()
      expect(await store.getCheckpoint('peer')).toBeUndefined()
      expect(await store.getFailed('nowhere')).toBeUndefined()
      expect(await store.listObjects({ limit: 10 })).toEqual({ items: [], next: null })
      expect(await store.listCheckpoints()).toEqual([])
      expect(await store.listConflicts()).toEqual([])
      expect(await store.listFailed()).toEqual([])
      expect(await store.readFeed(0, 10)).toEqual({ entries: [], lastSeq: 0, more: false })
      expect(await store.countFeed(0)).toBe(0)
      const rows: unknown[] = []
      for await (const row of store.iterateAux('space')) rows.push(row)
      expect(rows).toEqual([])
      expect(store.info()).toMatchObject({ domain: DOMAIN, head: 0, objects: 0, conflicts: 0, failed: 0 })
      expect(store.info().epoch).toMatch(/\S/)
      expect(store.conflictsByPeer().size + store.failedByPeer().size).toBe(0)
    })

    it('putObject returns the record with the next feed seq, and reads give it back whole, field for field', async () => {
      const pulled = version('ü-pulled', 3, {
        type: 'AnalysisRequest',
        parent: 'client-1',
        refs: ['svc-1', 'svc-2'],
        data: { text: 'Ω≈ç√ 😀', nested: { list: [1, null, 'x'], empty: {} }, flag: false },
        vector: { [DOMAIN]: 1, 'lab-b': 3 },
        conflicts: [sibling('ü-pulled', 'lab-c', 2)],
        via: 'lab-b',
        viaEpoch: '00ff12',
        conflictVia: ['lab-c']
      })
      const tomb = version('gone', 2, { deleted: true, data: {} })
      const [first, second] = await putAll(s.store, [pulled, tomb])
      expect(first).toEqual({ ...pulled, seq: 1 })
      expect(second).toEqual({ ...tomb, seq: 2 })
      expect(await s.store.getObject('ü-pulled')).toEqual(first)
      // in the order asked, a uid asked twice answered twice
      expect(await s.store.getObjects(['gone', 'missing', 'ü-pulled', 'gone'])).toEqual([second, undefined, first, second])
      expect(s.store.info()).toMatchObject({ head: 2, objects: 2 })
    })

    it('a transaction reads its own writes, which nobody outside sees before the commit', async () => {
      const outside: unknown[] = []
      await s.store.write(async (tx) => {
        expect(await tx.get('fresh')).toBeUndefined()
        const put = tx.putObject(version('fresh', 1))
        expect(await tx.get('fresh')).toEqual(put)
        expect(await tx.getMany(['fresh', 'other'])).toEqual([put, undefined])
        outside.push(await s.store.getObject('fresh'), s.store.info().head)
        // a second write of the same uid in the transaction replaces the first
        const again = tx.putObject(version('fresh', 2))
        expect((await tx.get('fresh'))?.seq).toBe(again.seq)
      })
      expect(outside).toEqual([undefined, 0])
      expect((await s.store.getObject('fresh'))?.data).toEqual({ n: 2 })
      expect(s.store.info()).toMatchObject({ head: 2, objects: 1 })
    })

    it('the feed keeps one entry per uid, at its latest seq, in seq order; readFeed pages it and countFeed counts ranges', async () => {
      await putAll(s.store, [version('a'), version('b'), version('c')]) // seqs 1 2 3
      await putAll(s.store, [version('a', 2)]) // 4: moves a
      await putAll(s.store, [version('b', 2), version('b', 3)]) // 5 then 6: b once, at 6
      await putAll(s.store, [version('d')]) // 7
      expect(s.store.info()).toMatchObject({ head: 7, objects: 4 })

      const first = await s.store.readFeed(0, 2)
      expect([seqs(first), uidsOf(first), first.lastSeq, first.more]).toEqual([[3, 4], ['c', 'a'], 4, true])
      const rest = await s.store.readFeed(first.lastSeq, 2)
      expect([seqs(rest), uidsOf(rest), rest.lastSeq, rest.more]).toEqual([[6, 7], ['b', 'd'], 7, false])
      // past the end: nothing, and lastSeq stays where it was asked from
      expect(await s.store.readFeed(7, 5)).toEqual({ entries: [], lastSeq: 7, more: false })
      // each entry is the record's JSON: the latest version, with the seq it sits at
      for (const entry of [...first.entries, ...rest.entries]) {
        const record = JSON.parse(entry.json) as StoredObject
        expect(record.seq).toBe(entry.seq)
        expect(record).toEqual(await s.store.getObject(record.uid))
      }
      expect((JSON.parse(rest.entries[0]!.json) as StoredObject).data).toEqual({ n: 3 })

      expect(await s.store.countFeed(0)).toBe(4)
      expect(await s.store.countFeed(3)).toBe(3)
      expect(await s.store.countFeed(0, 4)).toBe(2)
      expect(await s.store.countFeed(4, 6)).toBe(1) // seq 5 moved on within its transaction
      expect(await s.store.countFeed(7)).toBe(0)
    })

    it('each commit reports head, changed, moved, source and conflictsAdded; listeners can keep "entries after S" exact from them', async () => {
      const events: CommitEvent[] = []
      const seenAtCall: number[] = []
      const off = s.store.onCommit((e) => { events.push(e); seenAtCall.push(s.store.info().head) })
      // the listener's promise: for every S up to the previous head, after = before + changed − (moved seqs above S)
      const step = async (write: () => Promise<unknown>): Promise<CommitEvent> => {
        const prevHead = s.store.info().head
        const before = await Promise.all(Array.from({ length: prevHead + 1 }, async (_, S) => await s.store.countFeed(S)))
        const count = events.length
        await write()
        expect(events.length).toBe(count + 1)
        const event = events[events.length - 1]!
        for (let S = 0; S <= prevHead; S++) {
          expect(await s.store.countFeed(S), `entries after ${S}`).toBe(before[S]! + event.changed - event.moved.filter((m) => m > S).length)
        }
        return event
      }
      expect(await step(async () => await putAll(s.store, [version('a'), version('b'), version('c')]))).toEqual({ head: 3, changed: 3, moved: [], source: undefined, conflictsAdded: 0 })
      expect(await step(async () => await putAll(s.store, [version('a', 2), version('c', 2)], { source: 'lab-b' }))).toEqual({ head: 5, changed: 2, moved: [1, 3], source: 'lab-b', conflictsAdded: 0 })
      // the same uid twice in one transaction: the seq given first counts as moved too
      expect(await step(async () => await putAll(s.store, [version('b', 2), version('b', 3)]))).toEqual({ head: 7, changed: 2, moved: [2, 6], source: undefined, conflictsAdded: 0 })
      // a sibling gained counts; one more sibling counts again; resolving counts nothing
      const withOne = { ...version('a', 2), conflicts: [sibling('a', 'lab-b')], conflictVia: ['lab-b'] }
      expect((await step(async () => await putAll(s.store, [withOne, version('d')], { source: 'lab-b' }))).conflictsAdded).toBe(1)
      expect((await step(async () => await putAll(s.store, [{ ...withOne, conflicts: [sibling('a', 'lab-b'), sibling('a', 'lab-c')] }]))).conflictsAdded).toBe(1)
      expect((await step(async () => await putAll(s.store, [version('a', 3)]))).conflictsAdded).toBe(0)
      // a commit of only aux rows, a checkpoint and a parked entry changes no object
      expect(await step(async () => await s.store.write((tx) => {
        tx.putAux('space', 'k', 1)
        tx.setCheckpoint('peer', { seq: 1, epoch: 'e', rulesHash: 'r', pulled: 1, updatedAt: AT })
      }))).toEqual({ head: 11, changed: 0, moved: [], source: undefined, conflictsAdded: 0 })
      // called once the commit is in: the store's head already is the event's
      expect(seenAtCall).toEqual(events.map((e) => e.head))
      off()
      await putAll(s.store, [version('e')])
      expect(events).toHaveLength(7)
    })

    it('listObjects pages in uid order and filters by exact type; a changed type moves the object; tombstones stay listed', async () => {
      const samples = ['s-3', 's-1', 's-5', 's-2', 's-4'].map((uid) => version(uid))
      // a type whose name begins with another's must not leak into its listing
      const types = ['t-1', 't-2'].map((uid) => version(uid, 1, { type: 'SampleType' }))
      await putAll(s.store, [...samples, ...types, version('c-1', 1, { type: 'Client' })])
      const page1 = await s.store.listObjects({ limit: 3 })
      expect([page1.items.map((o) => o.uid), page1.next]).toEqual([['c-1', 's-1', 's-2'], 's-2'])
      const page2 = await s.store.listObjects({ limit: 3, after: page1.next! })
      expect([page2.items.map((o) => o.uid), page2.next]).toEqual([['s-3', 's-4', 's-5'], 's-5'])
      const page3 = await s.store.listObjects({ limit: 3, after: page2.next! })
      expect([page3.items.map((o) => o.uid), page3.next]).toEqual([['t-1', 't-2'], null])
      expect((await s.store.listObjects({ limit: 10 })).items[0]).toEqual(await s.store.getObject('c-1'))

      const sampleUids = async (after?: string): Promise<[string[], string | null]> => {
        const page = await s.store.listObjects({ type: 'Sample', limit: 2, ...(after !== undefined ? { after } : {}) })
        return [page.items.map((o) => o.uid), page.next]
      }
      expect(await sampleUids()).toEqual([['s-1', 's-2'], 's-2'])
      expect(await sampleUids('s-2')).toEqual([['s-3', 's-4'], 's-4'])
      expect(await sampleUids('s-4')).toEqual([['s-5'], null])
      expect((await s.store.listObjects({ type: 'Sampl', limit: 10 })).items).toEqual([])

      await putAll(s.store, [version('s-2', 2, { type: 'SampleType' }), version('s-3', 2, { deleted: true, data: {} })])
      const sampleList = (await s.store.listObjects({ type: 'Sample', limit: 10 })).items
      expect(sampleList.map((o) => o.uid)).toEqual(['s-1', 's-3', 's-4', 's-5'])
      expect(sampleList[1]?.deleted).toBe(true)
      expect((await s.store.listObjects({ type: 'SampleType', limit: 10 })).items.map((o) => o.uid)).toEqual(['s-2', 't-1', 't-2'])
    })
  })

}
