/**
 * The store's digest as its readers see it (Store.digest): group totals and
 * stored buckets from the committed aggregates, leaf rows by bucket range,
 * and the check that rebuilds it from the records. Every read sees
 * committed writes only; a check reads one snapshot throughout.
 */
import { aggregateHash, type DigestGroup } from '../protocol/digest.js'
import { checkDigest } from './digest-check.js'
import { describeTotals, type DigestMirror } from './digest-mirror.js'
import { groupKey, leafKey, leafRange, parseLeafKey, parseLeafValue } from './digest-rows.js'
import type { Sublevels } from './sublevels.js'
import type { DigestLeafRow, StoreDigest } from './types.js'

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

/** leaf rows per page when no limit is given */
const DEFAULT_LEAF_PAGE = 1000

export function createDigestView (host: DigestViewHost): StoreDigest {
  return {
    groups () {
      host.assertOpen()
      return describeTotals(host.mirror.groupTotals())
    },

    buckets (group: DigestGroup) {
      host.assertOpen()
      return host.mirror.buckets(groupKey(group.type, group.origin)).map(({ bucket, agg }) => ({ bucket, count: agg.count, hash: aggregateHash(agg) }))
    },

    async leaves (group, bits, prefix, page = {}) {
      host.assertOpen()
      const g = groupKey(group.type, group.origin)
      const range = leafRange(g, bits, prefix)
      const after = page.after !== undefined ? leafKey(g, page.after.bucket16, page.after.uid) : undefined
      const limit = page.limit ?? DEFAULT_LEAF_PAGE
      const rows: Array<[string, string]> = await host.subs().digest.iterator({ ...(after !== undefined ? { gt: after } : { gte: range.gte }), lt: range.lt, limit: limit + 1 }).all()
      const out: DigestLeafRow[] = rows.slice(0, limit).map(([key, value]) => {
        const { bucket16, uid } = parseLeafKey(key)
        return { bucket16, leaf: parseLeafValue(uid, value) }
      })
      return { rows: out, more: rows.length > limit }
    },

    async check (options = {}) {
      host.assertOpen()
      // the snapshot and the aggregates' copy are taken between two commits: they agree
      const { snapshot, mirror } = await host.readBetweenWrites(async () => ({ snapshot: host.snapshot(), mirror: host.mirror.copy() }))
      try {
        const subs = host.subs()
        return await checkDigest({ objects: subs.objects, digest: subs.digest, snapshot, mirror, expected: host.objects(), ...options })
      } finally {
        await snapshot.close()
      }
    }
  }
}
