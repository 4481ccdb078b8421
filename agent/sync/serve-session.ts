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
 *
 * Push (version 2, both hellos name it): once a pull that granted credit
 * (`push`) is answered up to our head, the peer is live and caught up, and
 * each commit (coalesced per event-loop turn) is sent to it as a pushed
 * answer — built by the same answerPull as a pull's, from where the last
 * answer ended, every frame naming the position it follows — instead of a
 * notify it would answer with a pull. Push stops while the credit is spent
 * (until an `ack`), when an answer ends short of the head (the peer pulls the
 * rest), and at the peer's next pull, which takes the credit back. Pull
 * answers and pushes never interleave (one chain of sends).
 */
import type { Stream } from '@libp2p/interface'
import { HELLO_TIMEOUT_MS, PROTOCOL_VERSION, PROTOCOL_VERSION_2, PUSH_CAPABILITY, PUSH_ID } from '../../protocol/constants.js'
import { chooseCodec, type CodecName } from '../../protocol/frame-compression.js'
import { clientDecoderFor } from '../../protocol/session-decoders.js'
import { versionOfProtocol } from '../../protocol/versions.js'
import { type ClientMessage, type HelloMessage, type PullMessage } from '../../protocol/messages.js'
import type { CommitEvent } from '../../store/types.js'
import { AgentError, describeError, MessageTooLargeError, ProtocolError, UnsupportedProtocolVersionError } from '../../protocol/errors.js'
import { TimeoutError } from '../errors.js'
import { FeedTally } from './feed-tally.js'
import { FramedStream } from './framed-stream.js'
import type { FeedReader } from './shared-feed-reads.js'
import { PushCredit } from './push-credit.js'
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
  /** offer push to version-2 pullers (default true; tests turn it off to stand for a version-2 agent without it) */
  readonly push?: boolean
  /** a push answer was sent (counters) */
  readonly onPushed?: () => void
}

/** A live, caught-up puller we push to: its credit, and where the last answer it was sent ended. */
interface Armed { readonly credit: PushCredit, sentTo: number }

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
  /** both hellos named push */
  #pushOn = false
  #armed: Armed | undefined
  #pushScheduled = false
  /** pull answers and pushes, one after the other */
  #sending: Promise<void> = Promise.resolve()

  constructor (stream: Stream, deps: ServeSessionDeps) {
    this.#stream = stream
    this.#deps = deps
    // the version negotiated when the stream was opened (a stream without one: version 1)
    const version = versionOfProtocol(stream.protocol) ?? PROTOCOL_VERSION
    this.#framed = new FramedStream<ClientMessage>(stream, clientDecoderFor(version), { version, bodies: true })
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
          await this.#serially(async () => await this.#answer(message))
          break
        case 'ack':
          if (!this.#pushOn) throw new ProtocolError('ack in a session without push')
          if (this.#armed !== undefined) {
            this.#armed.credit.ack(message.seq)
            if (this.#deps.store.info().head > this.#armed.sentTo) this.#schedulePush()
          }
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

  /** Answer a pull; with credit, and answered up to our head, the peer is armed for push. */
  async #answer (pull: PullMessage): Promise<void> {
    // a pull takes back the credit of the last: pushes sent before it are dropped by the peer, whose pull covers them
    this.#armed = undefined
    if (this.#tally.cursor !== pull.since) await this.#tally.reset(pull.since)
    this.#report()
    const end = await answerPull(this.#framed, pull, this.#deps, this.#tally, this.#peerEpoch, this.#report)
    if (!this.#pushOn || pull.push === undefined || end.more) return
    this.#armed = { credit: new PushCredit(pull.push), sentTo: end.lastSeq }
    // commits that landed while the last frame was on its way
    if (this.#deps.store.info().head > end.lastSeq) this.#schedulePush()
  }

  /** Push what our feed holds after the last answer, if the peer is armed and has credit. */
  async #push (): Promise<void> {
    const armed = this.#armed
    if (armed === undefined || !armed.credit.available || this.#stream.status !== 'open') return
    if (this.#deps.store.info().head <= armed.sentTo) return
    // the tally may have jumped ahead over the peer's own versions (onCommit): back to what it was sent
    if (this.#tally.cursor !== armed.sentTo) await this.#tally.reset(armed.sentTo)
    const since = armed.sentTo
    const end = await answerPull(this.#framed, { id: PUSH_ID, since, limit: this.#deps.batchSize }, this.#deps, this.#tally, this.#peerEpoch, this.#report, true)
    armed.credit.spend(end.lastSeq)
    armed.sentTo = end.lastSeq
    this.#deps.onPushed?.()
    // an answer that ends short of the head: the peer pulls the rest (and its pull may arm us again)
    if (end.more) this.#armed = undefined
    // (an answer that moved nowhere is never repeated at once: no loop of empty pushes)
    else if (end.lastSeq > since && this.#deps.store.info().head > end.lastSeq) this.#schedulePush()
  }

  #schedulePush (): void {
    if (this.#pushScheduled) return
    this.#pushScheduled = true
    // coalesce a burst of commits into one push
    setImmediate(() => {
      this.#pushScheduled = false
      this.#serially(async () => await this.#push()).catch((err: unknown) => {
        // a failed send ends the session (its read loop sees the stream fail); nothing is half-applied anywhere
        this.#deps.log.debug({ err: describeError(err) }, 'push failed')
        this.#stream.abort(err as Error)
      })
    })
  }

  async #serially (task: () => Promise<void>): Promise<void> {
    const run = this.#sending.then(task)
    this.#sending = run.catch(() => {})
    await run
  }

  async #hello (hello: HelloMessage): Promise<void> {
    if (hello.v !== this.#framed.version) throw new UnsupportedProtocolVersionError(hello.v, this.#framed.version)
    this.#helloDone = true
    const offer = this.#framed.version === PROTOCOL_VERSION_2 && this.#deps.push !== false
    this.#pushOn = offer && hello.caps?.includes(PUSH_CAPABILITY) === true
    clearTimeout(this.#helloTimer)
    this.#peerEpoch = hello.epoch
    const info = this.#deps.store.info()
    this.#notifiedHead = info.head
    this.#knownHead = info.head
    // the puller's preference wins among the codecs we accept; our hello itself goes uncompressed
    const codec = this.#framed.version === PROTOCOL_VERSION_2 ? chooseCodec(hello.codecs, this.#deps.codecs ?? []) : undefined
    await this.#framed.send({ type: 'hello', v: this.#framed.version, domain: this.#deps.domain, head: info.head, count: info.objects, epoch: info.epoch, serves: this.#deps.servesHash, ...(codec !== undefined ? { codec } : {}), ...(offer ? { caps: [PUSH_CAPABILITY] } : {}) })
    if (codec !== undefined) this.#framed.useCodec(codec)
    this.#deps.log.debug({ remoteDomain: hello.domain, protocol: this.#framed.version, codec: codec ?? 'none', push: offer }, 'serve session: hello')
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
    if (this.#armed !== undefined) {
      this.#schedulePush()
      return
    }
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
