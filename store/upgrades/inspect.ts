/**
 * The store's schema and what an upgrade would do to it, read without
 * changing anything: `labmesh upgrade --dry-run`.
 */
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { StoreLockedError, StoreSchemaTooNewError, StoreWriteError } from '../errors.js'
import { META_KEYS } from '../keys.js'
import { lockHolder, openLevel } from '../level-db.js'
import { UPGRADE_STEPS } from './index.js'
import { latestSchema, pendingSteps, type UpgradeMarker } from './runner.js'
import type { UpgradeStep } from './step.js'

/** What `labmesh upgrade --dry-run` reports about a store on disk. */
export interface StoreSchemaReport {
  /** there is a store at the location */
  readonly exists: boolean
  /** its schema (1 for a store from before schema versions) */
  readonly schema: number
  /** the schema this code brings it to */
  readonly latest: number
  /** the steps an open would run, in order, with the rows each visits */
  readonly pending: ReadonlyArray<{ readonly to: number, readonly name: string, readonly description: string, readonly rows: number }>
  /** a step that an earlier open began and did not finish */
  readonly interrupted: { readonly to: number, readonly name: string, readonly startedAt: number } | undefined
}

/**
 * Read a store's schema and what upgrading it would do, changing nothing.
 * Takes the store's lock for the moment it reads: a running agent's store is
 * refused (StoreLockedError), and is at that agent's schema anyway.
 */
export async function inspectStoreSchema (location: string, steps: readonly UpgradeStep[] = UPGRADE_STEPS): Promise<StoreSchemaReport> {
  const latest = latestSchema(steps)
  try {
    await access(join(location, 'CURRENT'))
  } catch {
    return { exists: false, schema: latest, latest, pending: [], interrupted: undefined }
  }
  const { db, subs } = openLevel({ location, domain: '' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(location, { cause: err, holder: await lockHolder(location) })
    throw new StoreWriteError(`cannot open the store at ${location}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const schema = (await subs.meta.get(META_KEYS.schema) as number | undefined) ?? 1
    if (schema > latest) throw new StoreSchemaTooNewError(location, schema, latest)
    const marker = await subs.meta.get(META_KEYS.upgrade) as UpgradeMarker | undefined
    const pending = []
    for (const step of pendingSteps(steps, schema)) pending.push({ to: step.to, name: step.name, description: step.description, rows: await step.estimate(subs) })
    return { exists: true, schema, latest, pending, interrupted: marker !== undefined ? { to: marker.to, name: marker.name, startedAt: marker.startedAt } : undefined }
  } finally {
    await db.close()
  }
}
