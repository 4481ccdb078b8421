/**
 * What the InstanceConnector contract's clause files share: the versions
 * every connector takes, a clause that is skipped (with its reason) or
 * expected to fail (with the bug) as the implementation declares, and a
 * tracker of the timers a connector leaves running.
 */
import { createHook } from 'node:async_hooks'
import { it } from 'vitest'
import type { ObjectVersion } from '../../protocol/object.js'

/** The domain of the agent under test, and the peer whose versions it applies. */
export const HERE = 'lab-b'
export const PEER = 'lab-a'
const AT = 1_700_000_000_000

/** Every connector takes this kind of object: a SENAITE Method, which lives in a fixed folder and has a title. */
export function method (uid: string, title: string, n = 1): ObjectVersion {
  return { uid, type: 'Method', id: uid, parent: null, refs: [], data: { title }, vector: { [PEER]: n }, origin: PEER, deleted: false, at: AT + n }
}

export function tombstone (of: ObjectVersion, n: number): ObjectVersion {
  return { ...of, data: {}, deleted: true, vector: { [PEER]: n }, at: AT + n }
}

/**
 * Register a clause: skipped when a capability it needs is off (the reason in
 * its name, so the report shows it), run as it.fails when the implementation
 * declares it a known bug (described in its name), else run.
 */
export function clause (name: string, fn: () => Promise<void>, options: { off?: string | undefined, bug?: string | undefined } = {}): void {
  if (options.off !== undefined) it.skip(`${name} — not applicable: ${options.off}`, fn)
  else if (options.bug !== undefined) it.fails(`${name} — KNOWN BUG: ${options.bug}`, fn)
  else it(name, fn)
}

/**
 * Timers made through the global setTimeout/setInterval while tracking, that
 * are still pending and keep the process alive. The runner's own timers are
 * not counted (it keeps its own references to the timer functions), nor a
 * process-wide count, which the runner's throttled updates make noisy.
 */
export interface TimerTracker {
  pending (): Promise<number>
  stop (): void
}

export function trackTimers (): TimerTracker {
  const live = new Map<number, { hasRef: () => boolean }>()
  let creating = 0
  const hook = createHook({
    init (id, type, _trigger, resource) { if (creating > 0 && type === 'Timeout') live.set(id, resource as { hasRef: () => boolean }) },
    // emitted when a timer fires (one-shot) or is cleared
    destroy (id) { live.delete(id) }
  }).enable()
  const originals = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval }
  const wrap = <F extends (...args: never[]) => unknown>(original: F): F => {
    const wrapped = (...args: Parameters<F>): unknown => {
      creating++
      try {
        return original(...args)
      } finally {
        creating--
      }
    }
    // keeps what hangs on the original (util.promisify.custom)
    return Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(original)) as unknown as F
  }
  globalThis.setTimeout = wrap(originals.setTimeout)
  globalThis.setInterval = wrap(originals.setInterval)
  return {
    async pending () {
      // destroy events are emitted from a queue, not when clearTimeout returns
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
      return [...live.values()].filter((t) => t.hasRef()).length
    },
    stop () {
      hook.disable()
      globalThis.setTimeout = originals.setTimeout
      globalThis.setInterval = originals.setInterval
    }
  }
}

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
