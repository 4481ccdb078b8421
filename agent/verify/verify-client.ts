/**
 * The verifying side of a verify session (`/labmesh/verify/1.0.0`): we open
 * a stream to the peer, name the types we would import from it, and walk
 * both digests top down — group, then its 64 buckets, then their 4096, then
 * leaves — asking only for the ranges whose count or hash differ, all the
 * ranges of one level in one `ranges` request. So an agent in sync takes one
 * exchange (open → summary) whatever it holds, and the exchanges grow with
 * the tree's depth and the messages with the differences.
 *
 * Our side is read from a view of one moment of our digest (DigestSide), so
 * writes during the walk do not tear it; the peer's likewise. With `check`,
 * both sides also rebuild their digest from their records (our check runs
 * here, the peer's there, in parallel with the walk), so that a record
 * changed behind a store's back is compared as what that store really holds.
 *
 * The session stays open after the walk for a repair's `get`s; `close()`
 * ends it. A malformed message, an error frame or silence past
 * VERIFY_IDLE_TIMEOUT_MS fails the verify with a named error.
 */
import type { Stream } from '@libp2p/interface'
import { aggregateFrom, aggregateHash, combine, emptyAggregate, type DigestGroup } from '../../protocol/digest.js'
import { decodeVerifyServerMessage } from '../../protocol/decode.js'
import { PROTOCOL_VERSION } from '../../protocol/constants.js'
import { ProtocolError } from '../../protocol/errors.js'
import type { WireObject } from '../../protocol/object.js'
import { MAX_GET_UIDS } from '../../protocol/constants.js'
import { MAX_VERIFY_RANGES, VERIFY_IDLE_TIMEOUT_MS, VERIFY_PROTOCOL_VERSION } from '../../protocol/verify-constants.js'
import type {
  CheckedMessage, VerifyClientMessage, VerifyServerMessage, WireCount, WireLeaf, WireNode, WireRange, WireRangeRequest
} from '../../protocol/verify-messages.js'
import { groupKey } from '../../store/digest-rows.js'
import type { DigestCheckReport, DigestProblem, Store } from '../../store/types.js'
import { TimeoutError } from '../errors.js'
import { FramedStream } from '../sync/framed-stream.js'
import { diffLeaves, differences, type Difference, type LeafPair } from './compare.js'
import { DigestSide, rangeKey } from './digest-side.js'
import { toWireProblem } from './verify-serve.js'

export interface VerifyClientDeps {
  readonly store: Store
  readonly domain: string
  /** our import rules for this peer: we compare the groups we would import, wholly */
  readonly importsGroup: (group: DigestGroup) => boolean
  /** rows read by the checks so far, of about `total` (both sides) */
  readonly onCheckProgress?: (done: number, total: number) => void
}

/** What a walk found, before it is put into a report. */
export interface WalkOutcome {
  /** every difference, in uid order */
  readonly differences: readonly Difference[]
  readonly digest: { readonly here: WireCount, readonly there: WireCount }
  readonly groups: number
  readonly refused: readonly string[]
  readonly roundTrips: number
  /** our check (with `check`) */
  readonly hereCheck?: DigestCheckReport
  /** our check's problems in the compared groups: what a repair heals here first */
  readonly hereProblems: readonly DigestProblem[]
  readonly thereCheck?: CheckedMessage
}

interface Summary { readonly groups: Map<string, DigestGroup & WireCount>, readonly refused: Set<string> }

export class VerifyClient {
  readonly framed: FramedStream<VerifyServerMessage, VerifyClientMessage>
  readonly #deps: VerifyClientDeps
  readonly #messages: AsyncIterator<VerifyServerMessage>
  #nextId = 1
  #closed = false
  #roundTrips = 0
  #checked: CheckedMessage | undefined
  #thereProgress = { done: 0, total: 0 }
  #hereProgress = { done: 0, total: 0 }

  constructor (stream: Stream, deps: VerifyClientDeps) {
    this.framed = new FramedStream<VerifyServerMessage, VerifyClientMessage>(stream, decodeVerifyServerMessage, { version: VERIFY_PROTOCOL_VERSION })
    this.#deps = deps
    this.#messages = this.framed[Symbol.asyncIterator]()
  }

