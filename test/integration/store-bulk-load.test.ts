/**
 * Bulk load (store/type-index.ts) is off since the type-index rows carry the
 * anti-entropy digest's leaves: every write keeps the index, and asking for a
 * bulk load is refused. The
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

  it('writes the index with every write, also for a first pulled batch into an empty store; a bulk load is refused', async () => {
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
    expect(await auditTypeIndexAt(join(dir, 'other'), DOMAIN)).toEqual([])
    expect(() => createLevelStore({ location: join(dir, 'third'), domain: DOMAIN, bulkLoad: true as unknown as false })).toThrow(/bulkLoad is not available/)
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
