/**
 * The restore-entry upgrade step (store/upgrades/step-restore-entry.ts): a
 * store of the schema before it opens upgraded with every object as it was,
 * raising its domain (never restored); the meta row `entry` a restore
 * writes into such a store survives the upgrade and a reopen, and local
 * writes through the agent's write path raise it; a row naming another
 * domain's entry is refused; code from before the step refuses the upgraded
 * store (it would ignore the row and raise the domain's entry again).
 */
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeDocument } from '../../agent/apply/local-writes.js'
import { StoreSchemaTooNewError } from '../../store/errors.js'
import { META_KEYS, SUBLEVELS } from '../../store/keys.js'
import { createLevelStore } from '../../store/level-store.js'
import { SCHEMA_VERSION, UPGRADE_STEPS } from '../../store/upgrades/index.js'
import { restoreEntryStep } from '../../store/upgrades/step-restore-entry.js'
import { inspectStoreSchema } from '../../store/upgrades/inspect.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'
import { allStored } from '../helpers/store-audit.js'

const DOMAIN = 'lab-a'
const BEFORE = UPGRADE_STEPS.filter((s) => s.to < restoreEntryStep.to)
const UP_TO = UPGRADE_STEPS.filter((s) => s.to <= restoreEntryStep.to)

/** write the meta row `entry` into a closed store, as store/backup/restore.ts does */
async function putEntryRow (location: string, entry: string): Promise<void> {
  const db = new Level<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  await db.open()
  await db.put(`!${SUBLEVELS.meta}!${META_KEYS.entry}`, JSON.stringify(entry))
  await db.close()
}

describe('store upgrade: a restored store\'s vector entry', () => {
  let dir: string
  let location: string
  beforeEach(async () => { dir = await makeTempDir(); location = join(dir, 'store') })
  afterEach(async () => { await removeDir(dir) })

  it('an older store opens upgraded and unchanged, raising its domain; a restore\'s entry row survives the upgrade and is raised; older code refuses it', async () => {
    const old = createLevelStore({ location, domain: DOMAIN, upgradeSteps: BEFORE })
    await old.open()
    await writeDocument({ store: old, domain: DOMAIN, now: () => 1, rules: [] }, { uid: 'c-1', type: 'Client', id: 'C-1', data: { n: 1 } })
    const before = { objects: await allStored(old), head: old.info().head }
    await old.close()
    expect(await inspectStoreSchema(location, UP_TO)).toMatchObject({ schema: restoreEntryStep.to - 1, pending: [{ to: restoreEntryStep.to, name: 'restore-entry', rows: 0 }] })

    const store = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UP_TO })
    await store.open()
    expect({ objects: await allStored(store), head: store.info().head }).toEqual(before)
    expect(store.info().entry).toBe(DOMAIN)
    await store.close()

    // a restore of it (schema 8 or 9 alike) writes the row; the store raises it from then on
    await putEntryRow(location, `${DOMAIN}~0a1b2c3d`)
    const restored = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UP_TO })
    await restored.open()
    const { entry } = restored.info()
    expect(entry).toBe(`${DOMAIN}~0a1b2c3d`)
    const edited = await writeDocument({ store: restored, domain: DOMAIN, now: () => 2, rules: [] }, { uid: 'c-1', type: 'Client', id: 'C-1', data: { n: 2 } })
    expect(edited.vector).toEqual({ [DOMAIN]: 1, [`${DOMAIN}~0a1b2c3d`]: 1 })
    await restored.close()

    const older = createLevelStore({ location, domain: DOMAIN, upgradeSteps: BEFORE })
    expect(await older.open().catch((e: unknown) => e)).toBeInstanceOf(StoreSchemaTooNewError)
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(restoreEntryStep.to)
  })

  it('refuses a store whose entry row is another domain\'s', async () => {
    const store = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UP_TO })
    await store.open()
    await store.close()
    await putEntryRow(location, 'lab-b~0a1b2c3d')
    const reopened = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UP_TO })
    await expect(reopened.open()).rejects.toThrow(/raises vector entry "lab-b~0a1b2c3d", which is not domain "lab-a"'s/)
  })
})
