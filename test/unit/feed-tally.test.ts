/**
 * FeedTally against a real LevelDB store: after any mix of new objects,
 * edits (before, inside and after the page being served, several in one
 * transaction), page reads and cursor moves, its count equals a fresh count
 * of the feed — also when writes race with the reads.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FeedTally } from '../../agent/sync/feed-tally.js'
import { writeDocuments, type DocumentInput, type LocalWriteDeps } from '../../agent/apply/local-writes.js'
import { createLevelStore } from '../../store/level-store.js'
import type { Store } from '../../store/types.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'

const doc = (n: number, rev = 0): DocumentInput => ({ uid: `u-${String(n).padStart(4, '0')}`, type: 'Client', id: `c-${n}`, data: { rev } })

/** a small deterministic PRNG (mulberry32) so a failure replays */
function rng (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('FeedTally', () => {
  let dir: string
  let store: Store
  let local: LocalWriteDeps
  let tally: FeedTally

  beforeEach(async () => {
    dir = await makeTempDir('labmesh-tally-')
    store = createLevelStore({ location: dir, domain: 'lab-a' })
    await store.open()
    local = { store, domain: 'lab-a', now: Date.now, rules: [] }
    tally = new FeedTally(store)
    tally.start()
  })
  afterEach(async () => {
    tally.stop()
    await store.close()
    await removeDir(dir)
  })

  const exact = async (): Promise<number> => await store.countFeed(tally.cursor!)

  it('stays exact through moves before, inside and after the page being served', async () => {
    await writeDocuments(local, Array.from({ length: 100 }, (_, i) => doc(i)))
    await tally.reset(0)
    expect(tally.remaining).toBe(100)
    const page = await tally.readPage(30)
    expect(page.entries).toHaveLength(30)
    // part of the page is "sent": advance to its 10th entry
    expect(tally.advance(page.entries[9]!.seq)).toBe(90)
    // edits: 2 already passed, 3 inside the unsent rest of the page, 4 beyond the page, plus 2 new objects
    await writeDocuments(local, [doc(1, 1), doc(5, 1), doc(15, 1), doc(20, 1), doc(25, 1), doc(50, 1), doc(60, 1), doc(70, 1), doc(80, 1), doc(100), doc(101)])
    expect(tally.remaining).toBe(await exact())
    expect(tally.remaining).toBe(94)
    // the rest of the page goes out: the three moved entries are not subtracted twice
    tally.advance(page.lastSeq)
    expect(tally.remaining).toBe(await exact())
    // one transaction writing the same object twice adds one entry, not two
    await writeDocuments(local, [doc(102), doc(102, 1)])
    expect(tally.remaining).toBe(await exact())
  })

  it('matches a fresh count after every step of a random interleaving', async () => {
    const random = rng(4242)
    let next = 0
    await writeDocuments(local, Array.from({ length: 200 }, () => doc(next++)))
    await tally.reset(0)
    let page = await tally.readPage(25)
    for (let step = 0; step < 300; step++) {
      const r = random()
      if (r < 0.35) {
        const batch: DocumentInput[] = []
        for (let k = Math.floor(random() * 6); k >= 0; k--) batch.push(random() < 0.3 ? doc(next++) : doc(Math.floor(random() * next), step))
        await writeDocuments(local, batch)
      } else if (r < 0.7 && page.entries.length > 0) {
        const at = page.entries[Math.floor(random() * page.entries.length)]!.seq
        tally.advance(at)
      } else if (r < 0.9) {
        tally.advance(page.lastSeq)
        page = await tally.readPage(1 + Math.floor(random() * 40))
      } else {
        // a pull from somewhere else: recount
        await tally.reset(Math.floor(random() * store.info().head))
        page = await tally.readPage(20)
      }
      expect(tally.remaining, `step ${step}`).toBe(await exact())
    }
  })

  it('stays exact when writes race with page reads', async () => {
    const random = rng(7)
    let next = 0
    await writeDocuments(local, Array.from({ length: 500 }, () => doc(next++)))
    await tally.reset(0)
    const writes: Array<Promise<unknown>> = []
    for (let round = 0; round < 40; round++) {
      // writes are started, not awaited: they land while pages are read
      writes.push(writeDocuments(local, Array.from({ length: 5 }, () => random() < 0.5 ? doc(next++) : doc(Math.floor(random() * next), round))))
      const page = await tally.readPage(15)
      if (page.entries.length > 3) tally.advance(page.entries[2]!.seq)
      writes.push(writeDocuments(local, [doc(Math.floor(random() * next), round + 1000)]))
      tally.advance(page.lastSeq)
    }
    await Promise.all(writes)
    expect(tally.remaining).toBe(await exact())
  })

  it('rewinds to where its jumps to the head began without re-counting, exact through later commits', async () => {
    const random = rng(99)
    let next = 0
    await writeDocuments(local, Array.from({ length: 50 }, () => doc(next++)))
    await tally.reset(0)
    tally.advance((await tally.readPage(100)).lastSeq)
    let counted = 0
    const rewinds: number[] = []
    const countFeed = store.countFeed.bind(store)
    store.countFeed = async (after, upTo) => { counted++; return await countFeed(after, upTo) }
    for (let round = 0; round < 60; round++) {
      // the peer was caught up at `from`; its own versions arrive (one or more commits), and others' may too
      const from = tally.cursor!
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        await writeDocuments(local, [random() < 0.5 ? doc(next++) : doc(Math.floor(random() * next), round)])
        if (random() < 0.7) tally.jumpToHead(store.info().head)
      }
      if (random() < 0.4) await writeDocuments(local, [doc(Math.floor(random() * next), round + 100), doc(next++)])
      // its next pull starts from its checkpoint, where the jumps began (a serve session resets only when the pull is elsewhere)
      if (tally.cursor !== from) {
        const before = counted
        await tally.reset(from)
        rewinds.push(counted - before)
      }
      expect(tally.cursor).toBe(from)
      expect(tally.remaining, `round ${round}`).toBe(await exact())
      tally.advance((await tally.readPage(1000)).lastSeq)
    }
    store.countFeed = countFeed
    // a rewind never needed the feed re-counted
    expect(rewinds.length).toBeGreaterThan(30)
    expect(rewinds.every((n) => n === 0)).toBe(true)
  })
})
