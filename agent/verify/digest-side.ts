/**
 * One side's digest tree during a verify session, over a view of one moment
 * (store DigestView): group totals are stored; the buckets under a group
 * (6 and 12 bits of the uid's hash) are counted by one scan of the group's
 * leaves, kept for the session; leaves are read by scanning their group
 * once per request, whatever number of its buckets are asked for. Small
 * groups keep their leaves from the first scan. Both ends use it: the server
 * to answer, the client to compare its own side the same way.
 */
import {
  DIGEST_LEVELS, aggregateHash, bucketAt, emptyAggregate, xorLeaf, type DigestAggregate, type DigestGroup
} from '../../protocol/digest.js'
import type { WireCount, WireGroup, WireLeaf, WireRange } from '../../protocol/verify-messages.js'
import { groupKey } from '../../store/digest-rows.js'
import type { DigestLeafRow, DigestView } from '../../store/types.js'

/** leaves kept from a group's first scan when it has at most this many (no second scan for small groups) */
const KEEP_LEAVES_MAX = 20_000

interface GroupTree {
  /** per level of DIGEST_LEVELS below the group: bucket → aggregate */
  readonly levels: ReadonlyMap<number, ReadonlyMap<number, DigestAggregate>>
  readonly leaves: readonly DigestLeafRow[] | undefined
}

export function rangeKey (range: WireRange): string {
  return `${groupKey(range.type, range.origin)}\x00${range.bits}\x00${range.prefix}`
}

export class DigestSide {
  readonly view: DigestView
  readonly #totals: Map<string, DigestGroup & WireCount>
  readonly #trees = new Map<string, Promise<GroupTree>>()
  /** leaves read by scans (a progress figure) */
  scanned = 0

  constructor (view: DigestView) {
    this.view = view
    this.#totals = new Map(view.groups.map((g) => [groupKey(g.type, g.origin), g]))
  }

  /** every group of this side, by group key */
  get groups (): ReadonlyMap<string, DigestGroup & WireCount> {
    return this.#totals
  }

  /** count and hash of a range (0 count: nothing there) */
  async count (range: WireRange): Promise<WireCount> {
    if (range.bits === 0) {
      const total = this.#totals.get(groupKey(range.type, range.origin))
      return total !== undefined ? { count: total.count, hash: total.hash } : EMPTY
    }
    const agg = (await this.#tree(range)).levels.get(range.bits)?.get(range.prefix)
    return agg !== undefined ? { count: agg.count, hash: aggregateHash(agg) } : EMPTY
  }

  /** the non-empty children of a range at `childBits` (a deeper level), by prefix */
  async children (range: WireRange, childBits: number): Promise<Map<number, WireCount>> {
    const level = (await this.#tree(range)).levels.get(childBits)
    const out = new Map<number, WireCount>()
    if (level === undefined) return out
    const shift = childBits - range.bits
    for (const [prefix, agg] of level) {
      if (prefix >>> shift === range.prefix) out.set(prefix, { count: agg.count, hash: aggregateHash(agg) })
    }
    return out
  }

  /** the leaves of several ranges, each group read once; by rangeKey */
  async leaves (ranges: readonly WireRange[]): Promise<Map<string, WireLeaf[]>> {
    const out = new Map<string, WireLeaf[]>(ranges.map((r) => [rangeKey(r), []]))
    const byGroup = new Map<string, WireRange[]>()
    for (const r of ranges) {
      const key = groupKey(r.type, r.origin)
      const list = byGroup.get(key)
      if (list === undefined) byGroup.set(key, [r])
      else list.push(r)
    }
    for (const list of byGroup.values()) {
      const wanted = list.map((r) => ({ r, list: out.get(rangeKey(r))! }))
      const visit = (rows: readonly DigestLeafRow[]): void => {
        for (const row of rows) {
          for (const w of wanted) if (bucketAt(row.bucket16, w.r.bits) === w.r.prefix) w.list.push(row.leaf)
        }
      }
      const tree = this.#trees.has(groupKey(list[0]!.type, list[0]!.origin)) ? await this.#tree(list[0]!) : undefined
      if (tree?.leaves !== undefined) visit(tree.leaves)
      else await this.#scan(list[0]!, visit)
    }
    return out
  }

  /** every leaf of a range, page by page (a range the other side lacks: it may be large) */
  async streamLeaves (range: WireRange, onPage: (leaves: WireLeaf[]) => Promise<void> | void): Promise<void> {
    await this.#scan(range, async (rows) => {
      const page = rows.filter((row) => bucketAt(row.bucket16, range.bits) === range.prefix).map((row) => row.leaf)
      if (page.length > 0) await onPage(page)
    })
  }

  #tree (range: WireGroup): Promise<GroupTree> {
    const key = groupKey(range.type, range.origin)
    let tree = this.#trees.get(key)
    if (tree === undefined) {
      tree = this.#build(range)
      this.#trees.set(key, tree)
    }
    return tree
  }

  async #build (group: WireGroup): Promise<GroupTree> {
    const levels = new Map<number, Map<number, DigestAggregate>>(DIGEST_LEVELS.filter((b) => b > 0).map((b) => [b, new Map()]))
    const total = this.#totals.get(groupKey(group.type, group.origin))?.count ?? 0
    const kept: DigestLeafRow[] | undefined = total <= KEEP_LEAVES_MAX ? [] : undefined
    await this.#scan(group, (rows) => {
      for (const row of rows) {
        for (const [bits, level] of levels) {
          const prefix = bucketAt(row.bucket16, bits)
          let agg = level.get(prefix)
          if (agg === undefined) level.set(prefix, agg = emptyAggregate())
          xorLeaf(agg, row.leaf.hash, 1)
        }
        kept?.push(row)
      }
    })
    return { levels, leaves: kept }
  }

  async #scan (group: WireGroup, visit: (rows: readonly DigestLeafRow[]) => void | Promise<void>): Promise<void> {
    await this.view.scan({ type: group.type, origin: group.origin }, async (rows) => {
      this.scanned += rows.length
      await visit(rows)
    })
  }
}

const EMPTY: WireCount = Object.freeze({ count: 0, hash: '0'.repeat(32) })
