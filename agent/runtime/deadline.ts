/**
 * A caller's AbortSignal bounded by a time limit, for operations that take a
 * signal (libp2p dials and stream opens).
 *
 * Why not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: in node 20
 * (measured on 20.20) the timeout signal inside such a composite is held
 * only weakly — its timer keeps a WeakRef, and being a source of a composite
 * does not count as being listened to — so a garbage collection before the
 * time is up drops it and the composite never aborts: the time limit is gone
 * (nodejs/node#57736). Under a bulk pull's allocation rate a GC comes within
 * milliseconds, so a dial or stream negotiation that stalled could wait
 * forever. Here the timer holds the controller strongly until it fires or
 * `clear()` is called (test/unit/deadline.test.ts).
 */
import { TimeoutError } from '../errors.js'

export interface Deadline {
  /** aborts when the caller's signal does, or after the time limit (reason: a TimeoutError) */
  readonly signal: AbortSignal
  /** stop the timer and let go of the caller's signal: call once the operation has settled */
  clear (): void
}

/** `parent` (if any), aborted after `ms` at the latest; `what` names the operation in the timeout's message. */
export function deadline (ms: number, what: string, parent?: AbortSignal): Deadline {
  const controller = new AbortController()
  const onParentAbort = (): void => { finish(); controller.abort(parent?.reason) }
  const timer = setTimeout(() => { finish(); controller.abort(new TimeoutError(`${what} took longer than ${ms} ms`)) }, ms)
  // the timer does not keep the process alive; it still holds the controller until it fires or is cleared
  timer.unref()
  function finish (): void {
    clearTimeout(timer)
    parent?.removeEventListener('abort', onParentAbort)
  }
  if (parent?.aborted === true) onParentAbort()
  else parent?.addEventListener('abort', onParentAbort, { once: true })
  return { signal: controller.signal, clear: finish }
}

/** Run `operation` with a signal bounded by `ms` (and `parent`); the timer ends with it. */
export async function withDeadline<T> (ms: number, what: string, parent: AbortSignal | undefined, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const d = deadline(ms, what, parent)
  try {
    return await operation(d.signal)
  } finally {
    d.clear()
  }
}
