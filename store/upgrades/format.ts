/** One line a person reads about an upgrade in progress: "upgrading the store to schema 2 (blob-references): 12,000 / 50,000 rows (24%), ETA 7 s". */
import type { UpgradeProgress } from './step.js'

export function formatUpgradeProgress (p: UpgradeProgress): string {
  const what = `the store to schema ${p.to} (${p.name})`
  if (p.finished) return `upgraded ${what}: ${p.done.toLocaleString('en-US')} rows`
  const eta = p.etaSeconds !== undefined ? `, ETA ${Math.ceil(p.etaSeconds)} s` : ''
  return `upgrading ${what}${p.resumed ? ', resumed' : ''}: ${p.done.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} rows (${p.percent}%)${eta}`
}

/**
 * Report progress at most every `everyMs` (and always the first and the last
 * report): a step (or a backup, store/backup/progress.ts) reports per chunk, which on a large store is many times a
 * second.
 */
export function throttledUpgradeReporter<P extends { readonly done: number, readonly finished: boolean } = UpgradeProgress> (report: (p: P) => void, everyMs: number, now: () => number = Date.now): (p: P) => void {
  let last = -Infinity
  return (p) => {
    const t = now()
    if (p.finished || p.done === 0 || t - last >= everyMs) {
      last = t
      report(p)
    }
  }
}
