/**
 * One pull, from a resume point until caught up, pipelined two ways:
 *
 * - Requests: the next window is asked for as soon as the last batch of the
 *   current one arrives, for as many objects as fit beside those waiting to
 *   be applied: the objects queued plus the objects asked for never exceed
 *   the window (`sync.window`, default DEFAULT_PULL_WINDOW), and fewer than
 *   MAX_UNAPPLIED_BATCHES batches wait. So what a pull holds is at most one
 *   window of objects received or on their way, plus the batch being applied
 *   and the one committing, however large the remote's feed (before round
 *   four: up to 7 waiting batches plus a whole window, ~2× that). A window
 *   that could not be asked for then (less room than MIN_REQUEST_OBJECTS) is
 *   deferred, and asked for once batches are applied and there is room.
 * - Commits: a batch's transaction is prepared, and while it commits the next
 *   batch is decoded, checked and reconciled (the store builds that
 *   transaction on this one). A batch counts as applied — progress,
 *   checkpoint, logs, events — only once committed.
 *
 * Invariants: at most one batch is prepared and not yet counted; the pull's
 * last batch is counted at once; a pull that ends (caught up or failed)
 * leaves no commit running behind it.
 *
 * Pushed batches (version 2, pull-session.ts decides which to take) queue in
 * the same inbox and are applied by `drain`, the same loop without the
 * request: same apply, same checkpoint transaction, same counting. Each
 * batch handed to apply must start where the one before it ended (a pushed
 * one says where, `from`); one that does not fails the session, so no
 * position is ever skipped or applied twice.
 */
import { DEFAULT_BATCH_OBJECTS, MAX_UNAPPLIED_BATCHES } from '../../protocol/constants.js'
import { ProtocolError } from '../../protocol/errors.js'
import type { BatchMessage, HelloMessage, PullMessage } from '../../protocol/messages.js'
import type { WireObject } from '../../protocol/object.js'
import type { ApplyStats } from '../apply/apply-remote.js'
import type { Logger } from '../runtime/logger.js'
import { BatchInbox } from './batch-inbox.js'
import { formatProgress, type PullProgress } from './progress.js'

/** What a pull needs from the session's deps (PullSessionDeps extends it). */
export interface PullPipelineDeps {
  readonly peerName: string
  /** objects asked for per pull request */
  readonly window: number
  readonly progress: PullProgress
  readonly log: Logger
  readonly now: () => number
  readonly onBatchApplied?: (stats: ApplyStats, batch: AppliedBatch) => void
  readonly onPullFinished?: (pulled: number, durationMs: number, caughtUp: boolean) => void
  /** how often to log progress during a long pull */
  readonly progressLogMs?: number
}

/** A batch as counted: the feed positions (from, lastSeq] it covered, and whether it was pushed. */
export interface AppliedBatch { from: number, lastSeq: number, remaining: number, more: boolean, durationMs: number, pushed: boolean }

/** What a pull needs from its session. */
export interface PipelineSession {
  send (message: PullMessage): Promise<void>
  /** the session's protocol version (`v` of every message) */
  readonly version: number
  /** pulls and gets share one sequence of request ids */
  nextRequestId (): number
  /** apply one batch and advance the checkpoint; `onPrepared` once its transaction is queued for commit */
  apply (changes: readonly WireObject[], next: { seq: number, epoch: string, servesHash: string | undefined }, onPrepared: () => void, dataTexts?: ReadonlyMap<object, string>): Promise<ApplyStats>
  /** the remote's feed head as last heard */
  remoteHead (): number
  /** end the session with this error (a pipelined request could not be sent) */
  fail (err: Error): void
  /** `answers` pushed answers (up to their last frame) are applied (the session acknowledges them) */
  pushApplied? (lastSeq: number, answers: number): void
}

/**
 * A window is asked for once at least this many objects fit (or the whole
 * window, if smaller): asking for a handful at a time would cost a round
 * trip each.
 */
export const MIN_REQUEST_OBJECTS = DEFAULT_BATCH_OBJECTS

/** A batch whose transaction is prepared but maybe not yet committed. */
interface Applying { batch: BatchMessage, from: number, applying: Promise<ApplyStats>, started: number, answers: number }

export class PullPipeline {
  readonly #deps: PullPipelineDeps
  readonly #session: PipelineSession
  readonly #inbox: BatchInbox
  #active = false
  #appliedSeq = 0
  #lastRequestedFrom = -1
  #deferredRequest: number | undefined
  /** where the last batch handed to apply ended: the next must start there */
  #queuedTo = 0
  /** the remote's head as we knew it when each batch arrived: its `remaining` is exact up to there */
  readonly #headAtReceipt = new WeakMap<BatchMessage, number>()
  // the current pull: where it stands, when progress was last logged, time spent applying (tuning)
  #since = 0
  #lastLog = 0
  #applyMs = 0

