/**
 * The store's digest (verify): kept in the same batch as every write —
 * creates, updates, tombstones, conflict siblings, resolutions, type changes,
 * pipelined transactions — it always equals the digest rebuilt from the
 * records; two stores holding the same versions agree although their ids
 * (prefix rules) and current/sibling splits differ; writes that bypass the
 * store are found uid by uid and healDigest mends the digest.
 */
import { describe, expect, it } from 'vitest'
import type { ObjectVersion } from '../../protocol/object.js'
import { holdingLeaf } from '../../protocol/digest.js'
import type { Store, StoredObject, WriteTx } from '../../store/types.js'
import { createLevelStore } from '../../store/level-store.js'
import { join } from 'node:path'
import { useTempStore } from '../helpers/temp-store.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'
import { rawSublevels } from '../helpers/corrupt.js'
import { allDigestLeaves } from '../helpers/digest.js'
import { withSeed } from '../helpers/seeded.js'

const FILE = 'test/integration/store-digest.test.ts'

function version (uid: string, vector: Record<string, number>, over: Partial<ObjectVersion> = {}): ObjectVersion {
  return { uid, type: 'Sample', id: `S-${uid}`, parent: null, refs: [], data: { v: JSON.stringify(vector), note: 'x"y\\z' }, vector, origin: 'lab-a', deleted: false, at: 1000, ...over }
}

async function put (tx: WriteTx, current: ObjectVersion, conflicts: readonly ObjectVersion[] = [], via: string | null = null): Promise<StoredObject> {
  await tx.get(current.uid)
  return tx.putObject({ ...current, conflicts, via, viaEpoch: 'e1' })
}

async function expectConsistent (store: Store): Promise<void> {
  const report = await store.digest.check()
  expect(report.problems).toEqual([])
  expect(report.groupProblems).toEqual([])
  expect(report.equal).toBe(true)
  expect(report.rebuilt).toEqual(report.stored)
}

