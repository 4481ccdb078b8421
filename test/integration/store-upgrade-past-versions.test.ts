/**
 * The past-versions upgrade step (store/upgrades/step-past-versions.ts): a
 * store of the schema before it opens upgraded with its objects as they
 * were and no past versions (a conflict it held has no known base); writes
 * after it keep the versions they replace, so a conflict that arises then
 * finds its common ancestor; code from before the step refuses the store.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { describeConflict } from '../../agent/apply/conflict-merge.js'
import { StoreSchemaTooNewError } from '../../store/errors.js'
import { createLevelStore } from '../../store/level-store.js'
import { PAST_VERSIONS_KEPT } from '../../store/past-versions.js'
import type { ObjectWrite } from '../../store/types.js'
import { SCHEMA_VERSION, UPGRADE_STEPS } from '../../store/upgrades/index.js'
import { inspectStoreSchema } from '../../store/upgrades/inspect.js'
import { pastVersionsStep } from '../../store/upgrades/step-past-versions.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'
import { allStored } from '../helpers/store-audit.js'

const DOMAIN = 'lab-a'
const BEFORE = UPGRADE_STEPS.filter((s) => s.to < pastVersionsStep.to)
const UP_TO = UPGRADE_STEPS.filter((s) => s.to <= pastVersionsStep.to)

const version = (uid: string, vector: Record<string, number>, data: Record<string, unknown>, conflicts: ObjectWrite['conflicts'] = []): ObjectWrite =>
  ({ uid, type: 'Sample', id: uid, parent: null, refs: [], data, vector, origin: DOMAIN, deleted: false, at: 0, conflicts, via: null })

describe('store upgrade: past versions', () => {
  let dir: string
  let location: string
  beforeEach(async () => { dir = await makeTempDir(); location = join(dir, 'store') })
  afterEach(async () => { await removeDir(dir) })

  it('an older store opens upgraded and unchanged; later writes keep merge bases; older code refuses it', async () => {
    // the old schema: written as code before the step wrote it (no past versions)
    const old = createLevelStore({ location, domain: DOMAIN, upgradeSteps: BEFORE, historyVersions: 0 })
    await old.open()
    await old.write(async (tx) => {
      await tx.getMany(['s-1', 's-2'])
      tx.putObject(version('s-1', { [DOMAIN]: 1 }, { result: '1' }))
      tx.putObject(version('s-2', { [DOMAIN]: 2 }, { result: '2' }, [{ ...version('s-2', { 'lab-b': 1 }, { result: '3' }) }]))
    })
    const before = await allStored(old)
    await old.close()
    expect(await inspectStoreSchema(location, UP_TO)).toMatchObject({ schema: pastVersionsStep.to - 1, pending: [{ to: pastVersionsStep.to, name: 'past-versions', rows: 0 }] })

    const store = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UP_TO })
    await store.open()
    expect(await allStored(store)).toEqual(before)
    // a conflict from before the upgrade: what both sides came from is gone
    const s2 = (await store.getObject('s-2'))!
    expect(await store.getPastVersions('s-2')).toEqual([])
    expect(describeConflict(s2, []).report).toMatchObject({ baseKnown: false, conflicting: ['data.result'] })

    // edits after it keep what they replace, newest last, at most PAST_VERSIONS_KEPT
    for (let n = 2; n <= PAST_VERSIONS_KEPT + 2; n++) {
      await store.write(async (tx) => { await tx.get('s-1'); tx.putObject(version('s-1', { [DOMAIN]: n }, { result: String(n), remarks: '' })) })
    }
    const past = await store.getPastVersions('s-1')
    expect(past.map((p) => p.vector[DOMAIN])).toEqual(Array.from({ length: PAST_VERSIONS_KEPT }, (_, i) => i + 2))
    // a concurrent version arriving now finds the base it came from
    const latest = PAST_VERSIONS_KEPT + 2
    await store.write(async (tx) => {
      const held = (await tx.get('s-1'))!
      tx.putObject({ ...held, conflicts: [version('s-1', { [DOMAIN]: latest - 1, 'lab-b': 1 }, { result: String(latest - 1), remarks: 'checked' })] })
    })
    const conflict = describeConflict((await store.getObject('s-1'))!, await store.getPastVersions('s-1'))
    expect(conflict.base?.vector).toEqual({ [DOMAIN]: latest - 1 })
    expect(conflict.report).toMatchObject({ baseKnown: true, conflicting: [], autoMergeable: ['data.result', 'data.remarks'] })
    await store.close()

    const older = createLevelStore({ location, domain: DOMAIN, upgradeSteps: BEFORE })
    expect(await older.open().catch((e: unknown) => e)).toBeInstanceOf(StoreSchemaTooNewError)
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(pastVersionsStep.to)
  })
})
