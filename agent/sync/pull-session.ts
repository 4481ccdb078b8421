/**
 * The pulling side of a session: we opened a stream to a remote we import from.
 *
 * After the hello exchange we resume from our checkpoint — unless the
 * remote's feed epoch or our import rules changed, in which case the
 * checkpoint belongs to a feed or rules that no longer exist and we restart
 * from zero. Then we pull until caught up, and again whenever the remote
 * notifies us (live), the interval ticks, or an admin asks.
 *
 * Pulls are request-driven windows: the next window is requested as soon as
 * the last batch of the current one arrives (pipelining), but only while
 * fewer than MAX_UNAPPLIED_BATCHES wait to be applied — so memory stays
 * bounded however large the remote's feed.
 */
import type { Stream } from '@libp2p/interface'
import { HELLO_TIMEOUT_MS, MAX_GET_UIDS, MAX_UNAPPLIED_BATCHES, PROTOCOL_VERSION, REQUEST_TIMEOUT_MS } from '../../protocol/constants.js'
import { decodeServerMessage } from '../../protocol/decode.js'
import { type BatchMessage, type HelloMessage, type ServerMessage } from '../../protocol/messages.js'
import type { WireObject } from '../../protocol/object.js'
import type { Store } from '../../store/types.js'
import type { ApplyStats } from '../apply/apply-remote.js'
import { AgentError, describeError, MessageTooLargeError, ProtocolError, UnsupportedProtocolVersionError } from '../../protocol/errors.js'
import { TimeoutError } from '../errors.js'
import { FramedStream } from './framed-stream.js'
import type { Logger } from '../runtime/logger.js'
import { formatProgress, type ProgressSnapshot, type PullProgress } from './progress.js'
import type { SessionEnd } from './serve-session.js'

export interface PullSessionDeps {
  readonly store: Store
  readonly domain: string
  readonly peerName: string
  readonly peerId: string
  /** objects asked for per pull request */
  readonly window: number
  /** pull when the remote notifies (autoSync.live) */
  readonly live: boolean
  /** pull on this interval (ms); 0 = never */
  readonly intervalMs: number
  readonly rulesHash: string
  readonly progress: PullProgress
  readonly log: Logger
  readonly now: () => number
  /** apply one batch and advance the checkpoint, atomically */
  readonly apply: (
    session: PullSession,
    changes: readonly WireObject[],
    next: { seq: number, epoch: string, servesHash: string | undefined },
    /** to be called once the batch's transaction is queued for commit (the next batch may then start) */
    onPrepared?: () => void
  ) => Promise<ApplyStats>
  readonly onActivity?: () => void
  readonly onBatchApplied?: (stats: ApplyStats, batch: { lastSeq: number, remaining: number, more: boolean, durationMs: number }) => void
  readonly onPullFinished?: (pulled: number, durationMs: number, caughtUp: boolean) => void
  /** the remote announced a newer head (notify): progress changed even if no pull follows */
  readonly onHeadAnnounced?: (head: number) => void
  /** the session is established (hello exchanged, resume point known) */
  readonly onStarted?: (since: number) => void
  /** how often to log progress during a long pull */
  readonly progressLogMs?: number
  /** pull until caught up once, then end the session (dry runs) */
  readonly once?: boolean
}

interface Waiter<T> { resolve: (value: T) => void, reject: (err: Error) => void }

export class PullSession {
  readonly #stream: Stream
  readonly #framed: FramedStream<ServerMessage>
  readonly #deps: PullSessionDeps
  #remote: HelloMessage | undefined
  #remoteHead = 0
  #appliedSeq = 0
  #nextRequestId = 1
  #closedError: Error | undefined
  readonly #batches: BatchMessage[] = []
  #batchWaiter: Waiter<BatchMessage> | undefined
  readonly #gets = new Map<number, { uids: ReadonlySet<string>, objects: WireObject[], missing: string[], waiter: Waiter<{ objects: WireObject[], missing: string[] }> }>()
  #helloWaiter: Waiter<HelloMessage> | undefined
  #wake: (() => void) | undefined
  #pullWanted = true
  #syncWaiters: Array<Waiter<ProgressSnapshot>> = []
  #pullActive = false
  #deferredRequest: number | undefined
  #resumedFrom = 0
  /** the remote's head as we knew it when each batch arrived: its `remaining` is exact up to there */
  readonly #headAtReceipt = new WeakMap<BatchMessage, number>()
  /** time spent applying vs waiting for the remote in the current pull (tuning) */
  #applyMs = 0
  #waitMs = 0

  constructor (stream: Stream, deps: PullSessionDeps) {
    this.#stream = stream
    this.#deps = deps
    this.#framed = new FramedStream<ServerMessage>(stream, decodeServerMessage)
  }

