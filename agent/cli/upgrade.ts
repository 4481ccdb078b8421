/**
 * `labmesh upgrade --config FILE [--dry-run]`: bring a stopped agent's store
 * to this labmesh's schema now (an agent also does it when it starts), or
 * say what would run. A running agent holds the store's lock and is at its
 * own schema already: that is said, not forced.
 */
import type { LoadedConfig } from '../../config/load.js'
import { createLevelStore } from '../../store/level-store.js'
import { formatUpgradeProgress, throttledUpgradeReporter } from '../../store/upgrades/format.js'
import { inspectStoreSchema, type StoreSchemaReport } from '../../store/upgrades/inspect.js'

/** The dry run, as lines for a person. */
export function renderUpgradePlan (location: string, report: StoreSchemaReport): string {
  if (!report.exists) return `no store at ${location} yet: the agent creates it at schema ${report.latest} when it first starts`
  const lines: string[] = []
  if (report.pending.length === 0) {
    lines.push(`the store at ${location} is at schema ${report.schema}, the schema this labmesh writes: nothing to run`)
  } else {
    lines.push(`the store at ${location} is at schema ${report.schema}; this labmesh writes schema ${report.latest}. An upgrade (or the next start) runs, in order:`)
    for (const step of report.pending) lines.push(`  → schema ${step.to} (${step.name}): ${step.description} — ${step.rows.toLocaleString('en-US')} rows to visit`)
  }
  if (report.interrupted !== undefined) {
    lines.push(`an upgrade to schema ${report.interrupted.to} (${report.interrupted.name}) began ${new Date(report.interrupted.startedAt).toISOString()} and did not finish: it resumes where it stopped`)
  }
  return lines.join('\n')
}

export async function upgradeCommand (config: LoadedConfig, options: { dryRun: boolean, print: (line: string) => void, progress: (line: string, final: boolean) => void }): Promise<void> {
  const location = config.paths.storeDir
  // a running agent holds the lock (StoreLockedError names it) and upgraded its store when it started
  const report = await inspectStoreSchema(location)
  if (options.dryRun || !report.exists || report.pending.length === 0) {
    options.print(renderUpgradePlan(location, report))
    return
  }
  const store = createLevelStore({
    location,
    domain: config.domain,
    onUpgradeProgress: throttledUpgradeReporter((p) => options.progress(formatUpgradeProgress(p), p.finished), 500)
  })
  await store.open()
  await store.close()
  options.print(`the store at ${location} is at schema ${report.latest}`)
}
