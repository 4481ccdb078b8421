/**
 * Every store upgrade step, in order. A store records its schema in the meta
 * row `schema`; schema 1 is the layout labmesh shipped first, and each step
 * here raises it by one. Add a step as its own module with a test that
 * builds a store of the old schema and upgrades it; never change a step that
 * has shipped (installed agents have run it).
 */
import { latestSchema } from './runner.js'
import { digestStep } from './step-digest.js'
import { historyStep } from './step-history.js'
import type { UpgradeStep } from './step.js'
import { blobReferencesStep } from './step-blob-references.js'
import { echoHoldsStep } from './step-echo-holds.js'
import { typeIndexStep } from './step-type-index.js'
import { pastVersionsStep } from './step-past-versions.js'
import { senaiteFilesStep } from './step-senaite-files.js'
import { restoreEntryStep } from './step-restore-entry.js'

export const UPGRADE_STEPS: readonly UpgradeStep[] = [echoHoldsStep, historyStep, blobReferencesStep, typeIndexStep, pastVersionsStep, digestStep, senaiteFilesStep, restoreEntryStep]

/** The schema this code writes and reads. */
export const SCHEMA_VERSION = latestSchema(UPGRADE_STEPS)

export { pendingSteps, latestSchema, runUpgrades, type UpgradeMarker } from './runner.js'
export type { UpgradeContext, UpgradeProgress, UpgradeStep } from './step.js'
