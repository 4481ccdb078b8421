/**
 * Polling a site on an interval, one poll at a time: a poll asked for while
 * one runs (pollNow: tests, "Get updates") starts once it has ended. After a
 * deferred poll (the agent was busy writing) the next one comes within a
 * second; after a failed one, at the next interval.
 */
import type { PollResult } from './poller.js'

export interface PollLoopDeps {
  readonly poll: () => Promise<PollResult>
  readonly intervalMs: number
  /** a scheduled poll failed (a pollNow caller gets its own error) */
  readonly failed: (err: unknown) => void
}

export interface PollLoop {
  pollNow (): Promise<PollResult>
  /** poll now, then on the interval */
  start (): void
  /** no poll is scheduled any more; resolves once the running one has ended */
  stop (): Promise<void>
}

export function createPollLoop (deps: PollLoopDeps): PollLoop {
  const { intervalMs } = deps
  let timer: NodeJS.Timeout | undefined
  let polling: Promise<PollResult> | undefined
  let stopped = true

  const pollNow = async (): Promise<PollResult> => {
    while (polling !== undefined) await polling.catch(() => {})
    polling = deps.poll()
    try {
      return await polling
    } finally {
      polling = undefined
    }
  }

  const schedule = (ms: number): void => {
    if (stopped) return
    timer = setTimeout(() => {
      pollNow().then((r) => { schedule(r.deferred ? Math.min(1000, intervalMs) : intervalMs) }, (err: unknown) => {
        deps.failed(err)
        schedule(intervalMs)
      })
    }, ms)
  }

  return {
    pollNow,
    start () {
      stopped = false
      schedule(0)
    },
    async stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      await polling?.catch(() => {})
    }
  }
}
