/**
 * Looking inside a store the way a fault test must: a digest of everything
 * it holds (to prove that hostile input changed nothing), and an audit of
 * the store invariant (to prove that a crash or a failed write left nothing
 * half-made: every object once in the feed, counters matching the rows).
 */
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { recordBlobHashes } from '../../store/blob-index.js'
import { createLevelStore } from '../../store/level-store.js'
import type { Store, StoredObject } from '../../store/types.js'

const PAGE = 1000

/** Every object, in uid order. */
export async function allStored (store: Store): Promise<StoredObject[]> {
  const out: StoredObject[] = []
  let after: string | undefined
  while (true) {
    const page = await store.listObjects({ limit: PAGE, ...(after !== undefined ? { after } : {}) })
    out.push(...page.items)
    if (page.next === null) return out
    after = page.next
  }
}

/** Every feed row as the store reads it back, in feed order. */
export async function allFeed (store: Store): Promise<Array<{ seq: number, object: StoredObject }>> {
  const out: Array<{ seq: number, object: StoredObject }> = []
  let since = 0
  while (true) {
    const page = await store.readFeed(since, PAGE)
    for (const entry of page.entries) out.push({ seq: entry.seq, object: JSON.parse(entry.json) as StoredObject })
    if (!page.more) return out
    since = page.lastSeq
  }
}

/** A hash of objects, feed, checkpoints, conflicts, the failed queue and the counters. */
export async function storeDigest (store: Store): Promise<string> {
  const hash = createHash('sha256')
  hash.update(JSON.stringify(store.info()))
  for (const o of await allStored(store)) hash.update(JSON.stringify(o))
  for (const e of await allFeed(store)) hash.update(`${e.seq}:${e.object.uid}\n`)
  hash.update(JSON.stringify(await store.listCheckpoints()))
  hash.update(JSON.stringify(await store.listFailed({ limit: 100_000 })))
  hash.update(JSON.stringify((await store.listConflicts({ limit: 100_000 })).map((o) => o.uid)))
  return hash.digest('hex')
}

/**
 * Problems with the store invariant, or [] when it holds: each object appears
 * in the feed exactly once, at the seq it records; the feed holds nothing
 * else; the head and the counters agree with the rows; the blob reference
 * index lists exactly the objects whose versions reference each blob.
 */
export async function auditStore (store: Store): Promise<string[]> {
  const problems: string[] = []
  const objects = await allStored(store)
  const feed = await allFeed(store)
  const info = store.info()
  const feedUids = new Map<string, number>()
  for (const entry of feed) {
    if (feedUids.has(entry.object.uid)) problems.push(`uid ${entry.object.uid} is in the feed twice (seq ${feedUids.get(entry.object.uid)} and ${entry.seq})`)
    feedUids.set(entry.object.uid, entry.seq)
    if (entry.object.seq !== entry.seq) problems.push(`feed row ${entry.seq} points at ${entry.object.uid}, whose current seq is ${entry.object.seq}`)
    if (entry.seq > info.head) problems.push(`feed row ${entry.seq} is past the head ${info.head}`)
  }
  for (const o of objects) if (!feedUids.has(o.uid)) problems.push(`object ${o.uid} is missing from the feed`)
  if (feed.length !== objects.length) problems.push(`${feed.length} feed rows for ${objects.length} objects`)
  if (info.objects !== objects.length) problems.push(`info.objects ${info.objects} but ${objects.length} objects stored`)
  const withConflicts = objects.filter((o) => o.conflicts.length > 0).length
  if (info.conflicts !== withConflicts) problems.push(`info.conflicts ${info.conflicts} but ${withConflicts} objects hold siblings`)
  const failed = await store.listFailed({ limit: 100_000 })
  if (info.failed !== failed.length) problems.push(`info.failed ${info.failed} but ${failed.length} parked entries`)
  problems.push(...await auditBlobIndex(store, objects))
  return problems
}

/** The blob reference index against the objects: each referenced blob lists exactly its referrers. */
async function auditBlobIndex (store: Store, objects: readonly StoredObject[]): Promise<string[]> {
  const expected = new Map<string, string[]>()
  for (const o of objects) for (const hash of recordBlobHashes(o)) expected.set(hash, [...(expected.get(hash) ?? []), o.uid])
  const problems: string[] = []
  for (const [hash, uids] of expected) {
    const indexed = await store.blobReferrers(hash, { limit: 100_000 })
    if (JSON.stringify(indexed) !== JSON.stringify([...uids].sort())) problems.push(`blob ${hash}: index lists ${JSON.stringify(indexed)}, objects ${JSON.stringify(uids)}`)
  }
  return problems
}

/** Open a node's store while its agent is not running, run `fn`, close it. */
export async function withOfflineStore<T> (nodeDir: string, domain: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = createLevelStore({ location: join(nodeDir, 'data', 'store'), domain })
  await store.open()
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}