  get remote (): HelloMessage | undefined { return this.#remote }
  get remoteHead (): number { return this.#remoteHead }
  get appliedSeq (): number { return this.#appliedSeq }
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
  async get (uids: readonly string[]): Promise<{ objects: WireObject[], missing: string[] }> {
    const objects: WireObject[] = []
    const missing: string[] = []
    for (let i = 0; i < uids.length; i += MAX_GET_UIDS) {
      const part = await this.#getChunk(uids.slice(i, i + MAX_GET_UIDS))
      objects.push(...part.objects)
      missing.push(...part.missing)
    }
    return { objects, missing }
  }

  async #getChunk (uids: readonly string[]): Promise<{ objects: WireObject[], missing: string[] }> {
    if (this.#closedError !== undefined) throw this.#closedError
    const id = this.#nextRequestId++
    const result = new Promise<{ objects: WireObject[], missing: string[] }>((resolve, reject) => {
      this.#gets.set(id, { uids: new Set(uids), objects: [], missing: [], waiter: { resolve, reject } })
    })
    // if the session fails while the request is being sent, the send throws to our caller;
    // the rejected answer must not also surface as an unhandled rejection (which ends the process)
    result.catch(() => {})
    await this.#framed.send({ type: 'get', v: PROTOCOL_VERSION, id, uids })
    return await withTimeout(result, REQUEST_TIMEOUT_MS, `peer ${this.#deps.peerName} did not answer get within ${REQUEST_TIMEOUT_MS} ms`)
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
      await this.#framed.send({ type: 'hello', v: PROTOCOL_VERSION, domain: this.#deps.domain, head: info.head, count: info.objects, epoch: info.epoch })
      const hello = await withTimeout(helloPromise, HELLO_TIMEOUT_MS, `peer ${this.#deps.peerName} sent no hello within ${HELLO_TIMEOUT_MS} ms`)
      this.#remote = hello
      this.#remoteHead = hello.head
      let since = await this.#resumePoint(hello)
      this.#appliedSeq = since
      this.#resumedFrom = since
      this.#deps.progress.connected(hello.head, since)
      this.#deps.log.info({ remoteDomain: hello.domain, since, remoteHead: hello.head, remoteObjects: hello.count }, 'pull session started')
      this.#deps.onStarted?.(since)
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
    const progress = this.#deps.progress
    const epoch = this.#remote!.epoch
    progress.begin(since === 0)
    this.#pullActive = true
    this.#applyMs = 0
    this.#waitMs = 0
    let lastLog = this.#deps.now()
    const logEvery = this.#deps.progressLogMs ?? 3000
    let caughtUp = false
    // The batch whose transaction is prepared but maybe not yet committed.
    // The next batch is decoded, checked and reconciled while it commits
    // (the store builds that transaction on this one); a batch counts as
    // applied — progress, checkpoint, logs — only once committed.
    type Applying = { batch: BatchMessage, applying: Promise<ApplyStats>, started: number }
    let pending: Applying | undefined
    /** wait for a batch's commit and count it as applied; true when it was the pull's last */
    const settle = async ({ batch, applying, started }: Applying): Promise<boolean> => {
      const waitFrom = this.#deps.now()
      const stats = await applying
      this.#applyMs += this.#deps.now() - waitFrom
      this.#appliedSeq = batch.lastSeq
      since = batch.lastSeq
      progress.batch(batch.changes.length, batch.remaining, batch.more, batch.lastSeq, this.#headAtReceipt.get(batch) ?? batch.lastSeq)
      this.#deps.onBatchApplied?.(stats, { lastSeq: batch.lastSeq, remaining: batch.remaining, more: batch.more, durationMs: this.#deps.now() - started })
      if (this.#deferredRequest !== undefined && this.#batches.length < MAX_UNAPPLIED_BATCHES) {
        const from = this.#deferredRequest
        this.#deferredRequest = undefined
        await this.#requestWindow(from)
      }
      const now = this.#deps.now()
      if (now - lastLog >= logEvery && batch.more) {
        lastLog = now
        this.#deps.log.info({ peer: this.#deps.peerName }, formatProgress(progress.snapshot()))
      }
      return batch.last && !batch.more
    }
    try {
      await this.#requestWindow(since)
      while (true) {
        // nothing queued to overlap with: finish the pending batch before waiting on the network
        if (pending !== undefined && this.#batches.length === 0) {
          const previous = pending
          pending = undefined
          if (await settle(previous)) {
            caughtUp = true
            break
          }
        }
        const batch = await this.#nextBatch()
        if (batch.last && batch.more && this.#deferredRequest === undefined && !this.#requestedAfter(batch)) {
          this.#deferredRequest = batch.lastSeq
        }
        const started = this.#deps.now()
        let prepared!: () => void
        const queued = new Promise<void>((resolve) => { prepared = resolve })
        const applying = this.#deps.apply(this, batch.changes, { seq: batch.lastSeq, epoch, servesHash: this.#remote!.serves }, prepared)
        applying.catch(() => {}) // awaited in settle(); a failure must not go unhandled meanwhile
        // the next batch may start once this one's transaction is queued (or it failed)
        await Promise.race([queued, applying.then(() => {}, () => {})])
        this.#applyMs += this.#deps.now() - started
        // (a pending batch is never the pull's last: that one is settled at once, below)
        const previous = pending
        pending = { batch, applying, started }
        if (previous !== undefined) await settle(previous)
        if (batch.last && !batch.more) {
          pending = undefined
          if (await settle({ batch, applying, started })) {
            caughtUp = true
            break
          }
        }
      }
      if (this.#remoteHead > since) this.#pullWanted = true
      return since
    } finally {
      // a session that ends mid-pull leaves no commit running behind it
      if (pending !== undefined) await pending.applying.catch(() => {})
      this.#pullActive = false
      this.#deferredRequest = undefined
      progress.end()
      const snap = progress.snapshot()
      this.#deps.onPullFinished?.(snap.done, (snap.finishedAt ?? 0) - (snap.startedAt ?? 0), caughtUp)
      if (snap.done > 0) this.#deps.log.info({ pulled: snap.done, rate: snap.rate, applyMs: Math.round(this.#applyMs), waitMs: Math.round(this.#waitMs) }, `pull finished: ${formatProgress(snap)}`)
    }
  }

  #lastRequestedFrom = -1

  #requestedAfter (batch: BatchMessage): boolean {
    return this.#lastRequestedFrom >= batch.lastSeq
  }

  async #requestWindow (since: number): Promise<void> {
    this.#lastRequestedFrom = since
    const id = this.#nextRequestId++
    await this.#framed.send({ type: 'pull', v: PROTOCOL_VERSION, id, since, limit: this.#deps.window })
  }

  async #nextBatch (): Promise<BatchMessage> {
    const queued = this.#batches.shift()
    if (queued !== undefined) return queued
    if (this.#closedError !== undefined) throw this.#closedError
    const started = this.#deps.now()
    try {
      return await withTimeout(new Promise<BatchMessage>((resolve, reject) => { this.#batchWaiter = { resolve, reject } }),
        REQUEST_TIMEOUT_MS, `peer ${this.#deps.peerName} sent no batch within ${REQUEST_TIMEOUT_MS} ms`)
    } finally {
      this.#waitMs += this.#deps.now() - started
    }
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
        if (message.v !== PROTOCOL_VERSION) throw new UnsupportedProtocolVersionError(message.v, PROTOCOL_VERSION)
        this.#helloWaiter.resolve(message)
        this.#helloWaiter = undefined
        return
      case 'batch':
        if (!this.#pullActive) throw new ProtocolError('batch received while no pull was asked for')
        if (message.lastSeq > this.#remoteHead) this.#remoteHead = message.lastSeq
        this.#headAtReceipt.set(message, this.#remoteHead)
        // pipelining: ask for the next window as soon as this one is fully received
        if (message.last && message.more && this.#batches.length < MAX_UNAPPLIED_BATCHES && this.#lastRequestedFrom < message.lastSeq) {
          void this.#requestWindow(message.lastSeq).catch((err) => this.#fail(err as Error))
        }
        if (this.#batchWaiter !== undefined) {
          const w = this.#batchWaiter
          this.#batchWaiter = undefined
          w.resolve(message)
        } else {
          this.#batches.push(message)
        }
        return
      case 'objects': {
        const pending = this.#gets.get(message.id)
        if (pending === undefined) throw new ProtocolError(`objects for unknown request ${message.id}`)
        // whatever comes back is applied as a dependency: only what was asked for may come back
        const stray = [...message.objects.map((o) => o.uid), ...message.missing].find((uid) => !pending.uids.has(uid))
        if (stray !== undefined) throw new ProtocolError(`peer ${this.#deps.peerName} answered get ${message.id} with ${stray}, which was not asked for`)
        pending.objects.push(...message.objects)
        pending.missing.push(...message.missing)
        if (message.last) {
          this.#gets.delete(message.id)
          pending.waiter.resolve({ objects: pending.objects, missing: pending.missing })
        }
        return
      }
      case 'notify':
        if (message.head > this.#remoteHead) this.#remoteHead = message.head
        this.#deps.progress.heard(message.head)
        this.#deps.onHeadAnnounced?.(message.head)
        if (this.#deps.live && message.head > this.#appliedSeq) {
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
    this.#batchWaiter?.reject(e)
    this.#batchWaiter = undefined
    for (const g of this.#gets.values()) g.waiter.reject(e)
    this.#gets.clear()
    for (const w of this.#syncWaiters) w.reject(e)
    this.#syncWaiters = []
    this.#wake?.()
  }
}

async function withTimeout<T> (promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new TimeoutError(message)), ms) })
    ])
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}
