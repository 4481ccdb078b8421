/**
 * The batches a remote sent for our pull windows, handed out in the order
 * they arrived. A batch that arrives while the pipeline waits goes straight
 * to it; others queue — the pipeline keeps the queue short (it asks only for
 * as many objects as fit, with those queued here, in one window: see
 * pull-pipeline.ts), so it counts the objects queued too. Once
 * the session fails, what is queued is still handed out, then every wait
 * fails with the session's error.
 */
import { REQUEST_TIMEOUT_MS } from '../../protocol/constants.js'
import type { BatchMessage } from '../../protocol/messages.js'
import { withTimeout, type Waiter } from './waiting.js'

export class BatchInbox {
  readonly #peerName: string
  readonly #now: () => number
  readonly #queue: BatchMessage[] = []
  #waiter: Waiter<BatchMessage> | undefined
  #closedError: Error | undefined
  #objects = 0
  /** time spent waiting for the remote since the pipeline last zeroed it (tuning) */
  waitMs = 0

  constructor (peerName: string, now: () => number) {
    this.#peerName = peerName
    this.#now = now
  }

  /** batches received and not yet taken */
  get length (): number { return this.#queue.length }
  /** objects in the batches received and not yet taken */
  get objects (): number { return this.#objects }

  put (batch: BatchMessage): void {
    if (this.#waiter !== undefined) {
      const w = this.#waiter
      this.#waiter = undefined
      w.resolve(batch)
    } else {
      this.#queue.push(batch)
      this.#objects += batch.changes.length
    }
  }

  /** The queued batch next in line, if any (not taken). */
  peek (): BatchMessage | undefined {
    return this.#queue[0]
  }

  /** Take the queued batch next in line, if any (never waits). */
  take (): BatchMessage | undefined {
    return this.#counted(this.#queue.shift())
  }

  /** The next batch: a queued one at once, else the next to arrive (within REQUEST_TIMEOUT_MS). */
  async next (): Promise<BatchMessage> {
    const queued = this.#counted(this.#queue.shift())
    if (queued !== undefined) return queued
    if (this.#closedError !== undefined) throw this.#closedError
    const started = this.#now()
    try {
      return await withTimeout(new Promise<BatchMessage>((resolve, reject) => { this.#waiter = { resolve, reject } }),
        REQUEST_TIMEOUT_MS, `peer ${this.#peerName} sent no batch within ${REQUEST_TIMEOUT_MS} ms`)
    } finally {
      this.waitMs += this.#now() - started
    }
  }

  #counted (batch: BatchMessage | undefined): BatchMessage | undefined {
    if (batch !== undefined) this.#objects -= batch.changes.length
    return batch
  }

  /** The session failed with `err` (its first error). */
  fail (err: Error): void {
    if (this.#closedError === undefined) this.#closedError = err
    this.#waiter?.reject(err)
    this.#waiter = undefined
  }
}