  constructor (deps: PullPipelineDeps, session: PipelineSession) {
    this.#deps = deps
    this.#session = session
    this.#inbox = new BatchInbox(deps.peerName, deps.now)
  }

  /** a pull is running or batches wait to be applied (a batch is welcome) */
  get active (): boolean { return this.#active || this.#inbox.length > 0 }
  /** batches received and not yet taken (pushed ones wait here for `drain`) */
  get queued (): number { return this.#inbox.length }
  /** last seq of the remote's feed applied here */
  get appliedSeq (): number { return this.#appliedSeq }

  /** The session starts after `since` (its resume point): nothing after it is applied yet. */
  resumeAt (since: number): void {
    this.#appliedSeq = since
  }

  /** objects the next request may ask for: the window less what waits (0: none now) */
  get room (): number {
    if (this.#inbox.length >= MAX_UNAPPLIED_BATCHES) return 0
    const room = this.#deps.window - this.#inbox.objects
    return room >= Math.min(MIN_REQUEST_OBJECTS, this.#deps.window) ? room : 0
  }

  /** A batch arrived; `remoteHead` is the remote's head counting it. */
  received (batch: BatchMessage, remoteHead: number): void {
    this.#headAtReceipt.set(batch, remoteHead)
    // queued first (or handed to the waiting loop): the room left counts it
    this.#inbox.put(batch)
    // pipelining: ask for the next window as soon as this one is fully received
    if (batch.last && batch.more && this.#lastRequestedFrom < batch.lastSeq) {
      const room = this.room
      if (room > 0) void this.#requestWindow(batch.lastSeq, room).catch((err) => this.#session.fail(err as Error))
      // no room: asked for as soon as applied batches make some (#settle), not only once the loop reaches this batch
      else if (this.#active && this.#deferredRequest === undefined) this.#deferredRequest = batch.lastSeq
    }
  }

  /** The session failed with `err` (its first error). */
  fail (err: Error): void {
    this.#inbox.fail(err)
  }

  /**
   * Pull after `since` until caught up. Returns the last seq applied and
   * whether the remote announced more meanwhile (then pull again).
   * `pushed`: apply the pushed batches queued (and what follows them) without
   * asking first.
   */
  async pull (since: number, remote: HelloMessage, pushed = false): Promise<{ since: number, behind: boolean }> {
    const progress = this.#deps.progress
    // a pull must not start behind queued pushed batches: its answer would repeat them
    if (!pushed && this.#inbox.length > 0) throw new Error('PullPipeline.pull with batches queued: drain them first')
    progress.begin(since === 0)
    this.#active = true
    this.#queuedTo = since
    this.#applyMs = 0
    this.#inbox.waitMs = 0
    this.#since = since
    this.#lastLog = this.#deps.now()
    let caughtUp = false
    let pending: Applying | undefined
    try {
      if (!pushed) await this.#requestWindow(since, this.#deps.window)
      while (true) {
        // nothing queued to overlap with: finish the pending batch before waiting on the network
        if (pending !== undefined && this.#inbox.length === 0) {
          const previous = pending
          pending = undefined
          if (await this.#settle(previous)) {
            caughtUp = true
            break
          }
        }
        const { batch, answers } = this.#mergePushed(await this.#inbox.next())
        if (batch.last && batch.more && this.#deferredRequest === undefined && !this.#requestedAfter(batch)) {
          this.#deferredRequest = batch.lastSeq
        }
        const from = this.#queuedTo
        if (batch.from !== undefined && batch.from !== from) throw new ProtocolError(`peer ${this.#deps.peerName} pushed a batch after seq ${batch.from}, but this pull is at ${from}`)
        this.#queuedTo = batch.lastSeq
        const started = this.#deps.now()
        let prepared!: () => void
        const queued = new Promise<void>((resolve) => { prepared = resolve })
        const applying = this.#session.apply(batch.changes, { seq: batch.lastSeq, epoch: remote.epoch, servesHash: remote.serves }, prepared, batch.dataTexts)
        applying.catch(() => {}) // awaited in #settle(); a failure must not go unhandled meanwhile
        // the next batch may start once this one's transaction is queued (or it failed)
        await Promise.race([queued, applying.then(() => {}, () => {})])
        this.#applyMs += this.#deps.now() - started
        // (a pending batch is never the pull's last: that one is settled at once, below)
        const previous = pending
        pending = { batch, from, applying, started, answers }
        if (previous !== undefined) await this.#settle(previous)
        if (batch.last && !batch.more) {
          pending = undefined
          if (await this.#settle({ batch, from, applying, started, answers })) {
            caughtUp = true
            break
          }
        }
      }
      return { since: this.#since, behind: this.#session.remoteHead() > this.#since }
    } finally {
      // a session that ends mid-pull leaves no commit running behind it
      if (pending !== undefined) await pending.applying.catch(() => {})
      this.#active = false
      this.#deferredRequest = undefined
      progress.end()
      const snap = progress.snapshot()
      this.#deps.onPullFinished?.(snap.done, (snap.finishedAt ?? 0) - (snap.startedAt ?? 0), caughtUp)
      if (snap.done > 0) this.#deps.log.info({ pulled: snap.done, rate: snap.rate, applyMs: Math.round(this.#applyMs), waitMs: Math.round(this.#inbox.waitMs) }, `pull finished: ${formatProgress(snap)}`)
    }
  }

  /** Wait for a batch's commit and count it as applied; true when it was the pull's last. */
  async #settle ({ batch, from, applying, started, answers }: Applying): Promise<boolean> {
    const progress = this.#deps.progress
    const waitFrom = this.#deps.now()
    const stats = await applying
    this.#applyMs += this.#deps.now() - waitFrom
    this.#appliedSeq = batch.lastSeq
    this.#since = batch.lastSeq
    progress.batch(batch.changes.length, batch.remaining, batch.more, batch.lastSeq, this.#headAtReceipt.get(batch) ?? batch.lastSeq)
    const pushed = batch.from !== undefined
    this.#deps.onBatchApplied?.(stats, { from, lastSeq: batch.lastSeq, remaining: batch.remaining, more: batch.more, durationMs: this.#deps.now() - started, pushed })
    if (pushed && batch.last) this.#session.pushApplied?.(batch.lastSeq, answers)
    if (this.#deferredRequest !== undefined && this.room > 0) {
      const from = this.#deferredRequest
      this.#deferredRequest = undefined
      await this.#requestWindow(from, this.room)
    }
    const now = this.#deps.now()
    if (now - this.#lastLog >= (this.#deps.progressLogMs ?? 3000) && batch.more) {
      this.#lastLog = now
      this.#deps.log.info({ peer: this.#deps.peerName }, formatProgress(progress.snapshot()))
    }
    return batch.last && !batch.more
  }

  /**
   * A pushed answer, with the pushed answers queued right behind it that
   * continue it exactly, as one batch: one transaction instead of one per
   * commit when pushes arrive faster than they are applied (a burst). The
   * merged batch is what a pull from its start would have been answered
   * with: an object changed by several of them keeps only its latest entry
   * (the server's feed keeps only that one too), and nothing is skipped —
   * each part starts where the one before ended. At most DEFAULT_BATCH_OBJECTS objects.
   */
  #mergePushed (first: BatchMessage): { batch: BatchMessage, answers: number } {
    if (first.from === undefined || !first.last) return { batch: first, answers: 1 }
    const parts = [first]
    let size = first.changes.length
    for (let next = this.#inbox.peek(); next !== undefined; next = this.#inbox.peek()) {
      if (next.from !== parts.at(-1)!.lastSeq || !next.last || size + next.changes.length > DEFAULT_BATCH_OBJECTS) break
      parts.push(this.#inbox.take()!)
      size += next.changes.length
    }
    if (parts.length === 1) return { batch: first, answers: 1 }
    const last = parts.at(-1)!
    const latest = new Map<string, WireObject>()
    const dataTexts = new Map<object, string>()
    for (const part of parts) {
      for (const change of part.changes) {
        latest.delete(change.uid) // re-inserted: the map keeps feed order by latest entry
        latest.set(change.uid, change)
      }
      for (const [data, text] of part.dataTexts ?? []) dataTexts.set(data, text)
    }
    const batch: BatchMessage = { ...last, from: first.from, changes: [...latest.values()], dataTexts }
    this.#headAtReceipt.set(batch, this.#headAtReceipt.get(last) ?? last.lastSeq)
    return { batch, answers: parts.length }
  }

  #requestedAfter (batch: BatchMessage): boolean {
    return this.#lastRequestedFrom >= batch.lastSeq
  }

  async #requestWindow (since: number, limit: number): Promise<void> {
    this.#lastRequestedFrom = since
    const id = this.#session.nextRequestId()
    await this.#session.send({ type: 'pull', v: this.#session.version, id, since, limit: Math.min(limit, this.#deps.window) })
  }
}
