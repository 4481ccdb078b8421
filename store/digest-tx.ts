/**
 * What one write transaction does to the digest (digest-rows.ts): for each
 * putObject, the old record's leaf row out and the new one in, and each
 * touched aggregate row's change kept as a delta (XOR and count); when the
 * transaction's function has resolved, `finish` turns the deltas into the
 * aggregate rows' new values — once per touched row, however many of its
 * leaves changed — computed from the values of the transaction it is built
 * on (or the committed ones). Every row goes into the transaction's ONE
 * batch, so the digest never disagrees with the objects it describes.
 */
import { combine, emptyAggregate, xorLeaf, type DigestAggregate } from '../protocol/digest.js'
import { aggregateValue, bucketKeyOfLeaf, leafHashOf, type RecordDigest } from './digest-rows.js'
import type { BatchOp, Sub } from './sublevels.js'

export class DigestWrites {
  /** leaf rows this transaction wrote (undefined: deleted), for transactions built on it */
  readonly leaves = new Map<string, string | undefined>()
  /** aggregate rows' values after this transaction (set by finish; count 0: the row is deleted) */
  readonly values = new Map<string, DigestAggregate>()
  readonly #deltas = new Map<string, DigestAggregate>()
  readonly #sub: Sub
  readonly #ops: BatchOp[]

  /** `ops`: the transaction's batch; `sub`: the digest's sublevel */
  constructor (ops: BatchOp[], sub: Sub) {
    this.#ops = ops
    this.#sub = sub
  }

  /** A record replaced `prev` (undefined: a new uid). */
  replace (prev: RecordDigest | undefined, next: RecordDigest): void {
    if (prev !== undefined) {
      if (prev.leafKey === next.leafKey && prev.value === next.value) return
      xorLeaf(this.#delta(prev.bucketKey), prev.hash, -1)
      if (prev.leafKey !== next.leafKey) this.#del(prev.leafKey)
    }
    this.add(next)
  }

  /** A leaf row in (a record's, or one healDigest found missing). */
  add (digest: RecordDigest): void {
    xorLeaf(this.#delta(digest.bucketKey), digest.hash, 1)
    this.#ops.push({ type: 'put', sublevel: this.#sub, key: digest.leafKey, value: digest.value, text: digest.value })
    this.leaves.set(digest.leafKey, digest.value)
  }

  /** A leaf row out, whatever record it was made for (healDigest: a row that disagrees with its record). */
  removeRow (leafRowKey: string, value: string): void {
    xorLeaf(this.#delta(bucketKeyOfLeaf(leafRowKey)), leafHashOf(value), -1)
    this.#del(leafRowKey)
  }

  /**
   * The aggregate rows' new values, each from what this transaction's base
   * left it (`current`: the base chain's values, else the committed ones).
   */
  finish (current: (bucketKey: string) => DigestAggregate | undefined): void {
    for (const [key, delta] of this.#deltas) {
      if (delta.count === 0 && delta.h0 === 0 && delta.h1 === 0 && delta.h2 === 0 && delta.h3 === 0) continue
      const agg = { ...(current(key) ?? emptyAggregate()) }
      combine(agg, delta)
      this.values.set(key, agg)
      if (agg.count > 0) {
        const text = aggregateValue(agg)
        this.#ops.push({ type: 'put', sublevel: this.#sub, key, value: text, text })
      } else {
        this.#ops.push({ type: 'del', sublevel: this.#sub, key })
      }
    }
    this.#deltas.clear()
  }

  #delta (bucketKey: string): DigestAggregate {
    let delta = this.#deltas.get(bucketKey)
    if (delta === undefined) this.#deltas.set(bucketKey, delta = emptyAggregate())
    return delta
  }

  #del (leafRowKey: string): void {
    this.#ops.push({ type: 'del', sublevel: this.#sub, key: leafRowKey })
    this.leaves.set(leafRowKey, undefined)
  }
}
