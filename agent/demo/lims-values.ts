/**
 * Value helpers shared by the LIMS-like generator (lims-data.ts) and its
 * editor (lims-edit.ts): review-history entries, results with their
 * uncertainty, dates at SENAITE's second precision, small random picks.
 * Pure functions of their arguments and the given Rng.
 */
import type { ServiceSpec } from './lims-vocabulary.js'
import type { Rng } from './rng.js'

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE

export interface HistoryEntry { readonly action: string, readonly actor: string, readonly time: string, readonly review_state: string }

export function entry (action: string, actor: string, time: number, state: string): HistoryEntry {
  return { action, actor, time: iso(time), review_state: state }
}

export function resultValue (rng: Rng, spec: ServiceSpec): string {
  if (rng.chance(0.05)) return `<${spec.min}`
  // Log-uniform: lab results span orders of magnitude more often than not.
  const lo = Math.log(Math.max(spec.min, 1e-3))
  const hi = Math.log(Math.max(spec.max, spec.min + 1e-3))
  return Math.exp(lo + rng.next() * (hi - lo)).toFixed(spec.decimals)
}

export function uncertainty (result: string, spec: ServiceSpec): string {
  const v = Number.parseFloat(result)
  return Number.isFinite(v) ? (v * 0.08).toFixed(spec.decimals) : ''
}

export function distinct (rng: Rng, k: number, n: number): number[] {
  const chosen = new Set<number>()
  while (chosen.size < Math.min(k, n)) chosen.add(rng.int(n))
  return [...chosen]
}

export function phone (rng: Rng): string {
  return `+27 ${rng.between(10, 89)} ${rng.between(100, 999)} ${rng.between(1000, 9999)}`
}

export function iso (ms: number): string {
  // second precision, as SENAITE's JSON API reports dates
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function ascii (s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '')
}
