/**
 * The store's upgrade machinery (store/upgrades/runner.ts) with test steps:
 * steps run in order at open, an interrupted step resumes from its last
 * committed chunk and ends where an uninterrupted one would, a store newer
 * than the code is refused untouched, and progress reaches 100 %.
 */
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StoreSchemaTooNewError, StoreUpgradeError } from '../../store/errors.js'
import { META_KEYS, SUBLEVELS } from '../../store/keys.js'
import { createLevelStore } from '../../store/level-store.js'
import { latestSchema, type UpgradeProgress, type UpgradeStep } from '../../store/upgrades/index.js'
import { inspectStoreSchema } from '../../store/upgrades/inspect.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'

const DOMAIN = 'lab-a'

/** A step that writes one aux row per object (`seen:<uid>` → its type), CHUNK objects per batch. */
function indexStep (to: number, options: { chunk?: number, failAfterChunks?: number, visits?: string[] } = {}): UpgradeStep {
  const chunk = options.chunk ?? 10
  return {
    to,
    name: `index-${to}`,
    description: 'writes a test row per object',
    estimate: async (subs) => (await subs.objects.keys().all()).length,
    async run (ctx) {
      let chunks = 0
      let done = 0
      let ops: Array<{ type: 'put', sublevel: unknown, key: string, value: unknown }> = []
      let last = ''
      const range = ctx.resumeFrom !== undefined ? { gt: ctx.resumeFrom } : {}
      for await (const [uid, record] of ctx.subs.objects.iterator(range)) {
        options.visits?.push(uid as string)
        ops.push({ type: 'put', sublevel: ctx.subs.aux, key: `seen-${to}\x00${uid as string}`, value: (record as { type: string }).type })
        last = uid as string
        done++
        if (ops.length === chunk) {
          await ctx.commit(ops, last)
          ctx.progress(done)
          ops = []
          chunks++
          if (chunks === options.failAfterChunks) throw new Error('disk on fire')
        }
      }
      if (ops.length > 0) await ctx.commit(ops, last)
    }
  }
}

