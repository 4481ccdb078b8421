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
 */
import type { Stream } from '@libp2p/interface'
import { HELLO_TIMEOUT_MS, PROTOCOL_VERSION, PROTOCOL_VERSION_2 } from '../../protocol/constants.js'
import type { CodecName } from '../../protocol/frame-compression.js'
import { serverDecoderFor } from '../../protocol/session-decoders.js'
import { versionOfProtocol } from '../../protocol/versions.js'
import { type HelloMessage, type ServerMessage } from '../../protocol/messages.js'
import type { WireObject } from '../../protocol/object.js'
import type { Store } from '../../store/types.js'
import type { ApplyStats } from '../apply/apply-remote.js'
import { AgentError, describeError, MessageTooLargeError, ProtocolError, UnsupportedProtocolVersionError } from '../../protocol/errors.js'
import { FramedStream } from './framed-stream.js'
import { GetRequests, type GetAnswer } from './get-requests.js'
import { PullPipeline, type PullPipelineDeps } from './pull-pipeline.js'
import type { ProgressSnapshot } from './progress.js'
import type { SessionEnd } from './serve-session.js'
import { withTimeout, type Waiter } from './waiting.js'

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

  constructor (stream: Stream, deps: PullSessionDeps) {
    this.#stream = stream
    this.#deps = deps
    // the version negotiated when the stream was opened (a stream without one: version 1)
    const version = versionOfProtocol(stream.protocol) ?? PROTOCOL_VERSION
    const framed = this.#framed = new FramedStream<ServerMessage>(stream, serverDecoderFor(version), { version, text: true })
    const nextRequestId = (): number => this.#nextRequestId++
    this.#gets = new GetRequests({ peerName: deps.peerName, send: (message) => framed.send(message), version, nextRequestId })
    this.#pipeline = new PullPipeline(deps, {
      send: (message) => framed.send(message),
      version,
      nextRequestId,
      apply: (changes, next, onPrepared, dataTexts) => deps.apply(this, changes, next, onPrepared, dataTexts),
      remoteHead: () => this.#remoteHead,
      fail: (err) => this.#fail(err)
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
      await this.#framed.send({ type: 'hello', v: this.#framed.version, domain: this.#deps.domain, head: info.head, count: info.objects, epoch: info.epoch, ...codecs })
      const hello = await withTimeout(helloPromise, HELLO_TIMEOUT_MS, `peer ${this.#deps.peerName} sent no hello within ${HELLO_TIMEOUT_MS} ms`)
      this.#remote = hello
      this.#remoteHead = hello.head
      let since = await this.#resumePoint(hello)
      this.#pipeline.resumeAt(since)
      this.#resumedFrom = since
      this.#deps.progress.connected(hello.head, since)
      this.#deps.log.info({ remoteDomain: hello.domain, since, remoteHead: hello.head, remoteObjects: hello.count, protocol: this.#framed.version, codec: this.#framed.codec ?? 'none' }, 'pull session started')
      this.#deps.onStarted?.(since, hello)
      while (!signal.aborted && this.#closedError === undefined) {
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
      if (error instanceof ProtocolError || error instanceof MessageTooLargeError || error instanceof UnsupportedProtocolVersionError) {
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
    if (end.behind) this.#pullWanted = true
    return end.since
  }

  async #readLoop (): Promise<void> {
    try {
      for await (const message of this.#framed) {
        this.#deps.onActivity?.()
        this.#dispatch(message)
      }
      this.#fail(new ProtocolError(`peer ${this.#deps.peerName} closed the session`))
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
        if (!this.#pipeline.active) throw new ProtocolError('batch received while no pull was asked for')
        if (message.lastSeq > this.#remoteHead) this.#remoteHead = message.lastSeq
        this.#pipeline.received(message, this.#remoteHead)
        return
      case 'objects':
        this.#gets.answer(message)
        return
      case 'notify':
        if (message.head > this.#remoteHead) this.#remoteHead = message.head
        this.#deps.progress.heard(message.head)
        this.#deps.onHeadAnnounced?.(message.head)
        if (this.#deps.live && message.head > this.#pipeline.appliedSeq) {
          this.#pullWanted = true
          this.#wake?.()
        }
        return
      case 'error':
        throw new ProtocolError(`peer ${this.#deps.peerName} closed the session: ${message.code}: ${message.message}`)
    }
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
