/**
 * The serving side of a verify session (`/labmesh/verify/1.0.0`): a peer
 * compares its digest with ours. We answer `open` with a summary of the
 * groups our serve rules let it see (a view of one moment of our digest,
 * kept for the session), `ranges` with the nodes of those ranges (children,
 * or leaves once small), `get` with objects as a sync session would (the
 * peer repairs with them), and with `check`, rebuild our digest from our
 * records in the background and report what disagrees — only in the types
 * it may see. Nothing here writes to the store.
 *
 * A malformed or unexpected message closes the stream with an error frame
 * and a logged reason; the agent carries on.
 */
import type { Stream } from '@libp2p/interface'
import { HELLO_TIMEOUT_MS } from '../../protocol/constants.js'
import { decodeVerifyClientMessage } from '../../protocol/decode.js'
import { levelBelow } from '../../protocol/digest.js'
import { AgentError, describeError, MessageTooLargeError, ProtocolError, UnsupportedProtocolVersionError } from '../../protocol/errors.js'
import { CHECK_PROGRESS_MS, LEAF_LIST_MAX, MAX_CHECK_PROBLEMS, MAX_SUMMARY_GROUPS, VERIFY_PROTOCOL_VERSION } from '../../protocol/verify-constants.js'
import type { OpenMessage, RangesMessage, VerifyClientMessage, VerifyServerMessage, WireProblem, WireRange } from '../../protocol/verify-messages.js'
import type { DigestProblem, Store } from '../../store/types.js'
import { TimeoutError } from '../errors.js'
import type { Logger } from '../runtime/logger.js'
import { FramedStream } from '../sync/framed-stream.js'
import { answerGet, type ServeAnswerDeps } from '../sync/serve-answers.js'
import type { SessionEnd } from '../sync/serve-session.js'
import { DigestSide, rangeKey } from './digest-side.js'
import { NodesFrames } from './nodes-frames.js'

export interface VerifyServeDeps {
  readonly store: Store
  readonly domain: string
  /** the peer's name in our config */
  readonly peerName: string
  /** its serve rules: may it see objects of this digest type */
  readonly servesType: (digestType: string) => boolean
  /** the same, for `get` (a version, by its type) */
  readonly mayServe: ServeAnswerDeps['mayServe']
  readonly log: Logger
  readonly onActivity?: () => void
  readonly onServed?: (objects: number) => void
}

/** Serve one verify session until the peer closes it, it fails, or `signal` aborts. */
export async function serveVerify (stream: Stream, deps: VerifyServeDeps, signal: AbortSignal): Promise<SessionEnd> {
  const framed = new FramedStream<VerifyClientMessage, VerifyServerMessage>(stream, decodeVerifyClientMessage, { version: VERIFY_PROTOCOL_VERSION })
  const checkAbort = new AbortController()
  const onAbort = (): void => { stream.abort(new ProtocolError('agent stopping')) }
  signal.addEventListener('abort', onAbort, { once: true })
  const opened = setTimeout(() => { if (side === undefined) void framed.fail('TIMEOUT', new TimeoutError(`no open within ${HELLO_TIMEOUT_MS} ms`).message) }, HELLO_TIMEOUT_MS)
  let side: DigestSide | undefined
  let checking: Promise<void> | undefined
  try {
    for await (const message of framed) {
      deps.onActivity?.()
      if (side === undefined) {
        if (message.type !== 'open') throw new ProtocolError(`expected open, got ${message.type}`)
        clearTimeout(opened)
        side = new DigestSide(await deps.store.digest.view())
        await sendSummary(framed, side, message, deps)
        if (message.check) checking = check(framed, deps, checkAbort.signal)
        continue
      }
      switch (message.type) {
        case 'ranges':
          await answerRanges(framed, side, message, deps)
          break
        case 'get':
          await answerGet(framed, message, { store: deps.store, peerName: deps.peerName, batchSize: 0, mayServe: deps.mayServe, log: deps.log, ...(deps.onServed !== undefined ? { onServed: deps.onServed } : {}) })
          break
        case 'error':
          deps.log.warn({ code: message.code, remoteMessage: message.message }, 'peer closed the verify session with an error')
          return { reason: 'error', error: new ProtocolError(`peer reported ${message.code}: ${message.message}`) }
        case 'open':
          throw new ProtocolError('open sent twice')
      }
    }
    return { reason: 'closed' }
  } catch (err) {
    if (signal.aborted) return { reason: 'aborted' }
    const code = err instanceof AgentError ? err.code : 'INTERNAL'
    const bad = err instanceof ProtocolError || err instanceof MessageTooLargeError || err instanceof UnsupportedProtocolVersionError
    deps.log.warn({ err: describeError(err), code }, bad ? 'closing verify session: bad message from peer' : 'verify session failed')
    await framed.fail(code, describeError(err))
    return { reason: 'error', error: err as Error }
  } finally {
    clearTimeout(opened)
    signal.removeEventListener('abort', onAbort)
    checkAbort.abort()
    await checking?.catch(() => {})
    await side?.view.close()
    if (stream.status === 'open') await framed.close()
  }
}

