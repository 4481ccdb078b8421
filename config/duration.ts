import { z } from 'zod'

/** Durations in config files: `250ms`, `30s`, `5m`, `1h`, `1d`, or a plain number of seconds. */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Milliseconds, or undefined when `value` is not a duration. */
export function parseDuration (value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value)
  if (match === null) return undefined
  const amount = Number(match[1])
  const unit = UNITS[match[2] ?? 's'] ?? 1000
  return Math.round(amount * unit)
}

/** `90000` → `1m30s`, for messages and the status page. */
export function formatDuration (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`
  const h = Math.floor(m / 60)
  return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`
}

/** A duration: `250ms`, `30s`, `5m`, `1h`, or a number of seconds. Parsed to milliseconds. */
export const durationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${String(value)}" is not a duration` })
    return z.NEVER
  }
  return ms
})
