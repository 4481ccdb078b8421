/**
 * One feed read for all the serve sessions that ask for the same page of the
 * same feed. When a commit lands on a hub, every peer that pulls from it is
 * notified and asks for the page after the position it had — for peers that
 * were caught up, the very same page. Without sharing, N peers cost N
 * LevelDB iterator reads and N `getMany`s of the same records per commit.
 *
 * Invariant: a page is reused only at the feed head it was read at. The feed
 * and the records it points at change only by commits that add feed entries
 * (a replaced object moves to a new entry, so the head grows), so at one
 * head the same (since, limit) read gives the same page. Reads happen inside
 * `store.readBetweenWrites` (FeedTally), where no batch is being written and
 * `store.info().head` is the state being read. Pages are immutable once
 * read; each session keeps its own cursor and tally over them.
 *
 * Bounded: at most MAX_SHARED_PAGES pages of at most MAX_SHARED_ENTRIES
 * entries are kept, all dropped when the head moves; a larger page (an
 * initial sync's window) is read for its session alone.
 */
import type { FeedPage, Store } from '../../store/types.js'

/** distinct (since, limit) pages kept for the current head */
const MAX_SHARED_PAGES = 16
/** pages above this many entries are not kept (memory: a page of a bulk pull can be megabytes) */
const MAX_SHARED_ENTRIES = 256

export type FeedReader = (since: number, limit: number) => Promise<FeedPage>

export class SharedFeedReads {
  readonly #store: Store
  #head = -1
  readonly #pages = new Map<string, Promise<FeedPage>>()

  constructor (store: Store) {
    this.#store = store
  }

  /** pages kept now (tests) */
  get size (): number { return this.#pages.size }

  /** store.readFeed(since, limit), shared with every caller asking the same at the same head; call between writes. */
  readonly read: FeedReader = async (since, limit) => {
    const head = this.#store.info().head
    if (head !== this.#head) {
      this.#pages.clear()
      this.#head = head
    }
    const key = `${since}:${limit}`
    const kept = this.#pages.get(key)
    if (kept !== undefined) return await kept
    const reading = this.#store.readFeed(since, limit)
    if (this.#pages.size < MAX_SHARED_PAGES) {
      this.#pages.set(key, reading)
      const forget = (): void => { if (this.#pages.get(key) === reading) this.#pages.delete(key) }
      reading.then((page) => { if (page.entries.length > MAX_SHARED_ENTRIES) forget() }, forget)
    }
    return await reading
  }
}
