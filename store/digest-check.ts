/**
 * The digest rebuilt from the records and compared with the stored one
 * (`labmesh verify --self`, and each side's check during a verify): what a
 * write that bypassed the store — a bug, a disk, a hand — left behind.
 *
 * All reads come from one LevelDB snapshot, taken with a copy of the
 * committed group aggregates, so commits landing meanwhile change nothing.
 * Pass 1 hashes every record into fresh aggregates per group and 12-bit
 * bucket; pass 2 sums the stored leaves (type-index rows) the same way.
 * Buckets that disagree (normally none) are then read uid by uid: their
 * stored rows and the records whose uid falls in them (pass 3 parses only
 * those). A group aggregate that is not the sum of its leaves is a group
 * problem.
 */
import { DIGEST_LEAF_BITS, aggregateHash, bucketAt, combine, emptyAggregate, sameAggregate, uidBucket, xorLeaf, type DigestAggregate, type DigestGroup, type DigestLeaf } from '../protocol/digest.js'
import { DigestKeys, groupOfTypeRow, leafHashOf, parseGroupKey, parseTypeRow, recordDigest, type RecordDigest } from './digest-rows.js'
import type { DigestMirror } from './digest-mirror.js'
import type { Sub } from './sublevels.js'
import type { DigestCheckOptions, DigestCheckReport, DigestProblem } from './digest-types.js'
import type { StoredObject } from './types.js'

export type { DigestCheckOptions, DigestCheckReport, DigestProblem } from './digest-types.js'

export interface DigestCheckInput extends DigestCheckOptions {
  readonly objects: Sub
  readonly types: Sub
  /** a LevelDB snapshot; every read below comes from it */
  readonly snapshot: unknown
  /** the committed aggregates at the snapshot */
  readonly mirror: DigestMirror
  /** objects in the store (for progress) */
  readonly expected: number
}

const PAGE = 1000
const SEP = '\x00'

export async function checkDigest (input: DigestCheckInput): Promise<DigestCheckReport> {
  const keys = new DigestKeys()
  const total = Math.max(1, input.expected) * 2
  let done = 0
  const step = (n: number): void => { done += n; input.onProgress?.(Math.min(done, total), total) }

  // pass 1: the records, per group and bucket
  const rebuilt = new Map<string, DigestAggregate>()
  let objects = 0
  await scan(input.objects, input.snapshot, input.signal, (rows) => {
    for (const [uid, text] of rows) {
      const d = recordDigest(JSON.parse(text) as StoredObject, text, keys)
      xorLeaf(aggregateOf(rebuilt, bucketOf(d.group, uid)), d.hash, 1)
    }
    objects += rows.length
    step(rows.length)
  })
  // pass 2: the stored leaves, likewise
  const fromLeaves = new Map<string, DigestAggregate>()
  await scan(input.types, input.snapshot, input.signal, (rows) => {
    for (const [key, value] of rows) {
      const group = groupOfTypeRow(key, value, keys)
      if (group !== undefined) xorLeaf(aggregateOf(fromLeaves, bucketOf(group, key.slice(key.indexOf(SEP) + 1))), leafHashOf(value), 1)
    }
    step(rows.length)
  })

  const bad = differingKeys(rebuilt, fromLeaves)
  const problems = bad.size > 0 ? await uidProblems(input, bad, keys) : []
  const groupProblems = groupMismatches(fromLeaves, input.mirror)
  input.onProgress?.(total, total)
  return {
    objects,
    rebuilt: overall(rebuilt.values()),
    stored: overall([...input.mirror.entries()].map(([, agg]) => agg)),
    equal: problems.length === 0 && groupProblems.length === 0,
    problems: problems.slice(0, input.maxProblems ?? 1000),
    problemCount: problems.length,
    groupProblems
  }
}

/** The uids of the buckets that disagree, compared row by row. */
async function uidProblems (input: DigestCheckInput, bad: ReadonlySet<string>, keys: DigestKeys): Promise<DigestProblem[]> {
  const buckets = new Set([...bad].map((k) => Number(k.slice(k.lastIndexOf(SEP) + 1))))
  const inBadBucket = (uid: string): boolean => buckets.has(bucketAt(uidBucket(uid), DIGEST_LEAF_BITS))
  const stored = new Map<string, { key: string, value: string }>()
  await scan(input.types, input.snapshot, input.signal, (rows) => {
    for (const [key, value] of rows) {
      const uid = key.slice(key.indexOf(SEP) + 1)
      if (inBadBucket(uid)) stored.set(uid, { key, value })
    }
  })
  const actual = new Map<string, RecordDigest>()
  await scan(input.objects, input.snapshot, input.signal, (rows) => {
    for (const [uid, text] of rows) if (inBadBucket(uid)) actual.set(uid, recordDigest(JSON.parse(text) as StoredObject, text, keys))
  })
  const out: DigestProblem[] = []
  for (const uid of [...new Set([...stored.keys(), ...actual.keys()])].sort()) {
    const s = stored.get(uid)
    const a = actual.get(uid)
    if (s !== undefined && a !== undefined && s.key === a.typeRowKey && s.value === a.value) continue
    const storedLeaf = s !== undefined ? parseTypeRow(s.key, s.value) : undefined
    const actualLeaf = a !== undefined ? parseTypeRow(a.typeRowKey, a.value) : undefined
    out.push({
      uid,
      ...(storedLeaf !== undefined ? { stored: { group: storedLeaf.group, leaf: storedLeaf.leaf, key: s!.key } } : {}),
      ...(actualLeaf !== undefined ? { actual: { group: actualLeaf.group, leaf: actualLeaf.leaf } } : {})
    })
  }
  return out
}

/** Group aggregates (the copy at the snapshot) that are not the sum of their leaves. */
function groupMismatches (fromLeaves: ReadonlyMap<string, DigestAggregate>, mirror: DigestMirror): DigestCheckReport['groupProblems'] {
  const sums = new Map<string, DigestAggregate>()
  for (const [key, agg] of fromLeaves) combine(aggregateOf(sums, key.slice(0, key.lastIndexOf(SEP))), agg)
  const stored = new Map(mirror.entries())
  return [...differingKeys(sums, stored)].sort().map((group) => ({ group: parseGroupKey(group), stored: describe(stored.get(group)), fromLeaves: describe(sums.get(group)) }))
}

function bucketOf (group: string, uid: string): string {
  return `${group}${SEP}${bucketAt(uidBucket(uid), DIGEST_LEAF_BITS)}`
}

/** Read a whole sublevel from the snapshot, page by page, as text. */
async function scan (sub: Sub, snapshot: unknown, signal: AbortSignal | undefined, onPage: (rows: Array<[string, string]>) => void): Promise<void> {
  const iterator = sub.iterator({ snapshot, valueEncoding: 'utf8' })
  try {
    while (true) {
      signal?.throwIfAborted()
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
  for (const key of new Set([...a.keys(), ...b.keys()])) if (!sameAggregate(a.get(key), b.get(key))) out.add(key)
  return out
}

function overall (aggregates: Iterable<DigestAggregate>): { count: number, hash: string } {
  const total = emptyAggregate()
  for (const agg of aggregates) combine(total, agg)
  return { count: total.count, hash: aggregateHash(total) }
}

function describe (agg: DigestAggregate | undefined): string {
  return agg === undefined ? 'none' : `${agg.count} ${aggregateHash(agg)}`
}
