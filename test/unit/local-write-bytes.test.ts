/**
 * A local write keeps the objects of its data that are already in canonical
 * key order instead of copying them (protocol/canonical.ts canonicalize,
 * agent/apply/local-writes.ts `local`), and hashes the data's text without
 * walking it again (canonicalForm). What reaches the disk must be what the
 * former full copy wrote: the same data given in shuffled key order is
 * copied object by object, so two stores written with the same documents,
 * one in canonical order and one shuffled, must hold the same rows byte for
 * byte — records, feed, type index with digest leaves, digest aggregates,
 * history, past versions — signatures included (Ed25519 is deterministic;
 * both use one key and one clock). */
import { join } from 'node:path'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import { deleteDocument, writeDocuments, type DocumentInput, type LocalWriteDeps } from '../../agent/apply/local-writes.js'
import { canonicalJson } from '../../protocol/canonical.js'
import { createVersionSigner } from '../../protocol/provenance.js'
import { createLevelStore } from '../../store/level-store.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'
import { withSeed, type Rng } from '../helpers/seeded.js'

const FILE = 'test/unit/local-write-bytes.test.ts'
// integer-like keys (which no key order puts last), non-ASCII, punctuation, upper before lower case
const KEYS = ['a', 'b', 'B', 'z', '_', 'é', 'µg/L', '10', '9', '0', 'a"b', 'key with space', 'vector', 'data', '😀', 'Z1', 'z0']

/** a JSON value of `depth` levels, whose objects take their keys in `order`: canonical, or shuffled */
function value (rng: Rng, depth: number, order: 'canonical' | 'shuffled'): unknown {
  const kind = depth === 0 ? rng.int(4) : rng.int(6)
  if (kind === 0) return rng.int(1000) - 500
  if (kind === 1) return rng.pick(['', 'µg/L', 'x"y\\z', 'line\nbreak', 'ü😀', 'plain'])
  if (kind === 2) return rng.pick([null, true, false, 0.5, 1e21])
  if (kind === 3) return []
  if (kind === 4) return Array.from({ length: rng.int(4) }, () => value(rng, depth - 1, order))
  return object(rng, depth - 1, order)
}

function object (rng: Rng, depth: number, order: 'canonical' | 'shuffled'): Record<string, unknown> {
  const keys = KEYS.filter(() => rng.chance(0.4))
  const entries = keys.map((k) => [k, value(rng, depth, order)] as const)
  if (order === 'canonical') entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
  else for (let i = entries.length - 1; i > 0; i--) { const j = rng.int(i + 1); [entries[i], entries[j]] = [entries[j]!, entries[i]!] }
  return Object.fromEntries(entries)
}

/** the same data with every object's keys in another order (values equal as JSON) */
function reordered (data: unknown, rng: Rng): unknown {
  if (Array.isArray(data)) return data.map((d) => reordered(d, rng))
  if (typeof data !== 'object' || data === null) return data
  const entries = Object.entries(data).map(([k, v]) => [k, reordered(v, rng)] as const)
  for (let i = entries.length - 1; i > 0; i--) { const j = rng.int(i + 1); [entries[i], entries[j]] = [entries[j]!, entries[i]!] }
  return Object.fromEntries(entries)
}

/** every row of the database at `location` as utf8 text, but the store's random epoch */
async function rows (location: string): Promise<Array<[string, string]>> {
  const db = new Level<string, string>(location, { valueEncoding: 'utf8' })
  try {
    return (await db.iterator().all()).filter(([key]) => key !== '!m!epoch')
  } finally {
    await db.close()
  }
}

describe('local writes of data already in canonical order', () => {
  it('write the same rows as the same data in any other key order', async () => {
    await withSeed('local-write-bytes', FILE, async (rng) => {
      const dir = await makeTempDir()
      try {
        const signer = createVersionSigner('lab-a', 'peer-a', Buffer.alloc(32, 7))
        const stores = ['ordered', 'shuffled'].map((name) => {
          let clock = 1_700_000_000_000
          const now = (): number => clock++
          return { location: join(dir, name), store: createLevelStore({ location: join(dir, name), domain: 'lab-a', now }), now }
        })
        for (const s of stores) await s.store.open()
        const deps = stores.map((s): LocalWriteDeps => ({ store: s.store, domain: 'lab-a', now: s.now, rules: [], signer }))
        const uids = Array.from({ length: 40 }, (_, i) => `u-${i}`)
        let inOrder = 0
        for (let round = 0; round < 6; round++) {
          // creates, then edits of the same uids (history rows, past versions, old leaves), a uid twice in one transaction
          const picked = uids.filter(() => rng.chance(0.6))
          const docs: DocumentInput[] = [...picked, ...(picked.length > 0 ? [picked[0]!] : [])].map((uid) => ({
            uid, type: rng.pick(['Sample', 'Analysis']), id: `${uid}-id`, data: object(rng, 3, 'canonical')
          }))
          for (const d of docs) if (JSON.stringify(d.data) === canonicalJson(d.data)) inOrder++
          await writeDocuments(deps[0]!, docs)
          await writeDocuments(deps[1]!, docs.map((d) => ({ ...d, data: reordered(d.data, rng) as Record<string, unknown> })))
          const gone = uids.find((u) => rng.chance(0.2) && picked.includes(u))
          if (gone !== undefined) for (const d of deps) await deleteDocument(d, gone)
        }
        // most generated documents take the new path (else the test would not test it)
        expect(inOrder).toBeGreaterThan(50)
        for (const s of stores) await s.store.close()
        const [ordered, shuffled] = await Promise.all(stores.map(async (s) => await rows(s.location)))
        expect(ordered!.length).toBeGreaterThan(200)
        expect(ordered).toEqual(shuffled)
      } finally {
        await removeDir(dir)
      }
    })
  })
})