describe('store upgrades', () => {
  let dir: string
  let location: string
  beforeEach(async () => { dir = await makeTempDir(); location = join(dir, 'store') })
  afterEach(async () => { await removeDir(dir) })

  /** a schema-1 store (the first layout) holding n objects */
  async function oldStore (n: number): Promise<void> {
    const store = createLevelStore({ location, domain: DOMAIN, upgradeSteps: [] })
    await store.open()
    const uids = Array.from({ length: n }, (_, i) => `u-${String(i).padStart(4, '0')}`)
    await store.write(async (tx) => {
      await tx.getMany(uids)
      for (let i = 0; i < n; i++) {
        tx.putObject({ uid: uids[i]!, type: i % 2 === 0 ? 'Client' : 'Sample', id: `x-${i}`, parent: null, refs: [], data: { i }, vector: { [DOMAIN]: 1 }, origin: DOMAIN, deleted: false, at: 0, conflicts: [], via: null })
      }
    })
    await store.close()
  }

  async function readRaw (): Promise<{ schema: unknown, upgrade: unknown, aux: Array<[string, unknown]> }> {
    const db = new Level<string, unknown>(location, { valueEncoding: 'json' })
    try {
      const meta = db.sublevel(SUBLEVELS.meta, { valueEncoding: 'json' })
      const aux = db.sublevel(SUBLEVELS.aux, { valueEncoding: 'json' })
      return { schema: await meta.get(META_KEYS.schema), upgrade: await meta.get(META_KEYS.upgrade), aux: await aux.iterator().all() as Array<[string, unknown]> }
    } finally {
      await db.close()
    }
  }

  it('a new store starts at the latest schema; an old one runs every step in order and opens upgraded', async () => {
    const fresh = createLevelStore({ location: join(dir, 'fresh'), domain: DOMAIN, upgradeSteps: [indexStep(2), indexStep(3)] })
    await fresh.open()
    await fresh.close()
    const db = new Level<string, unknown>(join(dir, 'fresh'), { valueEncoding: 'json' })
    expect(await db.sublevel(SUBLEVELS.meta, { valueEncoding: 'json' }).get(META_KEYS.schema)).toBe(3)
    await db.close()

    await oldStore(25)
    const progress: UpgradeProgress[] = []
    const store = createLevelStore({ location, domain: DOMAIN, upgradeSteps: [indexStep(3), indexStep(2)], onUpgradeProgress: (p) => progress.push(p) })
    await store.open()
    expect(store.info().objects).toBe(25)
    await store.close()
    const raw = await readRaw()
    expect(raw.schema).toBe(3)
    expect(raw.upgrade).toBeUndefined()
    expect(raw.aux.filter(([k]) => k.startsWith('seen-2')).length).toBe(25)
    expect(raw.aux.filter(([k]) => k.startsWith('seen-3')).length).toBe(25)
    // steps ran in order of their schema, each reporting to 100 %
    expect(progress.filter((p) => p.finished).map((p) => [p.to, p.percent])).toEqual([[2, 100], [3, 100]])
    expect(progress.some((p) => p.to === 2 && p.percent > 0 && p.percent < 100)).toBe(true)
  })

  it('a step that fails midway leaves the old schema with its resume point; the next open resumes it and ends as an uninterrupted upgrade', async () => {
    await oldStore(55)
    const failing = createLevelStore({ location, domain: DOMAIN, upgradeSteps: [indexStep(2, { failAfterChunks: 3 })] })
    const err = await failing.open().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreUpgradeError)
    expect((err as Error).message).toMatch(/keeps schema 1 and the step resumes at the next start/)
    const half = await readRaw()
    expect(half.schema).toBe(1)
    expect(half.upgrade).toMatchObject({ to: 2, name: 'index-2', resumeFrom: 'u-0029' })
    expect(half.aux.length).toBe(30)

    const visits: string[] = []
    const resumed = createLevelStore({ location, domain: DOMAIN, upgradeSteps: [indexStep(2, { visits })] })
    await resumed.open()
    await resumed.close()
    // only what the failed run had not committed was visited again
    expect(visits.length).toBe(25)
    expect(visits[0]).toBe('u-0030')
    const after = await readRaw()

    await removeDir(location)
    await oldStore(55)
    const straight = createLevelStore({ location, domain: DOMAIN, upgradeSteps: [indexStep(2)] })
    await straight.open()
    await straight.close()
    expect(after).toEqual(await readRaw())
    expect(after.schema).toBe(2)
  })

  it('a store written by newer code is refused, naming both schemas, and left untouched', async () => {
    await oldStore(3)
    const newer = createLevelStore({ location, domain: DOMAIN, upgradeSteps: [indexStep(2), indexStep(3)] })
    await newer.open()
    await newer.close()
    const before = await readRaw()
    const older = createLevelStore({ location, domain: DOMAIN, upgradeSteps: [indexStep(2)] })
    const err = await older.open().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreSchemaTooNewError)
    expect((err as StoreSchemaTooNewError).code).toBe('STORE_SCHEMA_TOO_NEW')
    expect((err as Error).message).toContain('has schema 3')
    expect((err as Error).message).toContain('reads schema 2 and older')
    expect(await readRaw()).toEqual(before)
  })

  it('the dry run reports the schema, the steps an open would run with their rows, and an interrupted step, changing nothing', async () => {
    expect(await inspectStoreSchema(location, [indexStep(2)])).toMatchObject({ exists: false, pending: [] })
    await oldStore(12)
    const steps = [indexStep(2, { failAfterChunks: 1 }), indexStep(3)]
    expect(await inspectStoreSchema(location, steps)).toEqual({
      exists: true,
      schema: 1,
      latest: 3,
      pending: [{ to: 2, name: 'index-2', description: 'writes a test row per object', rows: 12 }, { to: 3, name: 'index-3', description: 'writes a test row per object', rows: 12 }],
      interrupted: undefined
    })
    await createLevelStore({ location, domain: DOMAIN, upgradeSteps: steps }).open().catch(() => {})
    const before = await readRaw()
    const report = await inspectStoreSchema(location, steps)
    expect(report.interrupted).toMatchObject({ to: 2, name: 'index-2' })
    expect(report.schema).toBe(1)
    expect(await readRaw()).toEqual(before)
  })

  it('step lists with a gap or a duplicate are refused', () => {
    expect(latestSchema([])).toBe(1)
    expect(latestSchema([indexStep(3), indexStep(2)])).toBe(3)
    expect(() => latestSchema([indexStep(2), indexStep(4)])).toThrow(/without gaps/)
    expect(() => latestSchema([indexStep(2), indexStep(2)])).toThrow(/without gaps/)
  })
})
