/**
 * The pulling side of a session: we opened a stream to a remote we import from.
 *
 * After the hello exchange we resume from our checkpoint — unless the
 * remote's feed epoch or our import rules changed, in which case the
 * checkpoint belongs to a feed or rules that no longer exist and we restart
 * from zero. Then we pull until caught up, and again whenever the remote
 * notifies us (live), the interval ticks, or an admin asks.
 *
 * The session owns the stream, the hello and the resume point, and when to
 * pull; its parts: a pull itself (request windows, batches, commits) is the
 * PullPipeline, objects fetched by uid are GetRequests. When the session
 * fails, everything waiting on the remote — hello, batch, get answers, syncNow
 * callers — is rejected with its first error.
 *
 * Push (version 2, when both hellos name it and we pull live): every pull
 * grants the server credit; once a pull's answer ends at the server's head
 * we are armed, and the server sends each new commit's batch itself. We take
 * a pushed frame only while armed and only when it follows exactly what we
 * last received (`from`); a frame sent before the server saw our latest pull
 * arrives while we are not armed and is dropped (that pull's answer covers
 * it); any other mismatch disarms us and we pull. Sending a pull disarms us
 * until its answer ends. Pushed batches are applied by the pipeline's same
 * loop, before any pull starts, and acknowledged (PushCredit) after every
 * half credit applied. A new session always starts with a pull.
 */
import type { Stream } from '@libp2p/interface'
import { HELLO_TIMEOUT_MS, PROTOCOL_VERSION, PROTOCOL_VERSION_2, PUSH_CAPABILITY, PUSH_CREDIT, PUSH_ID } from '../../protocol/constants.js'
import type { CodecName } from '../../protocol/frame-compression.js'
import { serverDecoderFor } from '../../protocol/session-decoders.js'
import { versionOfProtocol } from '../../protocol/versions.js'
import { type BatchMessage, type HelloMessage, type PullMessage, type ServerMessage } from '../../protocol/messages.js'
import type { WireObject } from '../../protocol/object.js'
import type { Store } from '../../store/types.js'
import type { ApplyStats } from '../apply/apply-remote.js'
import { AgentError, describeError, MessageTooLargeError, ProtocolError, UnsupportedProtocolVersionError } from '../../protocol/errors.js'
import { PeerClosedSessionError } from '../errors.js'
import { FramedStream } from './framed-stream.js'
import { GetRequests, type GetAnswer } from './get-requests.js'
import { PullPipeline, type PullPipelineDeps } from './pull-pipeline.js'
import type { ProgressSnapshot } from './progress.js'
import { PushCredit } from './push-credit.js'
import type { SessionEnd } from './serve-session.js'
import { withTimeout, type Waiter } from './waiting.js'

/** What a pull session's hellos settled (shown per peer: status `session`). */
export interface SessionTerms {
  /** the sync protocol version spoken (1 or 2) */
  readonly protocol: number
  /** the frame codec chosen ('none': frames travel uncompressed) */
  readonly codec: string
  /** the remote pushes new batches to us without being asked (protocol 2) */
  readonly push: boolean
}

export interface PullSessionDeps extends PullPipelineDeps {
  readonly store: Store
  readonly domain: string
  readonly peerId: string
  /** pull when the remote notifies (autoSync.live) */
  readonly live: boolean
  /** pull on this interval (ms); 0 = never */
  readonly intervalMs: number
  readonly rulesHash: string
  /** apply one batch and advance the checkpoint, atomically */
  readonly apply: (
    session: PullSession,
    changes: readonly WireObject[],
    next: { seq: number, epoch: string, servesHash: string | undefined },
    /** to be called once the batch's transaction is queued for commit (the next batch may then start) */
    onPrepared?: () => void,
    /** version 2: the received JSON text of each change's data (protocol/bulk-frame.ts) */
    dataTexts?: ReadonlyMap<object, string>
  ) => Promise<ApplyStats>
  readonly onActivity?: () => void
  /** the remote announced a newer head (notify): progress changed even if no pull follows */
  readonly onHeadAnnounced?: (head: number) => void
  /** the session is established (hello exchanged, resume point known) */
  readonly onStarted?: (since: number, hello: HelloMessage) => void
  /** version 2: frame codecs to offer the remote, preferred first (compression-policy.ts); none: frames go uncompressed */
  readonly codecs?: readonly CodecName[]
  /** pull until caught up once, then end the session (dry runs) */
  readonly once?: boolean
  /** ask for push when live (default true; tests turn it off to stand for a version-2 agent without it) */
  readonly push?: boolean
}

