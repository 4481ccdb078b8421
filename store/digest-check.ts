/**
 * The digest rebuilt from the objects and compared with the stored one
 * (`labmesh verify --self`, and each side's check during a verify): what a
 * write that bypassed the store — a bug, a disk, a hand — left behind.
 *
 * All reads come from one LevelDB snapshot, taken together with a copy of
 * the committed aggregates, so commits landing meanwhile change nothing.
 * Pass 1 hashes every record into fresh per-bucket aggregates; pass 2 sums
 * the stored leaf rows the same way. Buckets that disagree (normally none)
 * are then read uid by uid: their stored leaf rows, and the records whose
 * uid falls in them (pass 3 parses only those). An aggregate row that
 * disagrees with its own leaf rows is reported as a bucket problem.
 */
import { combine, emptyAggregate, sameAggregate, xorLeaf, aggregateHash, DIGEST_STORED_BITS, bucketAt, uidBucket, type DigestAggregate, type DigestGroup, type DigestLeaf } from '../protocol/digest.js'
import { GroupKeys, LEAF_PREFIX, bucketKeyOfLeaf, leafHashOf, leafRange, parseBucketKey, parseGroupKey, parseLeafKey, parseLeafValue, recordDigest, type RecordDigest } from './digest-rows.js'
import type { DigestMirror } from './digest-mirror.js'
import type { Sub } from './sublevels.js'
import type { StoredObject } from './types.js'

/** One uid whose stored digest and record disagree. */
export interface DigestProblem {
  readonly uid: string
  /** what the digest says it holds (undefined: no leaf row) */
  readonly stored?: { readonly group: DigestGroup, readonly leaf: DigestLeaf, readonly key: string }
  /** what its record holds (undefined: no record) */
  readonly actual?: { readonly group: DigestGroup, readonly leaf: DigestLeaf }
}

export interface DigestCheckReport {
  /** records read */
  readonly objects: number
  /** the digest rebuilt from the records, over every group */
  readonly rebuilt: { readonly count: number, readonly hash: string }
  /** the stored digest (its aggregate rows), over every group */
  readonly stored: { readonly count: number, readonly hash: string }
  /** the stored digest is exactly the rebuilt one: rows, leaves and aggregates */
  readonly equal: boolean
  /** uids whose digest and record disagree (at most `maxProblems`) */
  readonly problems: readonly DigestProblem[]
  /** how many there are in all */
  readonly problemCount: number
  /** aggregate rows that are not the sum of their leaf rows */
  readonly bucketProblems: ReadonlyArray<{ readonly group: DigestGroup, readonly bucket: number, readonly stored: string, readonly fromLeaves: string }>
}

export interface DigestCheckInput {
  readonly objects: Sub
  readonly digest: Sub
  /** a LevelDB snapshot; every read below comes from it */
  readonly snapshot: unknown
  /** the committed aggregates at the snapshot */
  readonly mirror: DigestMirror
  /** objects in the store (for progress) */
  readonly expected: number
  readonly onProgress?: (done: number, total: number) => void
  readonly maxProblems?: number
}

const PAGE = 1000

export async function checkDigest (input: DigestCheckInput): Promise<DigestCheckReport> {
  const groups = new GroupKeys()
  const total = Math.max(1, input.expected) * 2
  let done = 0
  const step = (n: number): void => { done += n; input.onProgress?.(Math.min(done, total), total) }

  // pass 1: the records
  const rebuilt = new Map<string, DigestAggregate>()
  let objects = 0
  await scan(input.objects, { snapshot: input.snapshot, valueEncoding: 'utf8' }, (rows) => {
    for (const [, text] of rows) {
      const d = recordDigest(JSON.parse(text) as StoredObject, text, groups)
      xorLeaf(aggregateOf(rebuilt, d.bucketKey), d.hash, 1)
    }
    objects += rows.length
    step(rows.length)
  })
  // pass 2: the stored leaf rows
  const fromLeaves = new Map<string, DigestAggregate>()
  await scan(input.digest, { snapshot: input.snapshot, valueEncoding: 'utf8', gte: LEAF_PREFIX, lt: nextPrefix(LEAF_PREFIX) }, (rows) => {
    for (const [key, value] of rows) xorLeaf(aggregateOf(fromLeaves, bucketKeyOfLeaf(key)), leafHashOf(value), 1)
    step(rows.length)
  })

  const bad = differingKeys(rebuilt, fromLeaves)
  const bucketProblems = [...differingKeys(fromLeaves, new Map(input.mirror.entries()))].map((key) => {
    const { group, bucket6 } = parseBucketKey(key)
    return { group: parseGroupKey(group), bucket: bucket6, stored: describe(input.mirror.get(key)), fromLeaves: describe(fromLeaves.get(key)) }
  })
  const problems = bad.size > 0 ? await uidProblems(input, bad, groups) : []
  const max = input.maxProblems ?? 1000
  input.onProgress?.(total, total)
  return {
    objects,
    rebuilt: overall(rebuilt),
    stored: overall(new Map(input.mirror.entries())),
    equal: problems.length === 0 && bucketProblems.length === 0,
    problems: problems.slice(0, max),
    problemCount: problems.length,
    bucketProblems
  }
}

