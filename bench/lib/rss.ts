/**
 * Peak resident-set-size sampling for benchmark processes.
 *
 * A timer reads the process RSS every `intervalMs` (50 ms by default) and
 * keeps the maximum since the last `reset()`, so a runner can ask for the
 * peak of one phase. A busy event loop delays the timer, so the largest gap
 * between samples is reported too; the kernel's lifetime high-water mark
 * (`resourceUsage().maxRSS`) is reported beside it as a cross-check that no
 * short spike was missed.
 */

export interface RssReport {
  /** highest sampled RSS since the last reset, bytes */
  readonly peakBytes: number
  readonly samples: number
  /** largest interval between two samples; well above intervalMs means the event loop was blocked */
  readonly maxGapMs: number
  /** kernel high-water mark for the whole process lifetime, bytes */
  readonly lifetimeMaxBytes: number
}

export interface RssSampler {
  start: () => void
  stop: () => void
  /** Forget the peak so far (start of a new phase); takes a sample at once. */
  reset: () => void
  report: () => RssReport
}

export interface RssSamplerOptions {
  readonly intervalMs?: number
  /** injected for tests; defaults to the process RSS */
  readonly readRss?: () => number
  readonly now?: () => number
}

export function createRssSampler (options: RssSamplerOptions = {}): RssSampler {
  const intervalMs = options.intervalMs ?? 50
  const readRss = options.readRss ?? (() => process.memoryUsage.rss())
  const now = options.now ?? (() => performance.now())
  let timer: NodeJS.Timeout | undefined
  let peak = 0
  let samples = 0
  let last = now()
  let maxGap = 0
  const sample = (): void => {
    const t = now()
    maxGap = Math.max(maxGap, t - last)
    last = t
    peak = Math.max(peak, readRss())
    samples++
  }
  return {
    start: () => {
      if (timer !== undefined) return
      last = now()
      sample()
      timer = setInterval(sample, intervalMs)
      // The sampler must never keep a finished benchmark process alive.
      timer.unref()
    },
    stop: () => {
      if (timer === undefined) return
      clearInterval(timer)
      timer = undefined
      sample()
    },
    reset: () => {
      peak = 0
      samples = 0
      maxGap = 0
      last = now()
      sample()
    },
    report: () => {
      sample()
      return { peakBytes: peak, samples, maxGapMs: Math.round(maxGap), lifetimeMaxBytes: process.resourceUsage().maxRSS * 1024 }
    }
  }
}

/** RPC methods a worker exposes so its parent can read and reset its RSS peak per phase. */
export function rssHandlers (sampler: RssSampler): Record<'rss.reset' | 'rss.report', () => RssReport | null> {
  return {
    'rss.reset': () => { sampler.reset(); return null },
    'rss.report': () => sampler.report()
  }
}

export function toMiB (bytes: number): number {
  return Math.round(bytes / 1048576 * 10) / 10
}
