/**
 * The writer's account of its own writes, which the poller reads to tell
 * them from the lab's edits.
 *
 * Invariants: batches run one at a time (a revert from the poller, outside
 * any store transaction, may come while a pull's batch is being written),
 * so the generation's parity and each logged entry describe one batch. The
 * generation is odd while a batch runs and moves on at its start and its
 * end; each finished batch is logged with the SENAITE uids it touched and
 * the generation it ended at, for the last TOUCHED_LOG_BATCHES batches.
 * A uid is noted before the request that may change it is sent (a created
 * object as soon as the site's answer names it), so what a running batch
 * noted so far covers everything it can have changed yet: the poller never
 * has to wait for the writer to be idle — which, under a steady stream of
 * remote edits, it may never be.
 */

/** How many finished batches' touched uids the writer remembers for the poller. */
const TOUCHED_LOG_BATCHES = 1024

/**
 * What batches wrote to in the site, by SENAITE uid: the objects themselves
 * (written or created) and their parents (which workflow cascades move). An
 * object is touched when it is in either set, or its parent was written
 * (cascades move children) — not when only a sibling was written.
 */
export interface Touched {
  readonly written: ReadonlySet<string>
  readonly parents: ReadonlySet<string>
}
const NOTHING_TOUCHED: Touched = { written: new Set(), parents: new Set() }

/** Two sets read as one, without copying them: the finished batches' touches and the running batch's. */
class UnionView implements ReadonlySet<string> {
  readonly #a: ReadonlySet<string>
  readonly #b: ReadonlySet<string>
  constructor (a: ReadonlySet<string>, b: ReadonlySet<string>) { this.#a = a; this.#b = b }
  has (uid: string): boolean { return this.#a.has(uid) || this.#b.has(uid) }
  get size (): number { return new Set(this).size }
  * [Symbol.iterator] (): SetIterator<string> { yield * new Set([...this.#a, ...this.#b]) }
  * keys (): SetIterator<string> { yield * this }
  * values (): SetIterator<string> { yield * this }
  * entries (): SetIterator<[string, string]> { for (const uid of this) yield [uid, uid] }
  forEach (fn: (value: string, key: string, set: ReadonlySet<string>) => void): void { for (const uid of this) fn(uid, uid, this) }
}

/** What the poller asks the writer about its writes. */
export interface WriteAccount {
  /** odd while a batch is being written; changes with every batch (the poller's staleness check) */
  readonly generation: number
  /**
   * The SENAITE uids that batches after `generation` wrote to or are about
   * to (objects, their parents, objects created) — the running batch's
   * included, as far as it got — or undefined when the log no longer
   * reaches back.
   */
  touchedSince (generation: number): Touched | undefined
  /** resolves once no batch is being written */
  idle (): Promise<void>
}

export interface BatchLog extends WriteAccount {
  /** run one batch once those queued before it have ended */
  run<T> (batch: () => Promise<T>): Promise<T>
  /** note a SENAITE uid the running batch may change */
  touch (localUid: string | undefined, as?: 'written' | 'parents'): void
}

export function createBatchLog (): BatchLog {
  let generation = 0
  /** SENAITE uids the batch being written touches; then, per finished batch, logged with the generation it ended at */
  let touching = { written: new Set<string>(), parents: new Set<string>() }
  const touchedLog: Array<{ generation: number, touched: Touched }> = []
  /** the union for the last `since` asked (a poll asks for the same one per item): extended, not rebuilt */
  let union: { since: number, upTo: number, written: Set<string>, parents: Set<string> } | undefined
  /** batches queued or being written, and the end of the last one */
  let queued = 0
  let tail: Promise<void> = Promise.resolve()

  return {
    get generation () { return generation },

    touch (localUid, as = 'written') {
      if (localUid !== undefined) touching[as].add(localUid)
    },

    async run<T> (batch: () => Promise<T>): Promise<T> {
      queued++
      const run = async (): Promise<T> => {
        generation++
        touching = { written: new Set(), parents: new Set() }
        try {
          return await batch()
        } finally {
          generation++
          touchedLog.push({ generation, touched: touching })
          if (touchedLog.length > TOUCHED_LOG_BATCHES) touchedLog.shift()
        }
      }
      const result = tail.then(run, run)
      tail = result.then(() => {}, () => {})
      try {
        return await result
      } finally {
        queued--
      }
    },

    async idle () {
      while (queued > 0) await tail
    },

    touchedSince (since) {
      const finished = finishedSince(since)
      if (finished === undefined || generation % 2 === 0) return finished
      return { written: new UnionView(finished.written, touching.written), parents: new UnionView(finished.parents, touching.parents) }
    }
  }

  /** what finished batches after `since` touched (undefined: the log no longer reaches back) */
  function finishedSince (since: number): Touched | undefined {
    // the last finished batch ended at the generation, or one before it while a batch runs
    if (since >= generation - (generation % 2)) return NOTHING_TOUCHED
    if (union === undefined || union.since !== since) union = { since, upTo: since, written: new Set(), parents: new Set() }
    // the first batch not merged yet ended at upTo + 2 (or + 1 from an odd start): it must still be in the log
    if (generation > union.upTo && (touchedLog.length === 0 || touchedLog[0]!.generation > union.upTo + 2)) return undefined
    for (const entry of touchedLog) {
      if (entry.generation <= union.upTo) continue
      for (const uid of entry.touched.written) union.written.add(uid)
      for (const uid of entry.touched.parents) union.parents.add(uid)
      union.upTo = entry.generation
    }
    return union
  }
}
