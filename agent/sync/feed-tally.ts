/**
 * An exact count of this agent's feed entries after a cursor — "how many
 * objects does this puller still have to go through" — kept current by
 * commit events instead of re-counting the feed for every frame.
 *
 * Invariant: `remaining` equals the number of feed entries with seq >
 * `cursor` in the committed store, as of the last commit listeners were told
 * about. It holds because
 * - the initial count and every page are read between two writes
 *   (`store.readBetweenWrites`), so they match what the listener has seen;
 * - a commit adds its new entries above the cursor and removes every moved
 *   (replaced) entry that sat above it;
 * - advancing the cursor over a page subtracts that page's entries, except
 *   those a later commit already moved away (and subtracted).
 *
 * Each feed entry is the latest version of one object, so this counts
 * objects. It counts what the feed holds, before serve rules decide what a
 * given peer is sent.
 */
import type { CommitEvent, FeedPage, Store } from '../../store/types.js'
import type { FeedReader } from './shared-feed-reads.js'

/**
 * Feed entries the cursor jumped over (jumpToHead): (from, to], and how many
 * of them are in the feed now. A peer whose own versions made us jump still
 * pulls from `from` (its checkpoint knows nothing of the jump); with this the
 * tally rewinds without re-counting the feed.
 */
interface Jump { readonly from: number, readonly to: number, count: number }

interface ReadPage {
  /** seqs of the page's entries, ascending; the page covers (from, last] */
  readonly seqs: readonly number[]
  readonly last: number
  /** page seqs a commit moved away since the page was read */
  readonly moved: Set<number>
}

export class FeedTally {
  readonly #store: Store
  #cursor = 0
  #remaining = 0
  #valid = false
  #page: ReadPage | undefined
  #jump: Jump | undefined
  #unsubscribe: (() => void) | undefined
  readonly #readFeed: FeedReader

  /** `readFeed`: how pages are read (a hub's serve sessions share them, shared-feed-reads.ts); the store's own by default */
  constructor (store: Store, readFeed?: FeedReader) {
    this.#store = store
    this.#readFeed = readFeed ?? (async (since, limit) => await store.readFeed(since, limit))
  }

  /** the seq the count is relative to; undefined before the first reset */
  get cursor (): number | undefined { return this.#valid ? this.#cursor : undefined }
  /** feed entries after the cursor, now */
  get remaining (): number { return this.#remaining }

  start (): void {
    this.#unsubscribe ??= this.#store.onCommit((event) => this.#onCommit(event))
  }

  stop (): void {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.#valid = false
    this.#jump = undefined
  }

  /**
   * Count the entries after `cursor` afresh (a pull that does not continue
   * where the last one ended) — or, when `cursor` is where the last jumps to
   * the head started, from the counts kept since: no feed read.
   */
  async reset (cursor: number): Promise<void> {
    const jump = this.#jump
    this.#jump = undefined
    if (this.#valid && jump !== undefined && jump.from === cursor && jump.to === this.#cursor) {
      this.#cursor = cursor
      this.#remaining += jump.count
      this.#page = undefined
      return
    }
    await this.#store.readBetweenWrites(async () => {
      const count = await this.#store.countFeed(cursor)
      // set inside the read: no commit can land between the count and these lines
      this.#cursor = cursor
      this.#remaining = count
      this.#page = undefined
      this.#valid = true
    })
  }

  /** Read up to `limit` entries after the cursor; `advance` then moves over them. */
  async readPage (limit: number): Promise<FeedPage> {
    if (!this.#valid) throw new Error('FeedTally.readPage before reset')
    return await this.#store.readBetweenWrites(async () => {
      const page = await this.#readFeed(this.#cursor, limit)
      this.#page = { seqs: page.entries.map((e) => e.seq), last: page.lastSeq, moved: new Set() }
      return page
    })
  }

  /**
   * Move the cursor to `seq` (an entry of the last page read, or its end)
   * and return the entries remaining after it. Moving backwards is a no-op.
   */
  advance (seq: number): number {
    const page = this.#page
    if (page === undefined || seq <= this.#cursor) return this.#remaining
    if (seq > page.last) throw new Error(`FeedTally.advance(${seq}) beyond the page read (up to ${page.last})`)
    let passed = 0
    for (const s of page.seqs) if (s > this.#cursor && s <= seq && !page.moved.has(s)) passed++
    this.#jump = undefined
    this.#remaining -= passed
    this.#cursor = seq
    return this.#remaining
  }

  /**
   * The peer is known to hold everything up to `seq` (the head), e.g. because
   * our newest entries are the versions it sent us: nothing remains after it.
   */
  jumpToHead (seq: number): void {
    if (!this.#valid || seq < this.#cursor || seq < this.#store.info().head) return
    // everything after the cursor lies in (cursor, seq] now: remember it, extending a jump that ended here
    const jump = this.#jump
    if (jump !== undefined && jump.to === this.#cursor) this.#jump = { from: jump.from, to: seq, count: jump.count + this.#remaining }
    else this.#jump = { from: this.#cursor, to: seq, count: this.#remaining }
    this.#cursor = seq
    this.#remaining = 0
    this.#page = undefined
  }

  #onCommit (event: CommitEvent): void {
    if (!this.#valid) return
    // new entries take the seqs (head − changed, head]; count those above the cursor
    const firstNew = event.head - event.changed + 1
    this.#remaining += Math.max(0, event.head - Math.max(this.#cursor + 1, firstNew) + 1)
    const page = this.#page
    const jump = this.#jump
    for (const s of event.moved) {
      if (jump !== undefined && s > jump.from && s <= jump.to) jump.count--
      if (s <= this.#cursor) continue
      this.#remaining--
      if (page !== undefined && s <= page.last) page.moved.add(s)
    }
  }
}
