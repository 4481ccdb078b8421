/**
 * The digest's aggregate rows as committed, in memory: loaded at open (a
 * few rows per group: 64 buckets each), changed only after a batch
 * committed (the values its transaction computed), reloaded when the store
 * recovers from a failed write. A write reads its base values here instead
 * of from disk, so keeping the digest costs the hot path no read.
 */
import { DIGEST_STORED_BITS, aggregateHash, combine, emptyAggregate, type DigestAggregate, type DigestGroup } from '../protocol/digest.js'
import { BUCKET_PREFIX, parseAggregateValue, parseBucketKey, parseGroupKey } from './digest-rows.js'
import type { Sub } from './sublevels.js'

/** A group's or a bucket's count and hash, as the store reports them. */
export interface DigestTotal {
  readonly count: number
  readonly hash: string
}

export class DigestMirror {
  readonly #rows: Map<string, DigestAggregate>

  constructor (rows = new Map<string, DigestAggregate>()) {
    this.#rows = rows
  }

  async load (sub: Sub): Promise<void> {
    this.#rows.clear()
    for await (const [key, value] of sub.iterator({ gte: BUCKET_PREFIX, lt: String.fromCharCode(BUCKET_PREFIX.charCodeAt(0) + 1) })) {
      this.#rows.set(key as string, parseAggregateValue(value as string))
    }
  }

  get (bucketKey: string): DigestAggregate | undefined {
    return this.#rows.get(bucketKey)
  }

  /** A committed transaction's new values (count 0: the row is gone). */
  apply (values: ReadonlyMap<string, DigestAggregate>): void {
    for (const [key, agg] of values) {
      if (agg.count > 0) this.#rows.set(key, agg)
      else this.#rows.delete(key)
    }
  }

  /** A copy that later commits do not change (a consistent view for a check). */
  copy (): DigestMirror {
    return new DigestMirror(new Map([...this.#rows].map(([k, v]) => [k, { ...v }])))
  }

  entries (): IterableIterator<[string, DigestAggregate]> {
    return this.#rows.entries()
  }

  /** Every group's total, by group key. */
  groupTotals (): Map<string, DigestAggregate> {
    const out = new Map<string, DigestAggregate>()
    for (const [key, agg] of this.#rows) {
      const { group } = parseBucketKey(key)
      let total = out.get(group)
      if (total === undefined) out.set(group, total = emptyAggregate())
      combine(total, agg)
    }
    return out
  }

  /** One group's stored buckets (DIGEST_STORED_BITS), the non-empty ones, in order. */
  buckets (group: string): Array<{ bucket: number, agg: DigestAggregate }> {
    const out: Array<{ bucket: number, agg: DigestAggregate }> = []
    for (let b = 0; b < 1 << DIGEST_STORED_BITS; b++) {
      const agg = this.#rows.get(`${BUCKET_PREFIX}${group}\x00${b.toString(16).padStart(2, '0')}`)
      if (agg !== undefined) out.push({ bucket: b, agg })
    }
    return out
  }
}

/** Group totals as the store's readers see them: the group, its count and hash. */
export function describeTotals (totals: ReadonlyMap<string, DigestAggregate>): Array<DigestGroup & DigestTotal> {
  return [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, agg]) => ({ ...parseGroupKey(key), count: agg.count, hash: aggregateHash(agg) }))
}
