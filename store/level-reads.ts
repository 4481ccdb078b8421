/**
 * The LevelDB store's reads (level-store.ts), as functions of its sublevels:
 * object pages by uid or type, the feed as stored text, conflict and failed
 * listings, aux spaces, blob referrers, history texts and past-version
 * slots. They read committed rows only — a transaction's own and its
 * unsettled bases' writes are level-write-tx.ts's — and write nothing; the
 * store checks it is open before calling them.
 */
import { blobRefRange, parseSeqKey, pastRange, seqKey, typeKey, auxKey } from './keys.js'
import type { FeedPage, ListPage, StoredObject } from './types.js'
import type { Sublevels } from './sublevels.js'
import { scanType } from './type-index.js'
import type { PastVersion } from './past-versions.js'

type GetObjects = (uids: readonly string[]) => Promise<Array<StoredObject | undefined>>

/** `typeIndexComplete` false: type pages scan the objects (the index is still being built) */
export async function listObjectsPage (subs: Sublevels, typeIndexComplete: boolean, getObjects: GetObjects, options: { type?: string, after?: string, limit: number }): Promise<ListPage> {
  const limit = Math.max(1, options.limit)
  let items: StoredObject[]
  if (options.type !== undefined && !typeIndexComplete) {
    items = await scanType(subs, options.type, options.after, limit + 1)
  } else if (options.type !== undefined) {
    const range = options.after !== undefined
      ? { gt: typeKey(options.type, options.after) }
      : { gte: typeKey(options.type, '') }
    const keys: string[] = await subs.types.keys({ ...range, lt: `${options.type}\x01`, limit: limit + 1 }).all()
    const uids = keys.map((k) => k.slice(options.type!.length + 1))
    items = (await getObjects(uids)).filter((o): o is StoredObject => o !== undefined)
  } else {
    const range = options.after !== undefined ? { gt: options.after } : {}
    items = await subs.objects.values({ ...range, limit: limit + 1 }).all()
  }
  const more = items.length > limit
  if (more) items = items.slice(0, limit)
  return { items, next: more ? (items[items.length - 1]?.uid ?? null) : null }
}

export async function readFeedPage (subs: Sublevels, since: number, limit: number): Promise<FeedPage> {
  const rows: Array<[string, string]> = await subs.feed.iterator({ gt: seqKey(since), limit: limit + 1 }).all()
  const more = rows.length > limit
  const page = more ? rows.slice(0, limit) : rows
  // the records' text as stored: a serve session need not parse them
  const texts: Array<string | undefined> = page.length > 0 ? await subs.objects.getMany(page.map(([, uid]) => uid), { valueEncoding: 'utf8' }) : []
  const entries = []
  for (let i = 0; i < page.length; i++) {
    const json = texts[i]
    // A row whose object moved on between the two reads is skipped here: the
    // object reappears at its newer position further along the feed.
    if (json !== undefined) entries.push({ seq: parseSeqKey((page[i] as [string, string])[0]), json })
  }
  const lastRow = page[page.length - 1]
  return { entries, lastSeq: lastRow !== undefined ? parseSeqKey(lastRow[0]) : since, more }
}

export async function countFeedRows (subs: Sublevels, after: number, upTo?: number): Promise<number> {
  const range = upTo !== undefined ? { gt: seqKey(after), lte: seqKey(upTo) } : { gt: seqKey(after) }
  let n = 0
  for await (const _ of subs.feed.keys(range)) n++ // eslint-disable-line @typescript-eslint/no-unused-vars
  return n
}

export async function listConflictRecords (subs: Sublevels, getObjects: GetObjects, options: { limit?: number, after?: string }): Promise<StoredObject[]> {
  const range = options.after !== undefined ? { gt: options.after } : {}
  const uids: string[] = await subs.conflicts.keys({ ...range, limit: options.limit ?? 1000 }).all()
  return (await getObjects(uids)).filter((o): o is StoredObject => o !== undefined && o.conflicts.length > 0)
}

export async function * iterateAuxRows<T> (subs: Sublevels, space: string): AsyncIterable<[string, T]> {
  const prefix = auxKey(space, '')
  for await (const [key, value] of subs.aux.iterator({ gte: prefix, lt: `${space}\x01` })) {
    yield [(key as string).slice(prefix.length), value as T]
  }
}

export async function blobReferrerUids (subs: Sublevels, hash: string, options: { limit?: number, after?: string }): Promise<string[]> {
  const range = blobRefRange(hash)
  const keys: string[] = await subs.blobRefs.keys({ ...range, ...(options.after !== undefined ? { gt: `${hash}\x00${options.after}` } : {}), limit: options.limit ?? 1000 }).all()
  return keys.map((k) => k.slice(hash.length + 1))
}

/** an object's past-version rows by key */
export async function pastSlots (subs: Sublevels, uid: string): Promise<Map<string, PastVersion>> {
  const rows: Array<[string, PastVersion]> = await subs.past.iterator(pastRange(uid)).all()
  return new Map(rows)
}
