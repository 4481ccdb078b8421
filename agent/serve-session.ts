/**
 * The serving side of a session: a peer that pulls from us opened a stream.
 *
 * We answer its hello, stream feed batches for each `pull` (never more than
 * the window it asked for, each frame bounded in bytes, waiting on the
 * transport's back-pressure), answer `get` by uid, and push `notify` when our
 * feed grows. Serve rules decide per object what this peer may receive; an
 * excluded object is never sent, by pull or by get.
 */
import type { Stream } from '@libp2p/interface'
import { BATCH_TARGET_BYTES, HELLO_TIMEOUT_MS, MAX_GET_UIDS, PROTOCOL_VERSION } from '../protocol/constants.js'
import { decodeClientMessage, type ClientMessage, type GetMessage, type PullMessage } from '../protocol/messages.js'
import type { Store, StoredObject } from '../store/types.js'
import { AgentError, describeError, MessageTooLargeError, ProtocolError, TimeoutError, UnsupportedProtocolVersionError } from './errors.js'
import { FramedStream } from './framed-stream.js'
import type { Logger } from './logger.js'
import { storedJsonToWire, toWire } from './wire.js'

export interface ServeSessionDeps {
  readonly store: Store
  readonly domain: string
  /** the peer's name in our config */
  readonly peerName: string
  readonly peerId: string
  readonly batchSize: number
  /** serve rules (they decide by type): may this peer receive this object? */
  readonly mayServe: (object: Pick<StoredObject, 'type'>) => boolean
  /** hash of those rules, announced in hello */
  readonly servesHash: string
  readonly log: Logger
  /** called on every message from the peer (last-contact tracking) */
  readonly onActivity?: () => void
  readonly onServed?: (objects: number) => void
  /** the peer asked for our feed after `since` (how far behind it is) */
  readonly onPull?: (since: number) => void
}

export type SessionEnd = { reason: 'closed' } | { reason: 'aborted' } | { reason: 'error', error: AgentError | Error }

/** Serve one inbound session until the peer closes it, it fails, or `signal` aborts. */
export async function serveSession (stream: Stream, deps: ServeSessionDeps, signal: AbortSignal): Promise<SessionEnd> {
  const framed = new FramedStream<ClientMessage>(stream, decodeClientMessage)
  const log = deps.log
  let helloDone = false
  // Versions we pulled from this very peer need not go back to it, as long as
  // its feed is the one we pulled them from (same epoch): a peer whose store
  // was rebuilt gets everything again.
  let skipOwnVersions = false
  let notifiedHead = 0
  let notifyScheduled = false
  // remaining-count cache: continuing a pull where the last answer ended
  // avoids recounting the feed for every window of an initial sync
  let countCache: { since: number, remaining: number, head: number } | undefined

  const onAbort = (): void => { stream.abort(new ProtocolError('agent stopping')) }
  signal.addEventListener('abort', onAbort, { once: true })

  const unsubscribe = deps.store.onCommit((event) => {
    if (!helloDone || event.head <= notifiedHead || notifyScheduled) return
    if (event.source === deps.peerName && event.conflictsAdded === 0) return // it already has what it just sent us
    notifyScheduled = true
    // coalesce a burst of commits into one notify
    setImmediate(() => {
      notifyScheduled = false
      const head = deps.store.info().head
      if (head <= notifiedHead || stream.status !== 'open') return
      notifiedHead = head
      framed.send({ type: 'notify', v: PROTOCOL_VERSION, head }).catch(() => {})
    })
  })

  const helloTimer = setTimeout(() => {
    if (!helloDone) void framed.fail('TIMEOUT', new TimeoutError(`no hello within ${HELLO_TIMEOUT_MS} ms`).message)
  }, HELLO_TIMEOUT_MS)

  try {
    for await (const message of framed) {
      deps.onActivity?.()
      if (!helloDone) {
        if (message.type !== 'hello') throw new ProtocolError(`expected hello, got ${message.type}`)
        if (message.v !== PROTOCOL_VERSION) throw new UnsupportedProtocolVersionError(message.v, PROTOCOL_VERSION)
        helloDone = true
        clearTimeout(helloTimer)
        skipOwnVersions = (await deps.store.getCheckpoint(deps.peerId))?.epoch === message.epoch
        const info = deps.store.info()
        notifiedHead = info.head
        await framed.send({ type: 'hello', v: PROTOCOL_VERSION, domain: deps.domain, head: info.head, count: info.objects, epoch: info.epoch, serves: deps.servesHash })
        log.debug({ remoteDomain: message.domain }, 'serve session: hello')
        continue
      }
      switch (message.type) {
        case 'pull': {
          deps.onPull?.(message.since)
          const cached = countCache !== undefined && countCache.since === message.since ? countCache : undefined
          countCache = await answerPull(framed, message, deps, cached, skipOwnVersions)
          break
        }
        case 'get':
          await answerGet(framed, message, deps)
          break
        case 'error':
          log.warn({ code: message.code, remoteMessage: message.message }, 'peer closed the session with an error')
          return { reason: 'error', error: new ProtocolError(`peer reported ${message.code}: ${message.message}`) }
        case 'hello':
          throw new ProtocolError('hello sent twice')
      }
    }
    return { reason: 'closed' }
  } catch (err) {
    if (signal.aborted) return { reason: 'aborted' }
    const code = err instanceof AgentError ? err.code : 'INTERNAL'
    if (err instanceof ProtocolError || err instanceof MessageTooLargeError || err instanceof UnsupportedProtocolVersionError) {
      log.warn({ err: describeError(err), code }, 'closing serve session: bad message from peer')
      await framed.fail(code, describeError(err))
    } else if (stream.status === 'open') {
      log.warn({ err: describeError(err) }, 'serve session failed')
      await framed.fail(code, describeError(err))
    }
    return { reason: 'error', error: err as Error }
  } finally {
    clearTimeout(helloTimer)
    unsubscribe()
    signal.removeEventListener('abort', onAbort)
    if (stream.status === 'open') await framed.close()
  }
}

