/**
 * The batches a remote sent for our pull windows, handed out in the order
 * they arrived. A batch that arrives while the pipeline waits goes straight
 * to it; others queue — the pipeline keeps the queue short (it asks for the
 * next window only while fewer than MAX_UNAPPLIED_BATCHES wait here). Once
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
  /** time spent waiting for the remote since the pipeline last zeroed it (tuning) */
  waitMs = 0

  constructor (peerName: string, now: () => number) {
    this.#peerName = peerName
    this.#now = now
  }

  /** batches received and not yet taken */
  get length (): number { return this.#queue.length }

  put (batch: BatchMessage): void {
    if (this.#waiter !== undefined) {
      const w = this.#waiter
      this.#waiter = undefined
      w.resolve(batch)
    } else {
      this.#queue.push(batch)
    }
  }

  /** The queued batch next in line, if any (not taken). */
  peek (): BatchMessage | undefined {
    return this.#queue[0]
  }

  /** Take the queued batch next in line, if any (never waits). */
  take (): BatchMessage | undefined {
    return this.#queue.shift()
  }

  /** The next batch: a queued one at once, else the next to arrive (within REQUEST_TIMEOUT_MS). */
  async next (): Promise<BatchMessage> {
    const queued = this.#queue.shift()
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

  /** The session failed with `err` (its first error). */
  fail (err: Error): void {
    if (this.#closedError === undefined) this.#closedError = err
    this.#waiter?.reject(err)
    this.#waiter = undefined
  }
}
