/**
 * The first real upgrade step (store/upgrades/step-blob-references.ts): a
 * store of the schema before it — objects whose data reference blobs, no
 * reference index — opens upgraded with the index built (the same rows the
 * current code keeps on every write); and a process SIGKILLed in the middle
 * of the step leaves the old schema with a resume point, from which the next
 * open ends exactly where an uninterrupted upgrade does; and an agent whose
 * store was upgraded serves the blobs of its old objects (the index is what
 * the serve rules read), so they replicate.
 */
import { spawn } from 'node:child_process'
import { cp } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ObjectVersion } from '../../protocol/object.js'
import { META_KEYS, SUBLEVELS } from '../../store/keys.js'
import { createLevelStore } from '../../store/level-store.js'
import { SCHEMA_VERSION, UPGRADE_STEPS, type UpgradeProgress } from '../../store/upgrades/index.js'
import { inspectStoreSchema } from '../../store/upgrades/inspect.js'
import { blobReferencesStep } from '../../store/upgrades/step-blob-references.js'
import { writeDocuments } from '../../agent/apply/local-writes.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { createBlobStore } from '../../store/blobs/blob-store.js'
import { authHeader } from '../helpers/admin.js'
import { blobRef, seededBytes, sha256Of } from '../helpers/blobs.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { makeTempDir, meshConfig, removeDir, waitFor } from '../helpers/nodes.js'

const DOMAIN = 'lab-a'
const CHILD = resolve(import.meta.dirname, '../../dist/test/helpers/upgrade-child.js')
/** the schema the step upgrades from, and the steps that code ran */
const OLD = blobReferencesStep.to - 1
const BEFORE = UPGRADE_STEPS.filter((s) => s.to <= OLD)
const hash = (i: number): string => `sha256:${i.toString(16).padStart(64, '0')}`

/** What the fixture writes for object i, and the blobs its versions reference. */
function fixtureObject (i: number): { version: ObjectVersion, siblings: ObjectVersion[], blobs: string[] } {
  const uid = `u-${String(i).padStart(6, '0')}`
  const base = { uid, type: 'Attachment', id: `A-${i}`, parent: null, refs: [], vector: { [DOMAIN]: 1 }, origin: DOMAIN, deleted: false, at: 0 }
  switch (i % 5) {
    case 0: return { version: { ...base, data: { n: i } }, siblings: [], blobs: [] }
    // one reference; every tenth object shares hash(1)
    case 1: return { version: { ...base, data: { file: blobRef(i % 10 === 1 ? hash(1) : hash(i), 10) } }, siblings: [], blobs: [i % 10 === 1 ? hash(1) : hash(i)] }
    // two, nested in an array, one repeated
    case 2: return { version: { ...base, data: { files: [blobRef(hash(i), 1), { deep: blobRef(hash(i + 1), 2) }, blobRef(hash(i), 1)] } }, siblings: [], blobs: [hash(i), hash(i + 1)] }
    // a conflict sibling references a blob the current version does not
    case 3: return { version: { ...base, data: { n: i } }, siblings: [{ ...base, vector: { 'lab-b': 1 }, data: { file: blobRef(hash(i), 3) } }], blobs: [hash(i)] }
    // a tombstone references nothing
    default: return { version: { ...base, data: {}, deleted: true }, siblings: [], blobs: [] }
  }
}

/**
 * A store as the code of the schema before the step wrote it: the records,
 * feed, type index, history and meta rows — no `b` or `g` rows. Written by
 * today's store opened with the steps before this one (so at schema OLD),
 * then stripped of the index rows it keeps now.
 */