  /** Compare our digest with the peer's (and, with `check`, both with their records). */
  async compare (check: boolean): Promise<WalkOutcome> {
    const side = new DigestSide(await this.#deps.store.digest.view())
    try {
      const types = [...new Set([...side.groups.values()].filter((g) => this.#deps.importsGroup(g)).map((g) => g.type))]
      await this.framed.send({ type: 'open', v: VERIFY_PROTOCOL_VERSION, domain: this.#deps.domain, types, check })
      const hereCheck = check ? this.#checkHere() : undefined
      const summary = await this.#summary()
      this.#roundTrips++
      const ours = new Map([...side.groups].filter(([, g]) => this.#deps.importsGroup(g) && !summary.refused.has(g.type)))
      const pairs = new Map<string, LeafPair>()
      await this.#walk(side, ours, summary.groups, pairs)
      const here = hereCheck !== undefined ? await hereCheck : undefined
      const thereCheck = check ? await this.#waitChecked() : undefined
      const inScope = (g: DigestGroup): boolean => ours.has(groupKey(g.type, g.origin)) || summary.groups.has(groupKey(g.type, g.origin)) || (this.#deps.importsGroup(g) && !summary.refused.has(g.type))
      const hereProblems = (here?.problems ?? []).filter((p) => [p.stored?.group, p.actual?.group].some((g) => g !== undefined && inScope(g)))
      return {
        differences: differences([...pairs.values()], hereProblems.map(toWireProblem), thereCheck?.problems ?? []),
        digest: { here: total(ours.values()), there: total(summary.groups.values()) },
        groups: new Set([...ours.keys(), ...summary.groups.keys()]).size,
        refused: [...summary.refused].sort(),
        roundTrips: this.#roundTrips,
        ...(here !== undefined ? { hereCheck: here } : {}),
        hereProblems,
        ...(thereCheck !== undefined ? { thereCheck } : {})
      }
    } finally {
      await side.view.close()
    }
  }

  /** The peer's current objects of these uids (as a sync `get` would give them), for a repair. */
  async get (uids: readonly string[]): Promise<{ objects: WireObject[], missing: string[] }> {
    const objects: WireObject[] = []
    const missing: string[] = []
    for (let i = 0; i < uids.length; i += MAX_GET_UIDS) {
      const id = this.#nextId++
      await this.framed.send({ type: 'get', v: PROTOCOL_VERSION, id, uids: uids.slice(i, i + MAX_GET_UIDS) })
      this.#roundTrips++
      for (;;) {
        const m = await this.#next()
        if (m.type !== 'objects' || m.id !== id) throw new ProtocolError(`expected objects ${id}, got ${m.type}`)
        objects.push(...m.objects)
        missing.push(...m.missing)
        if (m.last) break
      }
    }
    return { objects, missing }
  }

  /** End the session (again: nothing). */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.framed.close()
  }

  get roundTrips (): number {
    return this.#roundTrips
  }

  async #checkHere (): Promise<DigestCheckReport> {
    return await this.#deps.store.digest.check({
      maxProblems: 100_000,
      onProgress: (done, total) => {
        this.#hereProgress = { done, total }
        this.#reportCheck()
      }
    })
  }

  #reportCheck (): void {
    this.#deps.onCheckProgress?.(this.#hereProgress.done + this.#thereProgress.done, this.#hereProgress.total + this.#thereProgress.total)
  }

  async #summary (): Promise<Summary> {
    const groups = new Map<string, DigestGroup & WireCount>()
    const refused = new Set<string>()
    for (;;) {
      const m = await this.#next()
      if (m.type !== 'summary') throw new ProtocolError(`expected summary, got ${m.type}`)
      for (const g of m.groups) if (this.#deps.importsGroup(g)) groups.set(groupKey(g.type, g.origin), g)
      for (const t of m.refused) refused.add(t)
      if (m.last) return { groups, refused }
    }
  }

  /** Level by level: every differing range of a level in one request. */
  async #walk (side: DigestSide, ours: ReadonlyMap<string, DigestGroup & WireCount>, theirs: ReadonlyMap<string, DigestGroup & WireCount>, pairs: Map<string, LeafPair>): Promise<void> {
    let pending: WireRangeRequest[] = []
    const onlyHere: WireRange[] = []
    for (const key of new Set([...ours.keys(), ...theirs.keys()])) {
      const a = ours.get(key)
      const b = theirs.get(key)
      if (a !== undefined && b !== undefined && a.count === b.count && a.hash === b.hash) continue
      const g = (a ?? b)!
      const range = { type: g.type, origin: g.origin, bits: 0, prefix: 0 }
      if (b === undefined) onlyHere.push(range)
      else pending.push(a === undefined ? { ...range, leaves: true } : range)
    }
    await this.#compareLeaves(side, onlyHere, new Map(), pairs)
    while (pending.length > 0) {
      const next: WireRangeRequest[] = []
      for (let i = 0; i < pending.length; i += MAX_VERIFY_RANGES) next.push(...await this.#exchange(side, pending.slice(i, i + MAX_VERIFY_RANGES), pairs))
      pending = next
    }
  }

  /** One `ranges` request and its answer: the ranges to ask for next (a level down). */
  async #exchange (side: DigestSide, ranges: readonly WireRangeRequest[], pairs: Map<string, LeafPair>): Promise<WireRangeRequest[]> {
    const id = this.#nextId++
    await this.framed.send({ type: 'ranges', v: VERIFY_PROTOCOL_VERSION, id, ranges })
    this.#roundTrips++
    const nodes = new Map<string, WireNode>()
    const leaves = new Map<string, WireLeaf[]>()
    for (;;) {
      const m = await this.#next()
      if (m.type !== 'nodes' || m.id !== id) throw new ProtocolError(`expected nodes ${id}, got ${m.type}`)
      for (const node of m.nodes) {
        const key = rangeKey(node)
        if (node.children !== undefined) nodes.set(key, node)
        else leaves.set(key, [...(leaves.get(key) ?? []), ...(node.leaves ?? [])])
      }
      if (m.last) break
    }
    const next: WireRangeRequest[] = []
    const leafRanges: WireRange[] = []
    for (const r of ranges) {
      const range = { type: r.type, origin: r.origin, bits: r.bits, prefix: r.prefix }
      const node = nodes.get(rangeKey(range))
      if (node?.children === undefined || node.childBits === undefined) {
        leafRanges.push(range)
        continue
      }
      const mine = await side.children(range, node.childBits)
      const theirs = new Map(node.children.map((c) => [c.prefix, c]))
      for (const prefix of new Set([...mine.keys(), ...theirs.keys()])) {
        const a = mine.get(prefix)
        const b = theirs.get(prefix)
        if (a !== undefined && b !== undefined && a.count === b.count && a.hash === b.hash) continue
        const child = { ...range, bits: node.childBits, prefix }
        if (b === undefined) leafRanges.push(child)
        else next.push(a === undefined ? { ...child, leaves: true } : child)
      }
    }
    await this.#compareLeaves(side, leafRanges, leaves, pairs)
    return next
  }

  /** Our leaves of these ranges against the peer's (none given: it holds none there). */
  async #compareLeaves (side: DigestSide, ranges: readonly WireRange[], theirs: ReadonlyMap<string, WireLeaf[]>, pairs: Map<string, LeafPair>): Promise<void> {
    if (ranges.length === 0) return
    const mine = await side.leaves(ranges)
    for (const r of ranges) {
      const key = rangeKey(r)
      for (const pair of diffLeaves({ type: r.type, origin: r.origin }, mine.get(key) ?? [], theirs.get(key) ?? [])) {
        // a uid whose type differs between the sides shows in two groups: one pair, both sides
        const known = pairs.get(pair.uid)
        pairs.set(pair.uid, known === undefined ? pair : { ...known, ...(pair.here !== undefined ? { here: pair.here } : {}), ...(pair.there !== undefined ? { there: pair.there } : {}) })
      }
    }
  }

  async #waitChecked (): Promise<CheckedMessage> {
    while (this.#checked === undefined) {
      const m = await this.#next(true)
      if (m.type !== 'checked') throw new ProtocolError(`expected checked, got ${m.type}`)
    }
    return this.#checked
  }

  /** The next message that answers something; check progress and results are taken as they come. */
  async #next (checked = false): Promise<VerifyServerMessage> {
    for (;;) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`the peer sent nothing for ${VERIFY_IDLE_TIMEOUT_MS / 1000} s`)), VERIFY_IDLE_TIMEOUT_MS)
      })
      let step: IteratorResult<VerifyServerMessage>
      try {
        step = await Promise.race([this.#messages.next(), timeout])
      } finally {
        clearTimeout(timer)
      }
      if (step.done === true) throw new ProtocolError('the peer closed the verify session')
      const m = step.value
      if (m.type === 'error') throw new ProtocolError(`peer reported ${m.code}: ${m.message}`)
      if (m.type === 'progress') {
        this.#thereProgress = { done: m.done, total: m.total }
        this.#reportCheck()
      } else if (m.type === 'checked') {
        this.#checked = m
        if (checked) return m
      } else {
        return m
      }
    }
  }
}

function total (groups: Iterable<WireCount>): WireCount {
  const agg = emptyAggregate()
  for (const g of groups) combine(agg, aggregateFrom(g.count, g.hash))
  return { count: agg.count, hash: aggregateHash(agg) }
}
