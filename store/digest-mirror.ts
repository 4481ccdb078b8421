/**
 * The digest's group aggregates as committed, in memory: loaded at open (one
 * row per group), changed only after a batch committed (the values its
 * transaction computed), reloaded when the store recovers from a failed
 * write. A write reads its base values here instead of from disk, so keeping
 * the digest costs the hot path no read.
 */
import { aggregateFrom, type DigestAggregate } from '../protocol/digest.js'
import { GROUP_PREFIX } from './digest-rows.js'
import type { Sub } from './sublevels.js'

export class DigestMirror {
  readonly #groups: Map<string, DigestAggregate>

  constructor (groups = new Map<string, DigestAggregate>()) {
    this.#groups = groups
  }

  async load (sub: Sub): Promise<void> {
    this.#groups.clear()
    for await (const [key, value] of sub.iterator({ gte: GROUP_PREFIX, lt: String.fromCharCode(GROUP_PREFIX.charCodeAt(0) + 1) })) {
      const text = value as string
      const space = text.indexOf(' ')
      this.#groups.set((key as string).slice(GROUP_PREFIX.length), aggregateFrom(Number.parseInt(text.slice(0, space), 10), text.slice(space + 1)))
    }
  }

  get (group: string): DigestAggregate | undefined {
    return this.#groups.get(group)
  }

  /** A committed transaction's new values (count 0: the group is gone). */
  apply (values: ReadonlyMap<string, DigestAggregate>): void {
    for (const [group, agg] of values) {
      if (agg.count > 0) this.#groups.set(group, agg)
      else this.#groups.delete(group)
    }
  }

  /** A copy that later commits do not change (a consistent view with a snapshot). */
  copy (): DigestMirror {
    return new DigestMirror(new Map([...this.#groups].map(([k, v]) => [k, { ...v }])))
  }

  /** every group with leaves, by group key */
  entries (): IterableIterator<[string, DigestAggregate]> {
    return this.#groups.entries()
  }
}
