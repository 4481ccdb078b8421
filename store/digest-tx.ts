/**
 * What one write transaction does to the digest (digest-rows.ts): putObject
 * writes each record's leaf as the value of its type-index row and hands
 * the old and new leaf here, which keeps, per group, the change to its
 * aggregate (XOR and count); once the transaction's function has resolved,
 * `finish` turns those into the groups' new aggregate rows — once per
 * touched group, however many of its leaves changed — computed from what
 * the transaction it is built on left them (or the committed values). Every
 * row goes into the transaction's ONE batch, so the digest never disagrees
 * with the objects it describes.
 */
import { aggregateHash, combine, emptyAggregate, xorLeaf, type DigestAggregate } from '../protocol/digest.js'
import { aggregateText, groupRowKey, type RecordDigest } from './digest-rows.js'
import type { BatchOp, Sub } from './sublevels.js'

export class DigestWrites {
  /** type-index rows this transaction wrote (undefined: deleted), for healDigest in transactions built on it */
  readonly rows = new Map<string, string | undefined>()
  /** groups' aggregates after this transaction, by group key (set by finish; count 0: the group is gone) */
  readonly values = new Map<string, DigestAggregate>()
  readonly #deltas = new Map<string, DigestAggregate>()
  readonly #sub: Sub
  readonly #ops: BatchOp[]

  /** `ops`: the transaction's batch; `sub`: the digest's sublevel */
  constructor (ops: BatchOp[], sub: Sub) {
    this.#ops = ops
    this.#sub = sub
  }

  /** A record's leaf in (its type-index row is being written with `digest.value`). */
  add (digest: RecordDigest): void {
    xorLeaf(this.#delta(digest.group), digest.hash, 1)
    this.rows.set(digest.typeRowKey, digest.value)
  }

  /** A leaf out: the old record's, or a row that disagrees with its record (healDigest). */
  remove (group: string, hash: string): void {
    xorLeaf(this.#delta(group), hash, -1)
  }

  /** A type-index row deleted by this transaction. */
  deleted (typeRowKey: string): void {
    this.rows.set(typeRowKey, undefined)
  }

  /**
   * The groups' new aggregate rows, each from what this transaction's base
   * left it (`current`: the base chain's values, else the committed ones).
   */
  finish (current: (group: string) => DigestAggregate | undefined): void {
    for (const [group, delta] of this.#deltas) {
      if (delta.count === 0 && delta.h0 === 0 && delta.h1 === 0 && delta.h2 === 0 && delta.h3 === 0) continue
      const agg = { ...(current(group) ?? emptyAggregate()) }
      combine(agg, delta)
      this.values.set(group, agg)
      const key = groupRowKey(group)
      if (agg.count > 0) {
        const text = aggregateText(agg.count, aggregateHash(agg))
        this.#ops.push({ type: 'put', sublevel: this.#sub, key, value: text, text })
      } else {
        this.#ops.push({ type: 'del', sublevel: this.#sub, key })
      }
    }
    this.#deltas.clear()
  }

  #delta (group: string): DigestAggregate {
    let delta = this.#deltas.get(group)
    if (delta === undefined) this.#deltas.set(group, delta = emptyAggregate())
    return delta
  }
}
