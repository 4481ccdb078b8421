/**
 * deadline(): a caller's signal bounded by a time limit that survives
 * garbage collection. `AbortSignal.any([signal, AbortSignal.timeout(ms)])`,
 * which the mesh used for its dial and stream-open limits, does not on node
 * 20: a GC before the time is up drops the timeout signal and the composite
 * never aborts (nodejs/node#57736) — the first test shows it on the node
 * running the tests where that still holds, and the same steps with
 * deadline() abort on time.
 */
import { getEventListeners } from 'node:events'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { deadline, withDeadline } from '../../agent/runtime/deadline.js'
import { TimeoutError } from '../../agent/errors.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** Whether a signal made by `make` aborts within `ms` * 4 when a full GC runs right after it was made. */
async function abortsAfterGc (make: (parent: AbortSignal) => AbortSignal, ms: number): Promise<boolean> {
  const parent = new AbortController()
  const signal = make(parent.signal)
  let fired = false
  signal.addEventListener('abort', () => { fired = true }, { once: true })
  // a GC a moment later (at once, the new timeout signal may still be referenced from the stack)
  await sleep(5)
  gc()
  await sleep(ms * 4)
  return fired && signal.aborted
}

describe('deadline', () => {
  it('aborts on time after a garbage collection (where AbortSignal.any with a timeout may not)', async () => {
    expect(await abortsAfterGc((parent) => deadline(50, 'a test operation', parent).signal, 50)).toBe(true)
    const native = await abortsAfterGc((parent) => AbortSignal.any([parent, AbortSignal.timeout(50)]), 50)
    // documents the node bug this module works around; a node that fixed it passes either way
    if (!native) console.log(`deadline.test: on node ${process.version}, AbortSignal.any([signal, AbortSignal.timeout(ms)]) never aborted after a GC`)
  })

  it('aborts with a TimeoutError naming the operation, or with the caller\'s reason', async () => {
    const timed = deadline(20, 'opening a stream')
    await sleep(80)
    expect(timed.signal.reason).toBeInstanceOf(TimeoutError)
    expect((timed.signal.reason as TimeoutError).message).toBe('opening a stream took longer than 20 ms')

    const parent = new AbortController()
    const d = deadline(10_000, 'x', parent.signal)
    parent.abort(new Error('agent stopping'))
    expect(d.signal.aborted).toBe(true)
    expect((d.signal.reason as Error).message).toBe('agent stopping')

    const already = new AbortController()
    already.abort(new Error('gone'))
    expect(deadline(10_000, 'x', already.signal).signal.aborted).toBe(true)
  })

  it('once cleared, neither the timer nor the caller\'s signal aborts it, and it lets go of the caller\'s signal', async () => {
    const parent = new AbortController()
    const listeners = (): number => getEventListeners(parent.signal, 'abort').length

    const result = await withDeadline(30, 'x', parent.signal, async (signal) => { expect(signal.aborted).toBe(false); return 7 })
    expect(result).toBe(7)
    expect(listeners()).toBe(0)
    const d = deadline(30, 'x', parent.signal)
    expect(listeners()).toBe(1)
    d.clear()
    expect(listeners()).toBe(0)
    await sleep(90)
    parent.abort()
    expect(d.signal.aborted).toBe(false)
  })

  it('withDeadline hands the operation a signal that aborts it at the limit', async () => {
    const started = performance.now()
    const outcome = withDeadline(40, 'a stalled negotiation', undefined, async (signal) => await new Promise<never>((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
    }))
    await sleep(5)
    gc()
    await expect(outcome).rejects.toThrow('a stalled negotiation took longer than 40 ms')
    expect(performance.now() - started).toBeLessThan(2000)
  })
})
