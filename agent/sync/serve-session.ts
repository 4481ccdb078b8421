/**
 * The serving side of a session: a peer that pulls from us opened a stream.
 *
 * We answer its hello, stream feed batches for each `pull` (never more than
 * the window it asked for, each frame bounded in bytes, waiting on the
 * transport's back-pressure), answer `get` by uid, and push `notify` when our
 * feed grows. Serve rules decide per object what this peer may receive; an
 * excluded object is never sent, by pull or by get. What goes into the
 * frames of one answer, and their bounds, is serve-answers.ts.
 *
 * The peer's position in our feed is a FeedTally's cursor; the tally counts
 * what lies after it, exactly, as commits land (onPosition reports both).
 */
import type { Stream } from '@libp2p/interface'
import { HELLO_TIMEOUT_MS, PROTOCOL_VERSION, PROTOCOL_VERSION_2 } from '../../protocol/constants.js'
import { chooseCodec, type CodecName } from '../../protocol/frame-compression.js'
import { clientDecoderFor } from '../../protocol/session-decoders.js'
import { versionOfProtocol } from '../../protocol/versions.js'
import { type ClientMessage, type HelloMessage } from '../../protocol/messages.js'
import type { CommitEvent } from '../../store/types.js'
import { AgentError, describeError, MessageTooLargeError, ProtocolError, UnsupportedProtocolVersionError } from '../../protocol/errors.js'
import { TimeoutError } from '../errors.js'
import { FeedTally } from './feed-tally.js'
import { FramedStream } from './framed-stream.js'
import type { FeedReader } from './shared-feed-reads.js'
import { answerGet, answerPull, type ServeAnswerDeps } from './serve-answers.js'

export type { SkippedObject } from './serve-answers.js'

export interface ServeSessionDeps extends ServeAnswerDeps {
  readonly domain: string
  readonly peerId: string
  /** hash of the serve rules, announced in hello */
  readonly servesHash: string
  /** called on every message from the peer (last-contact tracking) */
  readonly onActivity?: () => void
  /**
   * How far along our feed the peer is, and how many of our feed entries
   * (objects) lie after that position — exact, as of the last commit. Called
   * when a pull arrives, after each frame, and after every commit.
   */
  readonly onPosition?: (seq: number, pending: number) => void
  /** the peer's hello (its domain, over the connection Noise authenticated) */
  readonly onHello?: (hello: HelloMessage) => void
  /** version 2: the frame codecs we accept from a puller's offer (compression-policy.ts); none: frames go uncompressed */
  readonly codecs?: readonly CodecName[]
  /** how feed pages are read: shared by all serve sessions of an agent (shared-feed-reads.ts); the store's own by default */
  readonly readFeed?: FeedReader
}

export type SessionEnd = { reason: 'closed' } | { reason: 'aborted' } | { reason: 'error', error: AgentError | Error }

/** Serve one inbound session until the peer closes it, it fails, or `signal` aborts. */
export async function serveSession (stream: Stream, deps: ServeSessionDeps, signal: AbortSignal): Promise<SessionEnd> {
  return await new ServeSession(stream, deps).run(signal)
}

class ServeSession {
  readonly #stream: Stream
  readonly #deps: ServeSessionDeps
  readonly #framed: FramedStream<ClientMessage>
  // A pull that continues where the last answer ended (every window of an
  // initial sync) needs no recount: the tally's cursor is already there.
  readonly #tally: FeedTally
  #helloDone = false
  #helloTimer: NodeJS.Timeout | undefined
  // Versions we pulled from this very peer need not go back to it, as long as
  // it still has the feed we pulled them from: each version remembers the
  // epoch it came from, so a peer whose store was rebuilt gets them again.
  #peerEpoch: string | undefined
  #knownHead: number
  #notifiedHead = 0
  #notifyScheduled = false

  constructor (stream: Stream, deps: ServeSessionDeps) {
    this.#stream = stream
    this.#deps = deps
    // the version negotiated when the stream was opened (a stream without one: version 1)
    const version = versionOfProtocol(stream.protocol) ?? PROTOCOL_VERSION
    this.#framed = new FramedStream<ClientMessage>(stream, clientDecoderFor(version), { version, text: true })
    this.#tally = new FeedTally(deps.store, deps.readFeed)
    this.#knownHead = deps.store.info().head
  }

