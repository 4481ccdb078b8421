/**
 * Progress of pulling from one remote: what is left, percentage, rate and
 * ETA, for logs, the status API, the CLI and the status page.
 *
 * Honest by construction:
 * - `remaining` is the remote's own exact count at each batch boundary (its
 *   feed entries after the batch's lastSeq, i.e. objects), plus — as an
 *   upper bound, one object per position — the feed positions it announced
 *   since (notify). Before the first batch of a session it is the positions
 *   between our checkpoint and the head the hello announced.
 * - 100 % only when everything up to the remote's head, as of the hello or
 *   the last notify, is applied here and the last batch left nothing after
 *   it. Until the first hello of this run the remote's head is unknown, and
 *   progress says so (`remoteHead` undefined, not caught up).
 */

export interface ProgressSnapshot {
  readonly state: 'idle' | 'pulling'
  /** true while (or after) pulling from seq 0: a first sync, or after a feed/rules reset */
  readonly initial: boolean
  /** objects received in the current or last pull */
  readonly done: number
  /** objects the remote still has for us (exact at a batch boundary, see the header) */
  readonly remaining: number
  /** 0–100; 100 only when caught up; otherwise done / (done + remaining), at most 99.9 */
  readonly percent: number
  /** objects per second over the current (or last) pull */
  readonly rate: number
  /** seconds to go at `rate`; 0 when caught up, undefined when no rate is measured yet */
  readonly etaSeconds: number | undefined
  readonly startedAt: number | undefined
  readonly finishedAt: number | undefined
  /** the remote's feed head as last heard (hello, notify, batch); undefined before the first hello of this run */
  readonly remoteHead: number | undefined
  /** the last seq of the remote's feed applied here */
  readonly appliedSeq: number
  /** everything the remote announced is applied */
  readonly caughtUp: boolean
}

export class PullProgress {
  #state: 'idle' | 'pulling' = 'idle'
  #initial = false
  #done = 0
  #startedAt: number | undefined
  #finishedAt: number | undefined
  #remoteHead: number | undefined
  #appliedSeq = 0
  /** the remote's exact count after #appliedSeq, and the head it was exact for */
  #exact: { remaining: number, head: number } | undefined
  readonly #now: () => number

  constructor (now: () => number) {
    this.#now = now
  }

  /** What the checkpoint says is applied (agent start; the remote is not heard yet). */
  restore (appliedSeq: number): void {
    this.#appliedSeq = appliedSeq
  }

  /** A session's hello: the remote's head, and where we resume in its feed. */
  connected (remoteHead: number, resumeFrom: number): void {
    this.#remoteHead = remoteHead
    this.#appliedSeq = resumeFrom
    this.#exact = undefined
  }

  /** The remote announced a head (notify). */
  heard (head: number): void {
    if (this.#remoteHead === undefined || head > this.#remoteHead) this.#remoteHead = head
  }

  begin (initial: boolean): void {
    this.#state = 'pulling'
    this.#initial = initial
    this.#done = 0
    this.#startedAt = this.#now()
    this.#finishedAt = undefined
  }

  /**
   * A batch was applied: `remaining` is the remote's count after `lastSeq`
   * when it sent the batch — which it did after every notify we had received
   * by then, i.e. with everything up to `headAtReceipt` included.
   */
  batch (received: number, remaining: number, more: boolean, lastSeq: number, headAtReceipt: number): void {
    this.#done += received
    this.#appliedSeq = lastSeq
    this.heard(lastSeq)
    // an older remote may say more with a zero count: something is still there
    this.#exact = { remaining: more ? Math.max(1, remaining) : remaining, head: Math.max(lastSeq, headAtReceipt) }
  }

  end (): void {
    this.#state = 'idle'
    this.#finishedAt = this.#now()
  }

  /** Objects still to pull, as far as we know (the `remaining` of the snapshot). */
  pending (): number {
    if (this.#remoteHead === undefined) return this.#exact?.remaining ?? 0
    const positions = Math.max(0, this.#remoteHead - this.#appliedSeq)
    if (this.#exact === undefined) return positions
    const pending = this.#exact.remaining + Math.max(0, this.#remoteHead - this.#exact.head)
    // a remote whose count is not exact could say 0 below its own head: trust the head
    return pending === 0 ? positions : pending
  }

  snapshot (): ProgressSnapshot {
    const now = this.#now()
    const elapsed = this.#startedAt !== undefined ? ((this.#finishedAt ?? now) - this.#startedAt) / 1000 : 0
    const rate = elapsed > 0 ? this.#done / elapsed : 0
    const remaining = this.pending()
    const caughtUp = this.#remoteHead !== undefined && remaining === 0 && this.#appliedSeq >= this.#remoteHead
    const total = this.#done + remaining
    const percent = caughtUp ? 100 : total > 0 ? Math.min(99.9, (this.#done / total) * 100) : 0
    return {
      state: this.#state,
      initial: this.#initial,
      done: this.#done,
      remaining,
      percent: caughtUp ? 100 : Math.floor(percent * 10) / 10,
      rate: Math.round(rate),
      etaSeconds: caughtUp ? 0 : rate > 0 ? Math.ceil(remaining / rate) : undefined,
      startedAt: this.#startedAt,
      finishedAt: this.#finishedAt,
      remoteHead: this.#remoteHead,
      appliedSeq: this.#appliedSeq,
      caughtUp
    }
  }
}

/** "pulled 12,000 / 50,000 (24%), ETA 7 s" */
export function formatProgress (p: ProgressSnapshot): string {
  const total = p.done + p.remaining
  const eta = p.etaSeconds !== undefined ? `, ETA ${formatSeconds(p.etaSeconds)}` : ''
  return `pulled ${p.done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${Math.floor(p.percent)}%)${eta}`
}

export function formatSeconds (s: number): string {
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}
