/**
 * Waiting on a peer, the two ways a pull session does it: a Waiter is the
 * settle side of a promise kept until the peer's message (or the session's
 * failure) settles it; withTimeout bounds how long a peer may take.
 */
import { TimeoutError } from '../errors.js'

export interface Waiter<T> { resolve: (value: T) => void, reject: (err: Error) => void }

/** `promise`, or a TimeoutError with `message` after `ms`; the timer never outlives the race. */
export async function withTimeout<T> (promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new TimeoutError(message)), ms) })
    ])
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}
