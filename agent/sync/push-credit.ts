/**
 * The credit of push (version 2): how many push answers a server may have
 * sent a puller that the puller has not acknowledged. Both sides keep one —
 * the server to stop pushing when it is spent, the puller to refuse a server
 * that pushes past it — and both free it the same way: an `ack` of seq s
 * frees every answer that ended at or before s. The server learns of an ack
 * later than the puller sends it, so it never counts fewer answers
 * outstanding than the puller does: a correct server cannot overrun.
 */
export class PushCredit {
  readonly credit: number
  /** last seqs of the answers not yet acknowledged, ascending */
  #outstanding: number[] = []

  constructor (credit: number) {
    if (!Number.isSafeInteger(credit) || credit < 1) throw new RangeError(`push credit must be a positive integer, got ${credit}`)
    this.credit = credit
  }

  /** answers sent (received) and not yet acknowledged */
  get outstanding (): number { return this.#outstanding.length }

  /** another answer may be sent (received) now */
  get available (): boolean { return this.#outstanding.length < this.credit }

  /** An answer ending at `lastSeq` was sent (received); false, and nothing counted, when no credit was left. */
  spend (lastSeq: number): boolean {
    if (!this.available) return false
    this.#outstanding.push(lastSeq)
    return true
  }

  /** The puller applied everything up to `seq`: the answers that ended there or before are free again. */
  ack (seq: number): void {
    let n = 0
    while (n < this.#outstanding.length && this.#outstanding[n]! <= seq) n++
    if (n > 0) this.#outstanding = this.#outstanding.slice(n)
  }
}
