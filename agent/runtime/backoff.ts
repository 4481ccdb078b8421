/**
 * The reconnect backoff of every loop that keeps a link to a peer (the
 * mesh's redial, the replicator's pull loop): from RECONNECT_MIN_MS, doubling
 * after each wait up to RECONNECT_MAX_MS, each wait jittered by ±25 % so
 * that agents restarted together do not redial in step. A loop resets it
 * once a link stood.
 */
import { RECONNECT_MAX_MS, RECONNECT_MIN_MS } from '../../protocol/constants.js'
import { sleep } from './sleep.js'

export class Backoff {
  #delay = RECONNECT_MIN_MS

  /** the next wait before jitter (ms), for logs */
  get delay (): number { return this.#delay }

  reset (): void {
    this.#delay = RECONNECT_MIN_MS
  }

  /** Wait the current delay (jittered; an abort cuts it short), then double it. */
  async wait (signal: AbortSignal): Promise<void> {
    await sleep(this.#delay * (0.75 + Math.random() * 0.5), signal)
    this.#delay = Math.min(RECONNECT_MAX_MS, this.#delay * 2)
  }
}