export class PullSession {
  readonly #stream: Stream
  readonly #framed: FramedStream<ServerMessage>
  readonly #deps: PullSessionDeps
  readonly #gets: GetRequests
  readonly #pipeline: PullPipeline
  #remote: HelloMessage | undefined
  #remoteHead = 0
  #nextRequestId = 1
  #closedError: Error | undefined
  #helloWaiter: Waiter<HelloMessage> | undefined
  #wake: (() => void) | undefined
  #pullWanted = true
  #syncWaiters: Array<Waiter<ProgressSnapshot>> = []
  #resumedFrom = 0
  // push: on for this session, armed (our last pull's answer ended at the head), what we last received, credit in use
  #pushOn = false
  #lastPullId = -1
  #armed = false
  #receivedSeq = 0
  #credit = new PushCredit(PUSH_CREDIT)
  #appliedSinceAck = 0

  constructor (stream: Stream, deps: PullSessionDeps) {
    this.#stream = stream
    this.#deps = deps
    // the version negotiated when the stream was opened (a stream without one: version 1)
    const version = versionOfProtocol(stream.protocol) ?? PROTOCOL_VERSION
    const framed = this.#framed = new FramedStream<ServerMessage>(stream, serverDecoderFor(version), { version, bodies: true })
    const nextRequestId = (): number => this.#nextRequestId++
    this.#gets = new GetRequests({ peerName: deps.peerName, send: (message) => framed.send(message), version, nextRequestId })
    this.#pipeline = new PullPipeline(deps, {
      send: (message) => this.#sendPull(message),
      version,
      nextRequestId,
      apply: (changes, next, onPrepared, dataTexts) => deps.apply(this, changes, next, onPrepared, dataTexts),
      remoteHead: () => this.#remoteHead,
      fail: (err) => this.#fail(err),
      pushApplied: (lastSeq, answers) => this.#pushApplied(lastSeq, answers)
    })
  }

  get remote (): HelloMessage | undefined { return this.#remote }
  get remoteHead (): number { return this.#remoteHead }
  get appliedSeq (): number { return this.#pipeline.appliedSeq }
  /** what this session received: bytes on the stream, the same frames uncompressed, and the codec the hellos chose */
  get received (): { readonly bytes: number, readonly frameBytes: number, readonly codec: string } {
    const stats = this.#framed.stats
    return { bytes: stats.bytesIn, frameBytes: stats.rawBytesIn, codec: this.#framed.codec ?? 'none' }
  }

  /** what the hellos settled, once they have: protocol version, frame codec, and whether the remote pushes */
  get negotiated (): SessionTerms | undefined {
    if (this.#remote === undefined) return undefined
    return { protocol: this.#framed.version, codec: this.#framed.codec ?? 'none', push: this.#pushOn }
  }

  /** the remote seq this session started pulling after */
  get resumedFrom (): number { return this.#resumedFrom }

  /**
   * Pull now; resolves once caught up (the add-on's "Get updates") with the
   * progress of a pull that started after this call.
   */
  async syncNow (): Promise<ProgressSnapshot> {
    if (this.#closedError !== undefined) throw this.#closedError
    const done = new Promise<ProgressSnapshot>((resolve, reject) => this.#syncWaiters.push({ resolve, reject }))
    this.#pullWanted = true
    this.#wake?.()
    return await done
  }

  /** Fetch objects by uid from the remote (dependencies, retries). */
  get (uids: readonly string[]): Promise<GetAnswer> {
    // handed on as it is: one await less on the dependency path
    return this.#gets.get(uids)
  }

  /** Run the session until the stream ends, fails, or `signal` aborts. */
  async run (signal: AbortSignal): Promise<SessionEnd> {
    const onAbort = (): void => {
      this.#fail(new AgentError('NOT_STARTED', 'session stopped'))
      this.#stream.abort(new ProtocolError('agent stopping'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const reader = this.#readLoop()
    const timer = this.#deps.intervalMs > 0 ? setInterval(() => { this.#pullWanted = true; this.#wake?.() }, this.#deps.intervalMs) : undefined
    try {
      const helloPromise = new Promise<HelloMessage>((resolve, reject) => { this.#helloWaiter = { resolve, reject } })
      // the session may fail while our hello is still being sent; the rejection is handled by the
      // catch below once the send throws, and must not surface as an unhandled rejection (which ends the process)
      helloPromise.catch(() => {})
      const info = this.#deps.store.info()
      const codecs = this.#framed.version === PROTOCOL_VERSION_2 && (this.#deps.codecs?.length ?? 0) > 0 ? { codecs: this.#deps.codecs } : {}
      const askPush = this.#framed.version === PROTOCOL_VERSION_2 && this.#deps.live && this.#deps.push !== false && this.#deps.once !== true
      await this.#framed.send({ type: 'hello', v: this.#framed.version, domain: this.#deps.domain, head: info.head, count: info.objects, epoch: info.epoch, ...codecs, ...(askPush ? { caps: [PUSH_CAPABILITY] } : {}) })
      const hello = await withTimeout(helloPromise, HELLO_TIMEOUT_MS, `peer ${this.#deps.peerName} sent no hello within ${HELLO_TIMEOUT_MS} ms`)
      this.#remote = hello
      this.#remoteHead = hello.head
      this.#pushOn = askPush && hello.caps?.includes(PUSH_CAPABILITY) === true
      let since = await this.#resumePoint(hello)
      this.#pipeline.resumeAt(since)
      this.#resumedFrom = since
      this.#deps.progress.connected(hello.head, since)
      this.#deps.log.info({ remoteDomain: hello.domain, since, remoteHead: hello.head, remoteObjects: hello.count, protocol: this.#framed.version, codec: this.#framed.codec ?? 'none', push: this.#pushOn }, 'pull session started')
      this.#deps.onStarted?.(since, hello)
      while (!signal.aborted && this.#closedError === undefined) {
        if (this.#pipeline.queued > 0) {
          // pushed batches first: a pull started behind them would be answered with them again
          since = (await this.#pipeline.pull(since, hello, true)).since
          continue
        }
        if (this.#pullWanted) {
          this.#pullWanted = false
          // only the waiters registered before this pull began are served by it
          const waiters = this.#syncWaiters
          this.#syncWaiters = []
          since = await this.#pullUntilCaughtUp(since)
          const snapshot = this.#deps.progress.snapshot()
          for (const w of waiters) w.resolve(snapshot)
          if (this.#deps.once === true) break
          continue
        }
        await new Promise<void>((resolve) => { this.#wake = resolve })
        this.#wake = undefined
      }
      return signal.aborted ? { reason: 'aborted' } : { reason: 'closed' }
    } catch (err) {
      if (signal.aborted) return { reason: 'aborted' }
      const error = err as Error
      this.#fail(error)
      if (error instanceof PeerClosedSessionError) {
        // the remote ended it (or its connection went): nothing to tell it; the pull loop logs the end and reconnects
      } else if (error instanceof ProtocolError || error instanceof MessageTooLargeError || error instanceof UnsupportedProtocolVersionError) {
        this.#deps.log.warn({ err: describeError(error) }, 'closing pull session: bad message from peer')
        await this.#framed.fail((error as AgentError).code, describeError(error))
      } else if (this.#stream.status === 'open') {
        await this.#framed.fail(error instanceof AgentError ? error.code : 'INTERNAL', describeError(error))
      }
      return { reason: 'error', error }
    } finally {
      if (timer !== undefined) clearInterval(timer)
      signal.removeEventListener('abort', onAbort)
      this.#fail(this.#closedError ?? new AgentError('NOT_STARTED', 'session closed'))
      if (this.#stream.status === 'open') await this.#framed.close()
      await reader
    }
  }

  async #resumePoint (hello: HelloMessage): Promise<number> {
    const checkpoint = await this.#deps.store.getCheckpoint(this.#deps.peerId)
    if (checkpoint === undefined) return 0
    if (checkpoint.epoch !== hello.epoch) {
      this.#deps.log.warn({ storedEpoch: checkpoint.epoch, remoteEpoch: hello.epoch }, 'remote feed was rebuilt (epoch changed): pulling everything again')
      return 0
    }
    if (checkpoint.rulesHash !== this.#deps.rulesHash) {
      this.#deps.log.warn('import rules for this peer changed since the checkpoint: pulling everything again under the new rules')
      return 0
    }
    if (checkpoint.servesHash !== hello.serves) {
      this.#deps.log.warn('the peer serves us under different rules than when the checkpoint was made: pulling everything again')
      return 0
    }
    return checkpoint.seq
  }

  async #pullUntilCaughtUp (since: number): Promise<number> {
    const end = await this.#pipeline.pull(since, this.#remote!)
    // behind what was pushed to us meanwhile is not behind: those batches are queued
    if (end.behind && !this.#pushedUpTo(this.#remoteHead)) this.#pullWanted = true
    return end.since
  }

  async #readLoop (): Promise<void> {
    try {
      for await (const message of this.#framed) {
        this.#deps.onActivity?.()
        this.#dispatch(message)
      }
      this.#fail(new PeerClosedSessionError(`peer ${this.#deps.peerName} closed the session (its agent stopped, or the connection was lost): pulling resumes in a new session once it is reachable`))
    } catch (err) {
      this.#fail(err as Error)
    }
    this.#wake?.()
  }

  #dispatch (message: ServerMessage): void {
    switch (message.type) {
      case 'hello':
        if (this.#helloWaiter === undefined || this.#remote !== undefined) throw new ProtocolError('hello sent twice')
        if (message.v !== this.#framed.version) throw new UnsupportedProtocolVersionError(message.v, this.#framed.version)
        if (message.codec !== undefined) {
          // the remote may only pick what we offered; its next frame may already be compressed
          const codec = this.#deps.codecs?.find((c) => c === message.codec)
          if (codec === undefined) throw new ProtocolError(`peer chose frame codec "${message.codec}", which this agent did not offer (${this.#deps.codecs?.join(', ') ?? 'none'})`)
          this.#framed.useCodec(codec)
        }
        this.#helloWaiter.resolve(message)
        this.#helloWaiter = undefined
        return
      case 'batch':
        if (message.from !== undefined) {
          this.#pushed(message)
          return
        }
        if (!this.#pipeline.active) throw new ProtocolError('batch received while no pull was asked for')
        if (message.lastSeq > this.#remoteHead) this.#remoteHead = message.lastSeq
        this.#pipeline.received(message, this.#remoteHead)
        // the answer to our last pull ended at the server's head: it pushes from here (it decided the same)
        if (this.#pushOn && message.id === this.#lastPullId && message.last && !message.more) {
          this.#armed = true
          this.#receivedSeq = message.lastSeq
        }
        return
      case 'objects':
        this.#gets.answer(message)
        return
      case 'notify':
        if (message.head > this.#remoteHead) this.#remoteHead = message.head
        this.#deps.progress.heard(message.head)
        this.#deps.onHeadAnnounced?.(message.head)
        if (this.#deps.live && message.head > this.#pipeline.appliedSeq && !this.#pushedUpTo(message.head)) {
          this.#pullWanted = true
          this.#wake?.()
        }
        return
      case 'error':
        throw new PeerClosedSessionError(`peer ${this.#deps.peerName} closed the session: ${message.code}: ${message.message}`)
    }
  }

  /** Send a pull (the pipeline's): with push on it grants credit, and takes back the last pull's. */
  async #sendPull (message: PullMessage): Promise<void> {
    this.#armed = false
    this.#credit = new PushCredit(PUSH_CREDIT)
    this.#appliedSinceAck = 0
    this.#lastPullId = message.id
    await this.#framed.send(this.#pushOn ? { ...message, push: PUSH_CREDIT } : message)
  }

  /** A pushed frame: take it if it continues exactly what we received, else drop it (and pull, if we were armed). */
  #pushed (batch: BatchMessage): void {
    if (!this.#pushOn || batch.id !== PUSH_ID) throw new ProtocolError(`peer ${this.#deps.peerName} pushed a batch in a session without push`)
    // sent before the server saw our last pull: that pull's answer carries it
    if (!this.#armed) return
    if (batch.from !== this.#receivedSeq) {
      this.#armed = false
      this.#deps.log.warn({ from: batch.from, received: this.#receivedSeq }, 'pushed batch does not follow what was received: dropped, pulling instead')
      this.#pullWanted = true
      this.#wake?.()
      return
    }
    if (batch.last && !this.#credit.spend(batch.lastSeq)) throw new ProtocolError(`peer ${this.#deps.peerName} pushed past the credit of ${PUSH_CREDIT} unacknowledged answers`)
    this.#receivedSeq = batch.lastSeq
    if (batch.lastSeq > this.#remoteHead) this.#remoteHead = batch.lastSeq
    this.#deps.progress.heard(this.#remoteHead)
    this.#pipeline.received(batch, this.#remoteHead)
    this.#wake?.()
  }

  /** Pushed answers are applied: acknowledge after every half credit, so the server never waits on a full one. */
  #pushApplied (lastSeq: number, answers: number): void {
    this.#appliedSinceAck += answers
    if (!this.#armed || this.#appliedSinceAck < PUSH_CREDIT / 2) return
    this.#appliedSinceAck = 0
    this.#credit.ack(lastSeq)
    this.#framed.send({ type: 'ack', v: this.#framed.version, seq: lastSeq }).catch((err: unknown) => this.#fail(err as Error))
  }

  /** we are armed and have received pushed batches up to `head` (queued, if not yet applied) */
  #pushedUpTo (head: number): boolean {
    return this.#armed && this.#receivedSeq >= head
  }

  #fail (err: Error): void {
    if (this.#closedError === undefined) this.#closedError = err
    const e = this.#closedError
    this.#helloWaiter?.reject(e)
    this.#helloWaiter = undefined
    this.#pipeline.fail(e)
    this.#gets.fail(e)
    for (const w of this.#syncWaiters) w.reject(e)
    this.#syncWaiters = []
    this.#wake?.()
  }
}