async function oldStore (location: string, n: number): Promise<Map<string, string[]>> {
  const store = createLevelStore({ location, domain: DOMAIN, upgradeSteps: BEFORE })
  await store.open()
  const expected = new Map<string, string[]>()
  for (let start = 0; start < n; start += 1000) {
    await store.write(async (tx) => {
      const items = Array.from({ length: Math.min(1000, n - start) }, (_, j) => fixtureObject(start + j))
      await tx.getMany(items.map((o) => o.version.uid))
      for (const { version, siblings, blobs } of items) {
        tx.putObject({ ...version, conflicts: siblings, via: null })
        for (const h of blobs) expected.set(h, [...(expected.get(h) ?? []), version.uid])
      }
    })
  }
  await store.close()
  await stripIndex(location)
  return expected
}

/** Remove the rows the code of schema OLD did not write (today's putObject writes them whatever the schema). */
async function stripIndex (location: string): Promise<void> {
  const db = new Level<string, string>(location, { valueEncoding: 'utf8' })
  try {
    for (const sub of [SUBLEVELS.blobRefs, SUBLEVELS.blobOrphans]) await db.sublevel(sub).clear()
    expect(await db.sublevel(SUBLEVELS.meta, { valueEncoding: 'json' }).get(META_KEYS.schema)).toBe(OLD)
  } finally {
    await db.close()
  }
}

/** Every row of the database, as text, in key order. */
async function dump (location: string): Promise<Array<[string, string]>> {
  const db = new Level<string, string>(location, { valueEncoding: 'utf8' })
  try {
    return await db.iterator().all()
  } finally {
    await db.close()
  }
}

/** The `b` rows as hash → uids. */
function indexOf (rows: Array<[string, string]>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const prefix = `!${SUBLEVELS.blobRefs}!`
  for (const [key] of rows) {
    if (!key.startsWith(prefix)) continue
    const [h, uid] = key.slice(prefix.length).split('\x00') as [string, string]
    out.set(h, [...(out.get(h) ?? []), uid])
  }
  return out
}

