/**
 * SharedFeedReads against a real LevelDB store: serve sessions that share
 * feed pages see exactly what their own reads would have shown — the same
 * entries as a fresh `store.readFeed` at that moment, never a page from
 * before a commit — and their tallies stay exact while writes race with the
 * reads. Identical requests at one head get the very same page (read once).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FeedTally } from '../../agent/sync/feed-tally.js'
import { SharedFeedReads } from '../../agent/sync/shared-feed-reads.js'
import { writeDocuments, type DocumentInput, type LocalWriteDeps } from '../../agent/apply/local-writes.js'
import { createLevelStore } from '../../store/level-store.js'
import type { FeedPage, Store } from '../../store/types.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'

const doc = (n: number, rev = 0): DocumentInput => ({ uid: `u-${String(n).padStart(4, '0')}`, type: 'Client', id: `c-${n}`, data: { rev } })

describe('SharedFeedReads', () => {
  let dir: string
  let store: Store
  let local: LocalWriteDeps
  let shared: SharedFeedReads

  beforeEach(async () => {
    dir = await makeTempDir('labmesh-shared-reads-')
    store = createLevelStore({ location: dir, domain: 'hub' })
    await store.open()
    local = { store, domain: 'hub', now: Date.now, rules: [] }
    shared = new SharedFeedReads(store)
  })
  afterEach(async () => {
    await store.close()
    await removeDir(dir)
  })

  const sharedRead = async (since: number, limit: number): Promise<FeedPage> => await store.readBetweenWrites(async () => await shared.read(since, limit))
  const fresh = async (since: number, limit: number): Promise<FeedPage> => await store.readBetweenWrites(async () => await store.readFeed(since, limit))

  it('gives every session asking the same at one head the same page, and a fresh one after a commit', async () => {
    await writeDocuments(local, Array.from({ length: 20 }, (_, i) => doc(i)))
    const head = store.info().head
    const [a, b] = await Promise.all([sharedRead(head - 1, 100), sharedRead(head - 1, 100)])
    expect(a).toBe(b)
    expect(a).toEqual(await fresh(head - 1, 100))
    // a commit that moves an entry of that page: the next read is not the old page
    await writeDocuments(local, [doc(19, 1)])
    const after = await sharedRead(head - 1, 100)
    expect(after).not.toBe(a)
    expect(after).toEqual(await fresh(head - 1, 100))
    expect(after.entries.map((e) => JSON.parse(e.json).data.rev)).toEqual([1])
  })

  it('keeps no large pages (a bulk pull reads its windows alone)', async () => {
    await writeDocuments(local, Array.from({ length: 300 }, (_, i) => doc(i)))
    const page = await sharedRead(0, 500)
    expect(page.entries).toHaveLength(300)
    expect(shared.size).toBe(0)
    await sharedRead(290, 500)
    expect(shared.size).toBe(1)
  })

  it('keeps two sessions\' tallies exact and their pages fresh while writes race with the reads', async () => {
    let next = 0
    await writeDocuments(local, Array.from({ length: 100 }, () => doc(next++)))
    const tallies = [new FeedTally(store, shared.read), new FeedTally(store, shared.read)]
    for (const t of tallies) { t.start(); await t.reset(0) }
    try {
      const writes: Array<Promise<unknown>> = []
      for (let round = 0; round < 30; round++) {
        writes.push(writeDocuments(local, [doc(next++), doc(round % next, round + 1)]))
        for (const t of tallies) {
          const since = t.cursor!
          const page = await t.readPage(8)
          // what this session was shown is what the store held when it read (no entry of a later commit missing, none stale)
          for (const e of page.entries) expect(e.seq).toBeGreaterThan(since)
          t.advance(page.lastSeq)
        }
      }
      await Promise.all(writes)
      for (const t of tallies) expect(t.remaining).toBe(await store.countFeed(t.cursor!))
      // caught up: both read the same (empty) page at the head, once
      const [p, q] = await Promise.all(tallies.map(async (t) => await t.readPage(8)))
      expect(p).toBe(q)
      expect(p!.entries).toEqual([])
    } finally {
      for (const t of tallies) t.stop()
    }
  })
})
