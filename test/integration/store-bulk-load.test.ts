/**
 * Bulk load (store/type-index.ts): the first batch pulled into an empty store
 * leaves the type index out; listing by type stays right meanwhile (it scans);
 * finishBulkLoad builds the index in chunks, and a build cut short resumes
 * at its cursor after a reopen, whatever changed types in between. The
 * upgrade step to the schema with the `typeIndex` row changes nothing in an
 * older store, and older code refuses the upgraded one.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StoreSchemaTooNewError } from '../../store/errors.js'
import { createLevelStore } from '../../store/level-store.js'
import type { Store } from '../../store/types.js'
import { SCHEMA_VERSION, UPGRADE_STEPS } from '../../store/upgrades/index.js'
import { typeIndexStep } from '../../store/upgrades/step-type-index.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'
import { allStored, auditStore, auditTypeIndexAt } from '../helpers/store-audit.js'

const DOMAIN = 'lab-b'
const uidOf = (i: number): string => `u-${String(i).padStart(3, '0')}`
const typeOf = (i: number): string => ['Client', 'Sample', 'Batch'][i % 3]!

/** objects `from`..`to`-1 written in one transaction, as a pull from lab-a (source) or locally */
async function put (store: Store, from: number, to: number, source?: string, type = typeOf): Promise<void> {
  const uids = Array.from({ length: to - from }, (_, k) => uidOf(from + k))
  await store.write(async (tx) => {
    const held = await tx.getMany(uids)
    uids.forEach((uid, k) => tx.putObject({ uid, type: type(from + k), id: uid, parent: null, refs: [], data: { k }, vector: { 'lab-a': (held[k]?.vector['lab-a'] ?? 0) + 1 }, origin: 'lab-a', deleted: false, at: 0, conflicts: [], via: source ?? null }))
  }, source !== undefined ? { source } : {})
}

/** every uid listed by type, page by page (small pages: `after` is exercised) */
async function listed (store: Store, type: string): Promise<string[]> {
  const out: string[] = []
  let after: string | undefined
  for (;;) {
    const page = await store.listObjects({ type, limit: 4, ...(after !== undefined ? { after } : {}) })
    out.push(...page.items.map((o) => o.uid))
    if (page.next === null) return out
    after = page.next
  }
}

describe('bulk load: the type index after an initial sync', () => {
  let dir: string
  let location: string
  beforeEach(async () => { dir = await makeTempDir(); location = join(dir, 'store') })
  afterEach(async () => { await removeDir(dir) })

  const expectListsRight = async (store: Store): Promise<void> => {
    const all = await allStored(store)
    for (const type of ['Client', 'Sample', 'Batch', 'Other']) {
      expect(await listed(store, type), type).toEqual(all.filter((o) => o.type === type).map((o) => o.uid))
    }
  }

  it('skips the index during the load, lists right meanwhile, builds it after; an interrupted build resumes exactly', async () => {
    let store = createLevelStore({ location, domain: DOMAIN, typeIndexChunk: 7 })
    await store.open()
    await put(store, 0, 20, 'lab-a')
    await put(store, 20, 40, 'lab-a')
    await store.close()
    expect(await auditTypeIndexAt(location, DOMAIN)).toEqual([])

    store = createLevelStore({ location, domain: DOMAIN, typeIndexChunk: 7 })
    await store.open()
    await expectListsRight(store)
    // a build cut short after its first chunk (as by a kill): the cursor stays where that chunk ended
    await expect(store.finishBulkLoad(() => { throw new Error('killed') })).rejects.toThrow('killed')
    await store.close()
    expect(await auditTypeIndexAt(location, DOMAIN)).toEqual([])

    store = createLevelStore({ location, domain: DOMAIN, typeIndexChunk: 7 })
    await store.open()
    // type changes on both sides of the cursor, a local write and a pull, while the index is half built
    await put(store, 2, 4, undefined, () => 'Other')
    await put(store, 30, 33, 'lab-a', () => 'Other')
    await put(store, 40, 45)
    await expectListsRight(store)
    expect(await store.finishBulkLoad()).toBeGreaterThan(0)
    await expectListsRight(store)
    expect(await store.finishBulkLoad()).toBe(0)
    // complete now: later writes keep it so, type changes included
    await put(store, 5, 6, 'lab-a', () => 'Batch')
    await expectListsRight(store)
    expect(await auditStore(store)).toEqual([])
    await store.close()
    expect(await auditTypeIndexAt(location, DOMAIN)).toEqual([])
  })

  it('writes the index as ever into a store that held objects before, and with bulkLoad off', async () => {
    const store = createLevelStore({ location, domain: DOMAIN })
    await store.open()
    await put(store, 0, 3)
    await put(store, 3, 10, 'lab-a')
    expect(await store.finishBulkLoad()).toBe(0)
    await store.close()
    expect(await auditTypeIndexAt(location, DOMAIN)).toEqual([])
    const other = createLevelStore({ location: join(dir, 'other'), domain: DOMAIN, bulkLoad: false })
    await other.open()
    await put(other, 0, 10, 'lab-a')
    expect(await other.finishBulkLoad()).toBe(0)
    await other.close()
  })

  it('upgrades an older store unchanged; older code refuses the upgraded one', async () => {
    const before = UPGRADE_STEPS.filter((s) => s.to < typeIndexStep.to)
    const old = createLevelStore({ location, domain: DOMAIN, upgradeSteps: before })
    await old.open()
    await put(old, 0, 9, 'lab-a')
    const objects = await allStored(old)
    await old.close()
    const store = createLevelStore({ location, domain: DOMAIN })
    await store.open()
    expect(await allStored(store)).toEqual(objects)
    await expectListsRight(store)
    await store.close()
    expect(await auditTypeIndexAt(location, DOMAIN)).toEqual([])
    expect(typeIndexStep.to).toBeLessThanOrEqual(SCHEMA_VERSION)
    const older = createLevelStore({ location, domain: DOMAIN, upgradeSteps: before })
    await expect(older.open()).rejects.toBeInstanceOf(StoreSchemaTooNewError)
  })
})
