/**
 * Progress of a backup or a restore: percent and ETA from work done so far.
 * Work is counted in units: one store row, or one KiB of a file (a row of a
 * labmesh store is about that size), so one figure covers both parts.
 */

export interface BackupProgress {
  readonly phase: 'backup' | 'restore'
  readonly done: number
  readonly total: number
  /** 0–100; 100 only once finished */
  readonly percent: number
  /** seconds left at the rate so far; undefined until there is a rate */
  readonly etaSeconds: number | undefined
  readonly finished: boolean
}

/** units of work a file of `bytes` counts for */
export function fileUnits (bytes: number): number {
  return Math.ceil(bytes / 1024)
}

/** Counts units done against a total fixed at the start; `report()` gives the figure. */
export function progressMeter (phase: BackupProgress['phase'], total: number, now: () => number = Date.now): { add: (units: number) => void, report: (finished?: boolean) => BackupProgress } {
  const began = now()
  let done = 0
  return {
    add: (units) => { done += units },
    report: (finished = false) => {
      const elapsed = (now() - began) / 1000
      const rate = elapsed > 0 && done > 0 ? done / elapsed : undefined
      const percent = finished ? 100 : total > 0 ? Math.min(99, Math.floor(done / total * 100)) : 0
      return { phase, done, total, percent, etaSeconds: rate !== undefined && !finished ? Math.max(0, (total - done) / rate) : undefined, finished }
    }
  }
}

/** "backup: 12,000 / 50,000 units (24%), ETA 7 s" */
export function formatBackupProgress (p: BackupProgress): string {
  if (p.finished) return `${p.phase}: done (${p.done.toLocaleString('en-US')} rows and KiB of files)`
  const eta = p.etaSeconds !== undefined ? `, ETA ${Math.ceil(p.etaSeconds)} s` : ''
  return `${p.phase}: ${p.percent}% (${p.done.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} rows and KiB of files)${eta}`
}

/** At most every `everyMs`, and always the first and the final figure: the upgrade's reporter serves both. */
export { throttledUpgradeReporter as throttled } from '../upgrades/format.js'