describe('upgrade step: blob references', () => {
  let dir: string
  beforeEach(async () => { dir = await makeTempDir('labmesh-upgrade-blobs-') })
  afterEach(async () => { await removeDir(dir) })

  it(`is the step to schema ${blobReferencesStep.to} and opens a schema-${OLD} store with the index built, equal to what writes keep`, async () => {
    expect(UPGRADE_STEPS.map((s) => s.name)).toContain('blob-references')
    expect(blobReferencesStep.to).toBe(UPGRADE_STEPS.indexOf(blobReferencesStep) + 2)
    const location = join(dir, 'old')
    const expected = await oldStore(location, 2500)
    expect(indexOf(await dump(location)).size).toBe(0)
    expect(await inspectStoreSchema(location)).toMatchObject({ schema: OLD, latest: SCHEMA_VERSION, pending: expect.arrayContaining([expect.objectContaining({ to: blobReferencesStep.to, name: 'blob-references', rows: 2500 })]) })

    const progress: UpgradeProgress[] = []
    const store = createLevelStore({ location, domain: DOMAIN, onUpgradeProgress: (p) => progress.push(p) })
    await store.open()
    expect(await store.blobReferrers(hash(1), { limit: 10_000 })).toEqual(expected.get(hash(1)))
    expect(await store.blobReferrers(hash(3))).toEqual(['u-000002', 'u-000003']) // a current version's and a sibling's
    expect(await store.blobReferrers(hash(4))).toEqual([])
    await store.close()
    expect(progress.filter((p) => p.name === 'blob-references').at(-1)).toMatchObject({ finished: true, percent: 100, done: 2500 })
    const upgraded = await dump(location)
    expect(indexOf(upgraded)).toEqual(expected)

    // a store written by today's code, same objects: the same rows, byte for byte
    const fresh = join(dir, 'fresh')
    const now = createLevelStore({ location: fresh, domain: DOMAIN })
    await now.open()
    await now.write(async (tx) => {
      const items = Array.from({ length: 2500 }, (_, i) => fixtureObject(i))
      await tx.getMany(items.map((o) => o.version.uid))
      for (const { version, siblings } of items) tx.putObject({ ...version, conflicts: siblings, via: null })
    })
    await now.close()
    const rows = (r: Array<[string, string]>): Array<[string, string]> => r.filter(([k]) => k.startsWith(`!${SUBLEVELS.blobRefs}!`))
    expect(rows(upgraded)).toEqual(rows(await dump(fresh)))
    expect(upgraded.find(([k]) => k === `!${SUBLEVELS.meta}!${META_KEYS.schema}`)?.[1]).toBe(String(SCHEMA_VERSION))
  })

  it(`SIGKILLed in the middle of the step, the store keeps schema ${OLD} and resumes to exactly what an uninterrupted upgrade gives`, async () => {
    const original = join(dir, 'original')
    await oldStore(original, 30_000)
    const killed = join(dir, 'killed')
    const straight = join(dir, 'straight')
    await cp(original, killed, { recursive: true })
    await cp(original, straight, { recursive: true })

    const child = spawn(process.execPath, [CHILD, killed, DOMAIN], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)))
    let seen: UpgradeProgress | undefined
    for await (const line of createInterface({ input: child.stdout })) {
      const p = JSON.parse(line) as UpgradeProgress
      if (p.done > 0 && !p.finished) {
        // the step has committed a chunk and is working on the next ones: kill it there
        child.kill('SIGKILL')
        seen = p
        break
      }
    }
    expect(await exited).toBe('SIGKILL')
    expect(seen?.name).toBe('blob-references')
    const half = await inspectStoreSchema(killed)
    expect(half.schema).toBe(OLD)
    expect(half.interrupted).toMatchObject({ to: blobReferencesStep.to, name: 'blob-references' })
    expect(indexOf(await dump(killed)).size).toBeGreaterThan(0)

    const resumed: UpgradeProgress[] = []
    const store = createLevelStore({ location: killed, domain: DOMAIN, onUpgradeProgress: (p) => resumed.push(p) })
    await store.open()
    await store.close()
    expect(resumed[0]).toMatchObject({ name: 'blob-references', resumed: true })
    // what was committed before the kill was not visited again
    const visited = resumed.filter((p) => p.name === 'blob-references' && !p.finished).at(-1)!.done
    expect(visited).toBeLessThan(30_000)

    const uninterrupted = createLevelStore({ location: straight, domain: DOMAIN })
    await uninterrupted.open()
    await uninterrupted.close()
    expect(await dump(killed)).toEqual(await dump(straight))
  })
})

describe('an upgraded store replicates its blobs', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-upgrade-blobs-mesh-' })

  it(`A's schema-${OLD} store with an attachment opens upgraded; B pulls the object and its blob from A`, async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const aConfig = meshConfig(A, [{ node: B }])
    const bytes = seededBytes(512 * 1024 + 7, 'upgrade')
    const hash = sha256Of(bytes)
    const files = createBlobStore(aConfig.paths.blobsDir)
    await files.open()
    await files.put((async function * () { yield bytes })())
    const old = createLevelStore({ location: aConfig.paths.storeDir, domain: 'lab-a', upgradeSteps: BEFORE })
    await old.open()
    await writeDocuments({ store: old, domain: 'lab-a', now: Date.now, rules: [] }, [{ uid: 'att-1', type: 'Attachment', id: 'ATT-1', data: { file: blobRef(hash, bytes.length) } }])
    await old.close()
    await stripIndex(aConfig.paths.storeDir)

    const a = await mesh.start(aConfig)
    expect(await agentInternals(a).store.blobReferrers(hash)).toEqual(['att-1'])
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await waitFor(async () => (await b.documents.get('att-1')) !== undefined, { what: 'att-1 applied on B' })
    const response = await b.request(`/api/blobs/${hash}`, { headers: authHeader(b) })
    expect(response.status).toBe(200)
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true)
    expect(b.status().failed).toBe(0)
  })
})
