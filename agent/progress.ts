/**
 * Progress of pulling from one remote: percentage, rate and ETA, for logs,
 * the CLI and the status page.
 *
 * Honest by construction: `remaining` comes from the remote's own count at
 * each batch boundary, and 100 % is reported only once the remote said there
 * is nothing more after what we applied.
 */

export interface ProgressSnapshot {
  readonly state: 'idle' | 'pulling'
  /** true while pulling from seq 0 (first sync, or after a feed/rules reset) */
  readonly initial: boolean
  /** objects applied (received) in the current or last run */
  readonly done: number
  /** objects the remote still has for us, as of the last batch */
  readonly remaining: number
  /** 0–100; 100 only when caught up */
  readonly percent: number
  /** objects per second over the current run */
  readonly rate: number
  /** seconds to go at `rate`, undefined when unknown */
  readonly etaSeconds: number | undefined
  readonly startedAt: number | undefined
  readonly finishedAt: number | undefined
}

export class PullProgress {
  #state: 'idle' | 'pulling' = 'idle'
  #initial = false
  #done = 0
  #remaining = 0
  #caughtUp = false
  #startedAt: number | undefined
  #finishedAt: number | undefined
  readonly #now: () => number

  constructor (now: () => number) {
    this.#now = now
  }

  begin (initial: boolean, remaining?: number): void {
    this.#state = 'pulling'
    this.#initial = initial
    this.#done = 0
    this.#remaining = remaining ?? 0
    this.#caughtUp = false
    this.#startedAt = this.#now()
    this.#finishedAt = undefined
  }

  batch (received: number, remaining: number, more: boolean): void {
    this.#done += received
    this.#remaining = more ? Math.max(remaining, 0) : 0
    this.#caughtUp = !more
  }

  end (caughtUp: boolean): void {
    this.#state = 'idle'
    this.#caughtUp = caughtUp
    if (caughtUp) this.#remaining = 0
    this.#finishedAt = this.#now()
  }

  snapshot (): ProgressSnapshot {
    const now = this.#now()
    const elapsed = this.#startedAt !== undefined ? ((this.#finishedAt ?? now) - this.#startedAt) / 1000 : 0
    const rate = elapsed > 0 ? this.#done / elapsed : 0
    const total = this.#done + this.#remaining
    const percent = this.#caughtUp ? 100 : total > 0 ? Math.min(99.9, (this.#done / total) * 100) : 0
    return {
      state: this.#state,
      initial: this.#initial,
      done: this.#done,
      remaining: this.#remaining,
      percent: Math.round(percent * 10) / 10,
      rate: Math.round(rate),
      etaSeconds: this.#caughtUp ? 0 : rate > 0 ? Math.ceil(this.#remaining / rate) : undefined,
      startedAt: this.#startedAt,
      finishedAt: this.#finishedAt
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
