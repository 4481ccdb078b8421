/**
 * The digest's upgrade step (store/upgrades/step-digest.ts): a store written
 * before the digest existed opens with the digest a new store would have
 * kept all along — also when the step was interrupted and resumed.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ObjectVersion } from '../../protocol/object.js'
import { StoreUpgradeError } from '../../store/errors.js'
import { createLevelStore } from '../../store/level-store.js'
import { digestStep } from '../../store/upgrades/step-digest.js'
import { UPGRADE_STEPS, type UpgradeStep } from '../../store/upgrades/index.js'
import { inspectStoreSchema } from '../../store/upgrades/inspect.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'
import { rawSublevels } from '../helpers/corrupt.js'
import { allDigestLeaves } from '../helpers/digest.js'

const N = 5000
/** the steps before the digest's (none today; the lead may renumber) */
const BEFORE = UPGRADE_STEPS.filter((s) => s.to < digestStep.to)

describe('upgrade step: digest', () => {
  let dir: string
  let location: string
  beforeEach(async () => { dir = await makeTempDir(); location = join(dir, 'store') })
  afterEach(async () => { await removeDir(dir) })

  /** a store at the schema before the digest, holding N objects (some with siblings, some deleted); returns the digest the code keeps as it writes */
  async function oldStore (): Promise<{ groups: unknown, leaves: unknown }> {
    const store = createLevelStore({ location, domain: 'lab-b', upgradeSteps: BEFORE })
    await store.open()
    await store.write(async (tx) => {
      const uids = Array.from({ length: N }, (_, i) => `u-${String(i).padStart(5, '0')}`)
      await tx.getMany(uids)
      uids.forEach((uid, i) => {
        const v: ObjectVersion = { uid, type: ['Client', 'Sample', 'Analysis', '@registry'][i % 4]!, id: i % 4 === 3 ? `plone.${i}` : `X-${i}`, parent: null, refs: [], data: { i }, vector: { 'lab-a': 1 + (i % 3) }, origin: i % 5 === 0 ? 'lab-b' : 'lab-a', deleted: i % 11 === 0, at: i }
        const sibling = i % 13 === 0 ? [{ ...v, vector: { 'lab-c': 1 }, data: { other: i } }] : []
        tx.putObject({ ...v, conflicts: sibling, via: 'lab-a', viaEpoch: 'e' })
      })
    })
    const kept = { groups: store.digest.groups(), leaves: await allDigestLeaves(store) }
    // what an older labmesh left: no aggregate rows, and type-index rows without values
    const raw = rawSublevels(store)
    await raw.digest.clear()
    const typeRows: string[] = await raw.types.keys().all()
    await raw.types.batch(typeRows.map((key) => ({ type: 'put', key, value: '' })))
    await store.close()
    return kept
  }

  async function expectBuilt (kept: { groups: unknown, leaves: unknown }): Promise<void> {
    const store = createLevelStore({ location, domain: 'lab-b' })
    await store.open()
    try {
      expect(store.digest.groups()).toEqual(kept.groups)
      expect(await allDigestLeaves(store)).toEqual(kept.leaves)
      const check = await store.digest.check()
      expect(check.equal).toBe(true)
      expect(check.rebuilt.count).toBe(N)
    } finally {
      await store.close()
    }
  }

  it('builds the digest a new store keeps as it writes, in chunks, with progress to 100 %', async () => {
    const kept = await oldStore()
    expect((await inspectStoreSchema(location)).pending.map((s) => [s.name, s.rows])).toContainEqual(['digest', N])
    const progress: number[] = []
    const store = createLevelStore({ location, domain: 'lab-b', onUpgradeProgress: (p) => { if (p.name === 'digest') progress.push(p.percent) } })
    await store.open()
    await store.close()
    expect(progress.at(-1)).toBe(100)
    expect(progress.some((p) => p > 0 && p < 100)).toBe(true)
    await expectBuilt(kept)
  })

  it('resumes where a crash stopped it, in either phase, and ends as an uninterrupted run', async () => {
    const kept = await oldStore()
    // a disk that fails at the second batch (phase 1: leaf rows), then at the aggregates (phase 2)
    const failures: Array<(commit: number, ops: readonly unknown[], resumeFrom: string) => boolean> = [
      (commit) => commit === 2,
      (_, ops, resumeFrom) => resumeFrom === 'aggregates' && ops.length > 0
    ]
    for (const fails of failures) {
      let commits = 0
      const failing: UpgradeStep = {
        ...digestStep,
        run: async (context) => await digestStep.run({
          ...context,
          commit: async (ops, resumeFrom) => {
            if (fails(++commits, ops, resumeFrom)) throw new Error('disk on fire')
            await context.commit(ops, resumeFrom)
          }
        })
      }
      const steps = UPGRADE_STEPS.map((s) => (s === digestStep ? failing : s))
      const err = await createLevelStore({ location, domain: 'lab-b', upgradeSteps: steps }).open().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StoreUpgradeError)
      expect((await inspectStoreSchema(location)).interrupted).toMatchObject({ name: 'digest' })
    }
    await expectBuilt(kept)
  })
})