  async run (signal: AbortSignal): Promise<SessionEnd> {
    const onAbort = (): void => { this.#stream.abort(new ProtocolError('agent stopping')) }
    signal.addEventListener('abort', onAbort, { once: true })
    // the tally subscribes first, so it has counted a commit by the time this listener runs
    this.#tally.start()
    const unsubscribe = this.#deps.store.onCommit((event) => this.#onCommit(event))
    this.#helloTimer = setTimeout(() => {
      if (!this.#helloDone) void this.#framed.fail('TIMEOUT', new TimeoutError(`no hello within ${HELLO_TIMEOUT_MS} ms`).message)
    }, HELLO_TIMEOUT_MS)
    try {
      return await this.#serve()
    } catch (err) {
      return await this.#failed(err, signal)
    } finally {
      clearTimeout(this.#helloTimer)
      unsubscribe()
      this.#tally.stop()
      signal.removeEventListener('abort', onAbort)
      if (this.#stream.status === 'open') await this.#framed.close()
    }
  }

  /** Answer the peer's messages until it closes the stream (or reports an error). */
  async #serve (): Promise<SessionEnd> {
    for await (const message of this.#framed) {
      this.#deps.onActivity?.()
      if (!this.#helloDone) {
        if (message.type !== 'hello') throw new ProtocolError(`expected hello, got ${message.type}`)
        await this.#hello(message)
        continue
      }
      switch (message.type) {
        case 'pull':
          if (this.#tally.cursor !== message.since) await this.#tally.reset(message.since)
          this.#report()
          await answerPull(this.#framed, message, this.#deps, this.#tally, this.#peerEpoch, this.#report)
          break
        case 'get':
          await answerGet(this.#framed, message, this.#deps)
          break
        case 'error':
          this.#deps.log.warn({ code: message.code, remoteMessage: message.message }, 'peer closed the session with an error')
          return { reason: 'error', error: new ProtocolError(`peer reported ${message.code}: ${message.message}`) }
        case 'hello':
          throw new ProtocolError('hello sent twice')
      }
    }
    return { reason: 'closed' }
  }

  async #hello (hello: HelloMessage): Promise<void> {
    if (hello.v !== this.#framed.version) throw new UnsupportedProtocolVersionError(hello.v, this.#framed.version)
    this.#helloDone = true
    clearTimeout(this.#helloTimer)
    this.#peerEpoch = hello.epoch
    const info = this.#deps.store.info()
    this.#notifiedHead = info.head
    this.#knownHead = info.head
    // the puller's preference wins among the codecs we accept; our hello itself goes uncompressed
    const codec = this.#framed.version === PROTOCOL_VERSION_2 ? chooseCodec(hello.codecs, this.#deps.codecs ?? []) : undefined
    await this.#framed.send({ type: 'hello', v: this.#framed.version, domain: this.#deps.domain, head: info.head, count: info.objects, epoch: info.epoch, serves: this.#deps.servesHash, ...(codec !== undefined ? { codec } : {}) })
    if (codec !== undefined) this.#framed.useCodec(codec)
    this.#deps.log.debug({ remoteDomain: hello.domain, protocol: this.#framed.version, codec: codec ?? 'none' }, 'serve session: hello')
    this.#deps.onHello?.(hello)
  }

  /** A bad message closes the session with an error frame; any other failure too, while the stream is open. */
  async #failed (err: unknown, signal: AbortSignal): Promise<SessionEnd> {
    if (signal.aborted) return { reason: 'aborted' }
    const log = this.#deps.log
    const code = err instanceof AgentError ? err.code : 'INTERNAL'
    if (err instanceof ProtocolError || err instanceof MessageTooLargeError || err instanceof UnsupportedProtocolVersionError) {
      log.warn({ err: describeError(err), code }, 'closing serve session: bad message from peer')
      await this.#framed.fail(code, describeError(err))
    } else if (this.#stream.status === 'open') {
      log.warn({ err: describeError(err) }, 'serve session failed')
      await this.#framed.fail(code, describeError(err))
    }
    return { reason: 'error', error: err as Error }
  }

  readonly #report = (): void => {
    const cursor = this.#tally.cursor
    if (cursor !== undefined) this.#deps.onPosition?.(cursor, this.#tally.remaining)
  }

  #onCommit (event: CommitEvent): void {
    const previousHead = this.#knownHead
    this.#knownHead = event.head
    if (event.changed === 0) return
    if (event.source === this.#deps.peerName && event.conflictsAdded === 0) {
      // it already has what it just sent us; if it was caught up, it still is
      if (this.#tally.cursor !== undefined && this.#tally.cursor >= previousHead) this.#tally.jumpToHead(event.head)
      this.#report()
      return
    }
    this.#report()
    if (!this.#helloDone || event.head <= this.#notifiedHead || this.#notifyScheduled) return
    this.#notifyScheduled = true
    // coalesce a burst of commits into one notify
    setImmediate(() => {
      this.#notifyScheduled = false
      const head = this.#deps.store.info().head
      if (head <= this.#notifiedHead || this.#stream.status !== 'open') return
      this.#notifiedHead = head
      this.#framed.send({ type: 'notify', v: this.#framed.version, head }).catch(() => {})
    })
  }
}