describe('the store digest', () => {
  const temp = useTempStore('lab-b')

  it('stays equal to the digest rebuilt from the records through every kind of write, pipelined', async () => {
    const { store } = temp
    await withSeed('store-digest', FILE, async (rng) => {
      const uids = Array.from({ length: 60 }, (_, i) => `u-${i}`)
      const held = new Map<string, ObjectVersion[]>()
      let clock = 1
      const writes: Array<Promise<unknown>> = []
      for (let round = 0; round < 40; round++) {
        const picked = Array.from({ length: 10 }, () => uids[rng.int(uids.length)]!)
        writes.push(store.write(async (tx) => {
          for (const uid of new Set(picked)) {
            const versions = held.get(uid)
            const n = clock++
            const roll = rng.next()
            let next: ObjectVersion[]
            if (versions === undefined) next = [version(uid, { 'lab-a': n })]
            else if (roll < 0.25) next = [...versions, version(uid, { [`lab-${n}`]: 1 }, { data: { sibling: n } })] // a concurrent sibling
            else if (roll < 0.4) next = [version(uid, { 'lab-b': n }, { type: rng.chance(0.5) ? 'Analysis' : 'Sample' })] // resolution or type change
            else if (roll < 0.5) next = [version(uid, { 'lab-b': n }, { deleted: true, data: {} })]
            else if (roll < 0.55) next = [version(uid, { 'lab-b': n }, { type: '@registry', id: rng.chance(0.5) ? 'senaite.x' : 'plone.y' })]
            else next = [version(uid, { 'lab-a': n }, { data: { edit: n, nested: { deep: [n, 'é'] } } }), ...versions.slice(1)]
            held.set(uid, next)
            await put(tx, next[0]!, next.slice(1))
          }
        }))
        if (round % 7 === 6) await Promise.all(writes.splice(0))
      }
      await Promise.all(writes)
      await expectConsistent(store)
      // the same after a restart: the aggregate rows on disk, not only in memory
      await store.close()
      await store.open()
      await expectConsistent(store)
      expect(store.digest.groups().reduce((n, g) => n + g.count, 0)).toBe(held.size)
    })
  })

  it('takes an update\'s old leaf from the transaction chain: written twice in one transaction, read or written by an unsettled one before', async () => {
    const { store } = temp
    await store.write(async (tx) => { for (const uid of ['a', 'b', 'c']) await put(tx, version(uid, { 'lab-a': 1 })) })
    const first = store.write(async (tx) => {
      await put(tx, version('a', { 'lab-a': 2 }))
      await put(tx, version('a', { 'lab-a': 3 }, { type: 'Analysis' }))
      await tx.get('b')
    })
    const second = store.write(async (tx) => {
      await put(tx, version('a', { 'lab-a': 4 }))
      await put(tx, version('b', { 'lab-a': 2 }))
      await put(tx, version('c', { 'lab-a': 2 }, { deleted: true, data: {} }))
    })
    await Promise.all([first, second])
    await expectConsistent(store)
    expect(store.digest.groups().reduce((n, g) => n + g.count, 0)).toBe(3)
  })

  it('hashes a signed version as its unsigned copy: the content the store holds, never the signature', async () => {
    const { store } = temp
    const sig = { by: 'lab-a', peer: '12D3KooWExample', h: 'aGFzaA', sig: 'c2ln', i: 1, n: 2, p: 'cGF0aA' }
    const signed = { ...version('s-1', { 'lab-a': 1 }), sig }
    const unsigned = version('s-2', { 'lab-a': 1 })
    await store.write(async (tx) => { await put(tx, signed); await put(tx, unsigned) })
    const leaves = new Map((await allDigestLeaves(store)).flatMap((g) => g.rows.map((r) => [r.leaf.uid, r.leaf.hash])))
    // the general path (no record text) hashes the version without its sig: the fast path must agree
    expect(leaves.get('s-1')).toBe(holdingLeaf([version('s-1', { 'lab-a': 1 })]).hash)
    expect(leaves.get('s-2')).toBe(holdingLeaf([unsigned]).hash)
    await expectConsistent(store)
  })

  it('two stores holding the same versions agree, whatever their ids and current/sibling splits', async () => {
    const dir = await makeTempDir()
    const other = createLevelStore({ location: join(dir, 'store'), domain: 'lab-c' })
    await other.open()
    try {
      const a = version('c-1', { 'lab-a': 2 }, { data: { by: 'a' } })
      const b = version('c-1', { 'lab-b': 1 }, { data: { by: 'b' } })
      const plain = version('p-1', { 'lab-a': 1 })
      await temp.store.write(async (tx) => {
        await put(tx, a, [b], 'lab-a')
        await put(tx, plain, [], 'lab-a')
      })
      await other.write(async (tx) => {
        await put(tx, { ...b, id: 'A-S-c-1' }, [{ ...a, id: 'A-S-c-1' }], null)
        await put(tx, { ...plain, id: 'A-S-p-1' }, [], 'hub')
      })
      expect(other.digest.groups()).toEqual(temp.store.digest.groups())
      const leaves = async (s: Store): Promise<unknown[]> => (await allDigestLeaves(s)).flatMap((g) => g.rows.map((r) => ({ uid: r.leaf.uid, vectors: r.leaf.vectors, hash: r.leaf.hash })))
      expect(await leaves(other)).toEqual(await leaves(temp.store))
      const conflicted = (await leaves(other) as Array<{ uid: string, vectors: unknown[] }>).find((r) => r.uid === 'c-1')
      expect(conflicted?.vectors).toHaveLength(2)
    } finally {
      await other.close()
      await removeDir(dir)
    }
  })

  it('finds records written behind its back, uid by uid, and healDigest mends the digest', async () => {
    const { store } = temp
    await store.write(async (tx) => {
      for (let i = 0; i < 200; i++) await put(tx, version(`h-${String(i).padStart(3, '0')}`, { 'lab-a': 1 }))
    })
    const raw = rawSublevels(store)
    const changed = (await store.getObject('h-007'))!
    await raw.objects.put('h-007', { ...changed, data: { forged: true } })
    await raw.objects.put('h-099', { ...(await store.getObject('h-099'))!, type: 'Analysis' })
    await raw.objects.del('h-150')
    await raw.objects.put('h-900', { ...changed, uid: 'h-900' })
    const report = await store.digest.check()
    expect(report.equal).toBe(false)
    expect(report.problems.map((p) => p.uid)).toEqual(['h-007', 'h-099', 'h-150', 'h-900'])
    const byUid = new Map(report.problems.map((p) => [p.uid, p]))
    expect(byUid.get('h-007')!.stored!.leaf.vectors).toEqual(byUid.get('h-007')!.actual!.leaf.vectors)
    expect(byUid.get('h-007')!.stored!.leaf.hash).not.toBe(byUid.get('h-007')!.actual!.leaf.hash)
    expect(byUid.get('h-099')!.actual!.group.type).toBe('Analysis')
    expect(byUid.get('h-150')!.actual).toBeUndefined()
    expect(byUid.get('h-900')!.stored).toBeUndefined()
    await store.write(async (tx) => {
      for (const p of report.problems) await tx.healDigest(p.uid, p.stored !== undefined ? [p.stored.key] : [])
    })
    await expectConsistent(store)
  })
})
