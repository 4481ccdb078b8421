/**
 * The failed queue grouped by reason code: how many objects wait for each
 * reason, the messages behind it (the instance's own words for a refusal),
 * the peers and types concerned, and when they failed. `FailedGroups` is a
 * pure accumulator (fed entry by entry, so the whole queue is never held in
 * memory); `summarizeFailed` and `listFailedByCode` read the store page by
 * page.
 */
import type { FailedEntry, Store } from '../../store/types.js'

/** the messages listed per group, most common first */
const MESSAGES_SHOWN = 5
/** distinct messages counted per group; past it, more are counted as one "other" */
const MESSAGES_COUNTED = 1000
/** uids listed per group (the first ones in uid order) */
const UIDS_SHOWN = 20
/** entries read per page: the whole queue is read a page at a time */
const PAGE = 500

export interface FailedGroup {
  readonly code: string
  readonly count: number
  /** the most common messages, with how many objects have each */
  readonly messages: ReadonlyArray<{ readonly reason: string, readonly count: number }>
  /** how many different messages the group has (counted up to MESSAGES_COUNTED) */
  readonly distinctMessages: number
  /** objects per peer their version came from */
  readonly peers: Readonly<Record<string, number>>
  /** objects per portal type */
  readonly types: Readonly<Record<string, number>>
  /** the first uids of the group, in uid order */
  readonly uids: readonly string[]
  readonly firstFailedAt: number
  readonly lastFailedAt: number
  /** the soonest automatic retry */
  readonly nextRetryAt: number
  /** the most attempts any object of the group has had */
  readonly maxAttempts: number
}

export interface FailedSummary {
  readonly total: number
  /** largest group first; equal counts by code */
  readonly groups: readonly FailedGroup[]
}

interface Accumulator {
  count: number
  messages: Map<string, number>
  other: number
  peers: Record<string, number>
  types: Record<string, number>
  uids: string[]
  firstFailedAt: number
  lastFailedAt: number
  nextRetryAt: number
  maxAttempts: number
}

/** Groups failed entries by code, one entry at a time. */
export class FailedGroups {
  readonly #groups = new Map<string, Accumulator>()
  #total = 0

  add (entry: FailedEntry): void {
    this.#total++
    let g = this.#groups.get(entry.code)
    if (g === undefined) {
      g = { count: 0, messages: new Map(), other: 0, peers: {}, types: {}, uids: [], firstFailedAt: entry.firstFailedAt, lastFailedAt: entry.lastFailedAt, nextRetryAt: entry.nextRetryAt, maxAttempts: 0 }
      this.#groups.set(entry.code, g)
    }
    g.count++
    const seen = g.messages.get(entry.reason)
    if (seen !== undefined) g.messages.set(entry.reason, seen + 1)
    else if (g.messages.size < MESSAGES_COUNTED) g.messages.set(entry.reason, 1)
    else g.other++
    g.peers[entry.peer] = (g.peers[entry.peer] ?? 0) + 1
    g.types[entry.version.type] = (g.types[entry.version.type] ?? 0) + 1
    if (g.uids.length < UIDS_SHOWN) g.uids.push(entry.uid)
    g.firstFailedAt = Math.min(g.firstFailedAt, entry.firstFailedAt)
    g.lastFailedAt = Math.max(g.lastFailedAt, entry.lastFailedAt)
    g.nextRetryAt = Math.min(g.nextRetryAt, entry.nextRetryAt)
    g.maxAttempts = Math.max(g.maxAttempts, entry.attempts)
  }

  summary (): FailedSummary {
    const groups = [...this.#groups.entries()].map(([code, g]): FailedGroup => {
      const messages = [...g.messages.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, MESSAGES_SHOWN).map(([reason, count]) => ({ reason, count }))
      return {
        code,
        count: g.count,
        messages,
        distinctMessages: g.messages.size + (g.other > 0 ? 1 : 0),
        peers: g.peers,
        types: g.types,
        uids: g.uids,
        firstFailedAt: g.firstFailedAt,
        lastFailedAt: g.lastFailedAt,
        nextRetryAt: g.nextRetryAt,
        maxAttempts: g.maxAttempts
      }
    })
    groups.sort((a, b) => b.count - a.count || a.code.localeCompare(b.code))
    return { total: this.#total, groups }
  }
}

/** Every entry of the failed queue, page by page, in uid order. */
export async function * failedEntries (store: Store, after?: string): AsyncGenerator<FailedEntry> {
  let cursor = after
  while (true) {
    const page = await store.listFailed({ limit: PAGE, ...(cursor !== undefined ? { after: cursor } : {}) })
    yield * page
    if (page.length < PAGE) return
    cursor = page[page.length - 1]!.uid
  }
}

/** The whole queue grouped by code. */
export async function summarizeFailed (store: Store): Promise<FailedSummary> {
  const groups = new FailedGroups()
  for await (const entry of failedEntries(store)) groups.add(entry)
  return groups.summary()
}

/** A page of the entries with this code: `limit` of them after the uid `after`, in uid order. */
export async function listFailedByCode (store: Store, code: string, options: { limit: number, after?: string }): Promise<FailedEntry[]> {
  const out: FailedEntry[] = []
  for await (const entry of failedEntries(store, options.after)) {
    if (entry.code !== code) continue
    out.push(entry)
    if (out.length === options.limit) break
  }
  return out
}