async function sendSummary (framed: FramedStream<VerifyClientMessage, VerifyServerMessage>, side: DigestSide, open: OpenMessage, deps: VerifyServeDeps): Promise<void> {
  const groups = [...side.groups.values()].filter((g) => deps.servesType(g.type)).map((g) => ({ type: g.type, origin: g.origin, count: g.count, hash: g.hash }))
  const refused = [...new Set(open.types)].filter((t) => !deps.servesType(t))
  for (let i = 0; i === 0 || i < groups.length; i += MAX_SUMMARY_GROUPS) {
    const last = i + MAX_SUMMARY_GROUPS >= groups.length
    await framed.send({ type: 'summary', v: VERIFY_PROTOCOL_VERSION, domain: deps.domain, groups: groups.slice(i, i + MAX_SUMMARY_GROUPS), refused: i === 0 ? refused : [], last })
  }
}

/**
 * Each range as children one level down, or — when asked for leaves, when
 * it is small, or at the last level — as its leaves. A range of a type the
 * peer may not see is answered as empty.
 */
async function answerRanges (framed: FramedStream<VerifyClientMessage, VerifyServerMessage>, side: DigestSide, request: RangesMessage, deps: VerifyServeDeps): Promise<void> {
  const frames = new NodesFrames(request.id, async (json) => await framed.sendJson(json))
  const listed: WireRange[] = []
  for (const range of request.ranges) {
    if (!deps.servesType(range.type)) {
      await frames.leaves(range, { count: 0, hash: '0'.repeat(32) }, [])
      continue
    }
    const count = await side.count(range)
    const below = levelBelow(range.bits)
    if (range.leaves === true && count.count > LEAF_LIST_MAX) {
      // a range the peer lacks: streamed, page by page, whatever its size
      await side.streamLeaves(range, async (page) => { await frames.leaves(range, count, page) })
    } else if (range.leaves === true || below === undefined || count.count <= LEAF_LIST_MAX) {
      listed.push(range)
    } else {
      const children = [...(await side.children(range, below))].map(([prefix, c]) => ({ prefix, count: c.count, hash: c.hash }))
      await frames.node({ type: range.type, origin: range.origin, bits: range.bits, prefix: range.prefix, count: count.count, hash: count.hash, childBits: below, children })
    }
  }
  if (listed.length > 0) {
    const leaves = await side.leaves(listed)
    for (const range of listed) {
      const list = leaves.get(rangeKey(range)) ?? []
      await frames.leaves(range, await side.count(range), list)
    }
  }
  await frames.end()
}

/** Rebuild our digest from our records (progress as it goes) and report the uids the peer may see that disagree. */
async function check (framed: FramedStream<VerifyClientMessage, VerifyServerMessage>, deps: VerifyServeDeps, signal: AbortSignal): Promise<void> {
  let last = 0
  const report = await deps.store.digest.check({
    signal,
    maxProblems: 100_000,
    onProgress: (done, total) => {
      const now = Date.now()
      if (now - last < CHECK_PROGRESS_MS) return
      last = now
      framed.send({ type: 'progress', v: VERIFY_PROTOCOL_VERSION, done, total }).catch(() => {})
    }
  })
  const visible = report.problems.filter((p) => (p.stored !== undefined && deps.servesType(p.stored.group.type)) || (p.actual !== undefined && deps.servesType(p.actual.group.type)))
  if (visible.length > 0) deps.log.warn({ problems: visible.length }, `verify check: ${visible.length} record(s) here disagree with this agent's digest (written behind the store's back)`)
  await framed.send({
    type: 'checked',
    v: VERIFY_PROTOCOL_VERSION,
    objects: report.objects,
    problems: visible.slice(0, MAX_CHECK_PROBLEMS).map(toWireProblem),
    problemCount: visible.length,
    groupProblems: report.groupProblems.filter((g) => deps.servesType(g.group.type)).length
  })
}

export function toWireProblem (p: DigestProblem): WireProblem {
  return {
    uid: p.uid,
    ...(p.stored !== undefined ? { stored: { ...p.stored.group, leaf: p.stored.leaf } } : {}),
    ...(p.actual !== undefined ? { actual: { ...p.actual.group, leaf: p.actual.leaf } } : {})
  }
}
