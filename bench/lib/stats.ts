/**
 * Summaries of repeated measurements: the median is the headline (this
 * 2-core machine is shared, so single runs are noisy), min and max show the
 * spread, percentiles summarise latency samples.
 */

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly runs: number
}

/** Median (lower middle for an even count), min and max. */
export function spread (values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of no values')
  const sorted = [...values].sort((a, b) => a - b)
  return {
    median: sorted[Math.floor((sorted.length - 1) / 2)]!,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    runs: sorted.length
  }
}

/** Nearest-rank percentile (p in 0–100) of unsorted samples. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p / 100 * sorted.length)))
  return sorted[rank - 1]!
}

/** Round to `digits` decimals (figures in reports). */
export function round (value: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
