/**
 * The history upgrade step (store/upgrades/step-history.ts) on a store of
 * the old schema, built without history: every object gets its row, seeded
 * with its current version and conflict siblings; an interrupted run resumes
 * and ends as an uninterrupted one; later writes append to the seeded rows.
 */
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { META_KEYS, SUBLEVELS } from '../../store/keys.js'
import { createLevelStore } from '../../store/level-store.js'
import type { HistoryEntry } from '../../store/history.js'
import { SCHEMA_VERSION, UPGRADE_STEPS, type UpgradeStep } from '../../store/upgrades/index.js'
import { historyStep } from '../../store/upgrades/step-history.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'

const DOMAIN = 'lab-a'
const N = 1203

describe('upgrade step: object history', () => {
  let dir: string
  let location: string
  beforeEach(async () => { dir = await makeTempDir(); location = join(dir, 'store') })
  afterEach(async () => { await removeDir(dir) })

  /** a store of the schema before history (no step run, no history rows) holding N objects, one with a sibling */
  async function oldStore (): Promise<void> {
    const before = UPGRADE_STEPS.filter((s) => s.to < historyStep.to)
    const store = createLevelStore({ location, domain: DOMAIN, upgradeSteps: before, historyVersions: 0 })
    await store.open()
    const uids = Array.from({ length: N }, (_, i) => `u-${String(i).padStart(5, '0')}`)
    await store.write(async (tx) => {
      await tx.getMany(uids)
      uids.forEach((uid, i) => {
        const version = { uid, type: 'Sample', id: `S-${i}`, parent: null, refs: [], data: { i }, vector: { [DOMAIN]: 1 }, origin: DOMAIN, deleted: i === 7, at: 1000 + i }
        const conflicts = i === 3 ? [{ ...version, data: { i: -3 }, vector: { 'lab-b': 1 }, origin: DOMAIN }] : []
        tx.putObject({ ...version, conflicts, via: i % 2 === 0 ? null : 'hub' })
      })
    })
    await store.close()
  }

  async function readRaw (): Promise<{ schema: unknown, upgrade: unknown, history: Array<[string, HistoryEntry[]]> }> {
    const db = new Level<string, unknown>(location, { valueEncoding: 'json' })
    try {
      const meta = db.sublevel(SUBLEVELS.meta, { valueEncoding: 'json' })
      const history = db.sublevel(SUBLEVELS.history, { valueEncoding: 'json' })
      return { schema: await meta.get(META_KEYS.schema), upgrade: await meta.get(META_KEYS.upgrade), history: await history.iterator().all() as unknown as Array<[string, HistoryEntry[]]> }
    } finally {
      await db.close()
    }
  }

  it('seeds every object\'s history with its current version and siblings; later writes append', async () => {
    await oldStore()
    expect((await readRaw()).history).toEqual([])
    const store = createLevelStore({ location, domain: DOMAIN })
    await store.open()
    const raw = await store.getHistory('u-00003')
    expect(raw?.map((e) => [e.event, e.vector, e.signature, e.appliedAt])).toEqual([
      ['seeded', { [DOMAIN]: 1 }, 'unsigned', null],
      ['seeded', { 'lab-b': 1 }, 'unsigned', null]
    ])
    expect(await store.getHistory('u-00001')).toMatchObject([{ event: 'seeded', via: 'hub', id: 'S-1', at: 1001, changed: null }])
    expect(await store.getHistory('u-00007')).toMatchObject([{ event: 'seeded', deleted: true }])
    await store.write(async (tx) => {
      const prev = (await tx.get('u-00001'))!
      tx.putObject({ ...prev, data: { i: 1, note: 'edited' }, vector: { [DOMAIN]: 2 }, via: null })
    })
    expect((await store.getHistory('u-00001'))?.map((e) => [e.event, e.changed])).toEqual([['seeded', null], ['version', ['data.note']]])
    await store.close()
    const after = await readRaw()
    expect(after.schema).toBe(SCHEMA_VERSION)
    expect(after.upgrade).toBeUndefined()
    expect(after.history.length).toBe(N)
  })

  it('an interrupted run resumes where it stopped and ends as an uninterrupted one', async () => {
    await oldStore()
    let commits = 0
    const failing: UpgradeStep = {
      ...historyStep,
      run: async (ctx) => await historyStep.run({ ...ctx, commit: async (ops, next) => { if (++commits === 2) throw new Error('disk on fire'); await ctx.commit(ops, next) } })
    }
    const broken = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UPGRADE_STEPS.map((s) => s === historyStep ? failing : s) })
    await expect(broken.open()).rejects.toThrow(new RegExp(`keeps schema ${historyStep.to - 1}`))
    const half = await readRaw()
    expect(half.schema).toBe(historyStep.to - 1)
    expect(half.upgrade).toMatchObject({ to: historyStep.to, name: 'history' })
    expect(half.history.length).toBe(500)

    const resumed = createLevelStore({ location, domain: DOMAIN })
    await resumed.open()
    await resumed.close()
    const after = await readRaw()

    await removeDir(location)
    await oldStore()
    const straight = createLevelStore({ location, domain: DOMAIN })
    await straight.open()
    await straight.close()
    expect(after).toEqual(await readRaw())
  })
})
