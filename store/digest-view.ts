/**
 * The store's digest as its readers see it (Store.digest): group totals from
 * the committed aggregates; a view of one moment (a LevelDB snapshot taken
 * between two commits with a copy of the aggregates) whose groups' leaves a
 * verify scans; and the check that rebuilds the digest from the records.
 */
import { aggregateHash, ruleTypeOf, uidBucket, type DigestAggregate, type DigestGroup } from '../protocol/digest.js'
import { checkDigest } from './digest-check.js'
import type { DigestMirror } from './digest-mirror.js'
import { DigestKeys, parseGroupKey, parseTypeRow } from './digest-rows.js'
import type { Sublevels } from './sublevels.js'
import type { DigestCount, DigestLeafRow, StoreDigest } from './types.js'

export interface DigestViewHost {
  readonly subs: () => Sublevels
  /** an explicit LevelDB snapshot (closed by whoever takes it) */
  readonly snapshot: () => { close: () => Promise<void> }
  readonly mirror: DigestMirror
  /** objects in the store (progress of a check) */
  readonly objects: () => number
  readonly assertOpen: () => void
  readonly readBetweenWrites: <T>(fn: () => Promise<T>) => Promise<T>
}

const PAGE = 1000

export function createDigestView (host: DigestViewHost): StoreDigest {
  /** a snapshot and the aggregates' copy, taken between two commits: they agree */
  const moment = async (): Promise<{ snapshot: { close: () => Promise<void> }, mirror: DigestMirror }> => {
    host.assertOpen()
    return await host.readBetweenWrites(async () => ({ snapshot: host.snapshot(), mirror: host.mirror.copy() }))
  }

  return {
    groups () {
      host.assertOpen()
      return describe(host.mirror.entries())
    },

    async view () {
      const { snapshot, mirror } = await moment()
      const keys = new DigestKeys()
      return {
        groups: describe(mirror.entries()),
        async scan (group, onPage) {
          await scanGroup(host.subs(), snapshot, group, keys, onPage)
        },
        async close () {
          await snapshot.close()
        }
      }
    },

    async check (options = {}) {
      const { snapshot, mirror } = await moment()
      try {
        const subs = host.subs()
        return await checkDigest({ objects: subs.objects, types: subs.types, snapshot, mirror, expected: host.objects(), ...options })
      } finally {
        await snapshot.close()
      }
    }
  }
}

/** The leaves of one group: its type's index rows, those of its origin (and registry class). */
async function scanGroup (subs: Sublevels, snapshot: unknown, group: DigestGroup, keys: DigestKeys, onPage: (rows: readonly DigestLeafRow[]) => void | Promise<void>): Promise<void> {
  const type = ruleTypeOf(group.type)
  // the origin as its rows spell it, checked before a row is parsed
  const origin = keys.origin(group.origin)
  const iterator = subs.types.iterator({ gte: `${type}\x00`, lt: `${type}\x01`, snapshot, valueEncoding: 'utf8' })
  try {
    while (true) {
      const rows = await iterator.nextv(PAGE) as Array<[string, string]>
      if (rows.length === 0) return
      const page: DigestLeafRow[] = []
      for (const [key, value] of rows) {
        if (value.length < 34 || !value.startsWith(origin, 33) || value.charCodeAt(33 + origin.length) !== 0) continue
        const parsed = parseTypeRow(key, value)
        if (parsed === undefined || parsed.group.type !== group.type) continue
        page.push({ bucket16: uidBucket(parsed.uid), leaf: parsed.leaf })
      }
      await onPage(page)
    }
  } finally {
    await iterator.close()
  }
}

function describe (entries: Iterable<[string, DigestAggregate]>): Array<DigestGroup & DigestCount> {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, agg]) => ({ ...parseGroupKey(key), count: agg.count, hash: aggregateHash(agg) }))
}