/** The uids of the buckets that disagree, compared row by row. */
async function uidProblems (input: DigestCheckInput, bad: ReadonlySet<string>, groups: GroupKeys): Promise<DigestProblem[]> {
  const stored = new Map<string, { key: string, value: string }>()
  for (const key of bad) {
    const { group, bucket6 } = parseBucketKey(key)
    await scan(input.digest, { snapshot: input.snapshot, valueEncoding: 'utf8', ...leafRange(group, DIGEST_STORED_BITS, bucket6) }, (rows) => {
      for (const [k, value] of rows) stored.set(parseLeafKey(k).uid, { key: k, value })
    })
  }
  // only records whose uid falls in a stored bucket that disagrees can be in one: parse those alone
  const buckets = new Set([...bad].map((key) => parseBucketKey(key).bucket6))
  const actual = new Map<string, { record: StoredObject, digest: RecordDigest }>()
  await scan(input.objects, { snapshot: input.snapshot, valueEncoding: 'utf8' }, (rows) => {
    for (const [uid, text] of rows) {
      if (!buckets.has(bucketAt(uidBucket(uid), DIGEST_STORED_BITS))) continue
      const record = JSON.parse(text) as StoredObject
      const digest = recordDigest(record, text, groups)
      if (bad.has(digest.bucketKey) || stored.has(uid)) actual.set(uid, { record, digest })
    }
  })
  const out: DigestProblem[] = []
  for (const uid of [...new Set([...stored.keys(), ...actual.keys()])].sort()) {
    const s = stored.get(uid)
    const a = actual.get(uid)
    if (s !== undefined && a !== undefined && s.key === a.digest.leafKey && s.value === a.digest.value) continue
    out.push({
      uid,
      ...(s !== undefined ? { stored: { group: parseGroupKey(parseLeafKey(s.key).group), leaf: parseLeafValue(uid, s.value), key: s.key } } : {}),
      ...(a !== undefined ? { actual: { group: parseGroupKey(parseLeafKey(a.digest.leafKey).group), leaf: parseLeafValue(uid, a.digest.value) } } : {})
    })
  }
  return out
}

/** Read a sublevel range page by page. */
async function scan (sub: Sub, options: Record<string, unknown>, onPage: (rows: Array<[string, string]>) => void): Promise<void> {
  const iterator = sub.iterator(options)
  try {
    while (true) {
      const rows = await iterator.nextv(PAGE) as Array<[string, string]>
      if (rows.length === 0) return
      onPage(rows)
    }
  } finally {
    await iterator.close()
  }
}

function aggregateOf (map: Map<string, DigestAggregate>, key: string): DigestAggregate {
  let agg = map.get(key)
  if (agg === undefined) map.set(key, agg = emptyAggregate())
  return agg
}

function differingKeys (a: ReadonlyMap<string, DigestAggregate>, b: ReadonlyMap<string, DigestAggregate>): Set<string> {
  const out = new Set<string>()
  for (const key of new Set([...a.keys(), ...b.keys()])) if (!sameAggregate(nonEmpty(a.get(key)), nonEmpty(b.get(key)))) out.add(key)
  return out
}

function nonEmpty (agg: DigestAggregate | undefined): DigestAggregate | undefined {
  return agg !== undefined && (agg.count !== 0 || agg.h0 !== 0 || agg.h1 !== 0 || agg.h2 !== 0 || agg.h3 !== 0) ? agg : undefined
}

function overall (map: ReadonlyMap<string, DigestAggregate>): { count: number, hash: string } {
  const total = emptyAggregate()
  for (const agg of map.values()) combine(total, agg)
  return { count: total.count, hash: aggregateHash(total) }
}

function describe (agg: DigestAggregate | undefined): string {
  return agg === undefined ? 'none' : `${agg.count} ${aggregateHash(agg)}`
}

function nextPrefix (prefix: string): string {
  return String.fromCharCode(prefix.charCodeAt(0) + 1)
}