/**
 * Stream up to `limit` feed entries after `since` as batch frames. Returns the
 * remaining-count state for the next window.
 */
async function answerPull (
  framed: FramedStream<ClientMessage>,
  pull: PullMessage,
  deps: ServeSessionDeps,
  cached: { since: number, remaining: number, head: number } | undefined,
  skipOwnVersions: boolean
): Promise<{ since: number, remaining: number, head: number }> {
  const head = deps.store.info().head
  let remaining = cached !== undefined
    ? cached.remaining + (head > cached.head ? await deps.store.countFeed(cached.head, head) : 0)
    : await deps.store.countFeed(pull.since, head)
  let since = pull.since
  let rowsSent = 0
  let served = 0
  while (true) {
    const want = Math.min(deps.batchSize, pull.limit - rowsSent)
    const page = await deps.store.readFeed(since, want)
    rowsSent += page.entries.length
    remaining = Math.max(0, remaining - page.entries.length)
    const windowDone = !page.more || rowsSent >= pull.limit
    const parts: string[] = []
    let bytes = 0
    for (let i = 0; i < page.entries.length; i++) {
      const entry = page.entries[i]!
      const json = wireJsonFor(entry.json, deps, skipOwnVersions)
      if (json === undefined) continue
      if (bytes + json.length > BATCH_TARGET_BYTES && parts.length > 0) {
        // frame full: ship what we have, up to the entry before this one
        await framed.sendJson(batchJson(pull.id, parts, page.entries[i - 1]!.seq, false, true, remaining + page.entries.length - i))
        served += parts.length
        parts.length = 0
        bytes = 0
      }
      parts.push(json)
      bytes += json.length
    }
    await framed.sendJson(batchJson(pull.id, parts, page.lastSeq, windowDone, page.more, page.more ? Math.max(remaining, 1) : 0))
    served += parts.length
    since = page.lastSeq
    if (windowDone) break
  }
  if (served > 0) deps.onServed?.(served)
  return { since, remaining, head: Math.max(head, deps.store.info().head) }
}

/**
 * The wire JSON of one stored record for this peer, or undefined when the
 * peer must not get it (serve rules) or holds it already (its own version).
 * Plain records are cut from their stored text (storedJsonToWire); others are
 * parsed and serialised.
 */
function wireJsonFor (stored: string, deps: ServeSessionDeps, skipOwnVersions: boolean): string | undefined {
  const plain = storedJsonToWire(stored)
  if (plain !== undefined) {
    if (skipOwnVersions && plain.via === deps.peerName) return undefined // it holds this version already
    return deps.mayServe(plain) ? plain.json : undefined
  }
  const object = JSON.parse(stored) as StoredObject
  if (skipOwnVersions && object.via === deps.peerName && object.conflicts.length === 0) return undefined
  return deps.mayServe(object) ? JSON.stringify(toWire(object)) : undefined
}

function batchJson (id: number, parts: string[], lastSeq: number, last: boolean, more: boolean, remaining: number): string {
  return `{"type":"batch","v":${PROTOCOL_VERSION},"id":${id},"changes":[${parts.join(',')}],"lastSeq":${lastSeq},"last":${last},"more":${more},"remaining":${remaining}}`
}

async function answerGet (framed: FramedStream<ClientMessage>, get: GetMessage, deps: ServeSessionDeps): Promise<void> {
  const uids = get.uids.slice(0, MAX_GET_UIDS)
  const objects = await deps.store.getObjects(uids)
  const missing: string[] = []
  let parts: string[] = []
  let bytes = 0
  let served = 0
  for (let i = 0; i < uids.length; i++) {
    const object = objects[i]
    if (object === undefined || !deps.mayServe(object)) {
      missing.push(uids[i]!)
      continue
    }
    const json = JSON.stringify(toWire(object))
    if (bytes + json.length > BATCH_TARGET_BYTES && parts.length > 0) {
      await framed.sendJson(objectsJson(get.id, parts, [], false))
      served += parts.length
      parts = []
      bytes = 0
    }
    parts.push(json)
    bytes += json.length
  }
  await framed.sendJson(objectsJson(get.id, parts, missing, true))
  served += parts.length
  if (served > 0) deps.onServed?.(served)
}

function objectsJson (id: number, parts: string[], missing: string[], last: boolean): string {
  return `{"type":"objects","v":${PROTOCOL_VERSION},"id":${id},"objects":[${parts.join(',')}],"missing":${JSON.stringify(missing)},"last":${last}}`
}
