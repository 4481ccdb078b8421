/**
 * Runs the pending upgrade steps of a store at open (see step.ts for what a
 * step promises). The meta row `upgrade` names the step in progress and its
 * resume point; the meta row `schema` is raised in a batch of its own once a
 * step has finished. So at any crash the store is either at the old schema
 * (with or without a step in progress, resumed at the next open) or at the
 * new one — never half-upgraded and marked upgraded.
 */
import { StoreUpgradeError } from '../errors.js'
import { META_KEYS } from '../keys.js'
import { writeBatch } from '../level-db.js'
import type { Sublevels } from '../sublevels.js'
import type { Level } from 'level'
import type { UpgradeProgress, UpgradeStep } from './step.js'

/** The meta row of a step in progress. */
export interface UpgradeMarker {
  readonly to: number
  readonly name: string
  readonly resumeFrom?: string
  readonly startedAt: number
}

/** The steps a store at `schema` still needs, in order. */
export function pendingSteps (steps: readonly UpgradeStep[], schema: number): UpgradeStep[] {
  return steps.filter((s) => s.to > schema).sort((a, b) => a.to - b.to)
}

/** The schema a store has once every step has run: 1 (the first schema) plus one per step, in order. */
export function latestSchema (steps: readonly UpgradeStep[]): number {
  const sorted = [...steps].sort((a, b) => a.to - b.to)
  sorted.forEach((s, i) => {
    // a gap or a duplicate would skip a step for some stores or run one twice
    if (s.to !== i + 2) throw new StoreUpgradeError(`upgrade steps must go 2, 3, 4 … without gaps: step "${s.name}" produces schema ${s.to}, expected ${i + 2}`)
  })
  return sorted.length + 1
}

export interface RunUpgradesOptions {
  readonly db: Level<string, unknown>
  readonly subs: Sublevels
  readonly location: string
  readonly steps: readonly UpgradeStep[]
  /** the store's schema now */
  readonly schema: number
  readonly now?: () => number
  readonly onProgress?: (progress: UpgradeProgress) => void
}

/** Run every pending step; resolves with the store's new schema. */
export async function runUpgrades (options: RunUpgradesOptions): Promise<number> {
  let schema = options.schema
  for (const step of pendingSteps(options.steps, schema)) {
    await runStep(options, step)
    await options.subs.meta.batch([
      { type: 'put', key: META_KEYS.schema, value: step.to },
      { type: 'del', key: META_KEYS.upgrade }
    ])
    schema = step.to
  }
  return schema
}

async function runStep (options: RunUpgradesOptions, step: UpgradeStep): Promise<void> {
  const now = options.now ?? Date.now
  const { subs } = options
  const marker = await subs.meta.get(META_KEYS.upgrade) as UpgradeMarker | undefined
  const resumed = marker !== undefined && marker.to === step.to && marker.name === step.name
  const resumeFrom = resumed ? marker.resumeFrom : undefined
  const startedAt = resumed ? marker.startedAt : now()
  if (!resumed) await subs.meta.put(META_KEYS.upgrade, { to: step.to, name: step.name, startedAt } satisfies UpgradeMarker)
  const total = await step.estimate(subs)
  const began = now()
  let lastDone = 0
  const report = (done: number, finished: boolean): void => {
    lastDone = done
    const elapsed = (now() - began) / 1000
    const rate = elapsed > 0 && done > 0 ? done / elapsed : undefined
    const percent = total > 0 ? Math.min(100, Math.floor(done / total * 100)) : (finished ? 100 : 0)
    options.onProgress?.({
      to: step.to,
      name: step.name,
      done,
      total,
      percent: finished ? 100 : percent,
      etaSeconds: rate !== undefined && !finished ? Math.max(0, (total - done) / rate) : undefined,
      resumed,
      finished
    })
  }
  report(0, false)
  try {
    await step.run({
      subs,
      resumeFrom,
      commit: async (ops, next) => {
        await writeBatch(options.db, [...ops, { type: 'put', sublevel: subs.meta, key: META_KEYS.upgrade, value: { to: step.to, name: step.name, resumeFrom: next, startedAt } satisfies UpgradeMarker }])
      },
      progress: (done) => report(done, false)
    })
  } catch (err) {
    throw new StoreUpgradeError(`upgrading the store at ${options.location} to schema ${step.to} (${step.name}) failed: ${(err as Error).message}; the store keeps schema ${step.to - 1} and the step resumes at the next start (fix the cause first, e.g. free disk space)`, { cause: err })
  }
  report(Math.max(lastDone, total), true)
}
