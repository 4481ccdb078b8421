/**
 * The pull loop of one remote (`pull: true`): open a session, run it until it
 * ends, and reconnect with exponential backoff; the backoff resets after a
 * session that got as far as the hello and lasted over a second. The loop
 * keeps the peer's runtime current (open session, pulled counts, last error)
 * and raises the replicator's events for what its sessions do. It ends when
 * the replicator's signal aborts.
 *
 * Every wait of the loop is bounded — opening a stream by DIAL_TIMEOUT_MS
 * (mesh.ts), the hello by HELLO_TIMEOUT_MS, each batch by REQUEST_TIMEOUT_MS
 * — so a peer that went away or stalled always ends in a new attempt. A
 * peer that cannot be reached is logged at debug for each attempt and once
 * at warn when it stays so (OPEN_FAILURES_TO_WARN attempts in a row), so an
 * outage does not go unseen at the default level; the next session that
 * starts says so at info.
 */
import type { Stream } from '@libp2p/interface'
import { RECONNECT_MAX_MS } from '../../protocol/constants.js'
import { describeError } from '../../protocol/errors.js'
import { applyRemoteBatch } from '../apply/apply-remote.js'
import { finishBulkLoad } from './bulk-load.js'
import { Backoff } from '../runtime/backoff.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'
import type { PeerRuntime } from './peer-runtime.js'
import { PullSession } from './pull-session.js'
import { applyContextFor, learnBinding, peerChanged, sessionBasics, type ReplicatorDeps } from './replicator-deps.js'

/** failed attempts in a row to open a pull session after which the outage is logged at warn (about 2 s of backoff, plus the attempts) */
export const OPEN_FAILURES_TO_WARN = 4

export async function pullLoop (deps: ReplicatorDeps, rt: PeerRuntime, signal: AbortSignal): Promise<void> {
  const peerLog = deps.log.child({ peer: rt.config.name, peerId: shortPeerId(rt.config.peerId) })
  const backoff = new Backoff()
  let failures = 0
  while (!signal.aborted) {
    let stream: Stream
    try {
      stream = await deps.mesh.openStream(rt.config.peerId, signal)
    } catch (err) {
      if (signal.aborted) return
      failures++
      rt.lastError = `cannot reach peer: ${describeError(err)}`
      const fields = { err: describeError(err), attempts: failures, retryInMs: backoff.delay }
      if (failures === OPEN_FAILURES_TO_WARN) peerLog.warn(fields, `cannot open a pull session: the peer stays unreachable; retrying with backoff (at least every ${RECONNECT_MAX_MS / 1000} s)`)
      else peerLog.debug(fields, 'cannot open a pull session')
      await backoff.wait(signal)
      continue
    }
    if (failures >= OPEN_FAILURES_TO_WARN) peerLog.info({ attempts: failures }, 'pull session opened again after the peer was unreachable')
    failures = 0
    const session = livePullSession(deps, rt, stream, peerLog)
    const started = await runSession(deps, rt, session, peerLog, signal)
    if (signal.aborted) return
    if (session.remote !== undefined && deps.now() - started > 1000) backoff.reset()
    await backoff.wait(signal)
  }
}

/** A session that applies what it pulls, and tells the runtime and the events about it. */
function livePullSession (deps: ReplicatorDeps, rt: PeerRuntime, stream: Stream, peerLog: Logger): PullSession {
  const name = rt.config.name
  return new PullSession(stream, {
    ...sessionBasics(deps, rt),
    live: rt.config.autoSync.live,
    intervalMs: rt.config.autoSync.interval,
    progress: rt.progress,
    log: peerLog,
    apply: async (s, changes, next, onPrepared, dataTexts) => await applyRemoteBatch(applyContextFor(deps, rt, s), changes, next, onPrepared, dataTexts),
    onActivity: () => { rt.lastContact = deps.now() },
    ...(deps.push === false ? { push: false } : {}),
    onBatchApplied: (stats, batch) => {
      rt.pulledSession += stats.received
      if (batch.pushed) rt.pushedIn++
      rt.unsigned += stats.unsigned
      deps.events?.onBatchApplied?.(name, stats, batch)
      deps.events?.onProgress?.(name, rt.progress.snapshot())
      peerChanged(deps, name)
    },
    onPullFinished: (pulled, durationMs, caughtUp) => {
      // an initial sync left the type index for now: build it once caught up
      if (caughtUp) finishBulkLoad(deps.store, peerLog, deps.now)
      deps.events?.onPullFinished?.(name, pulled, durationMs, caughtUp)
    },
    onHeadAnnounced: () => deps.events?.onProgress?.(name, rt.progress.snapshot()),
    // progress.connected() (at hello) already restarted the lag from the remote as it is now
    onStarted: (_since, hello) => {
      rt.lastError = undefined
      learnBinding(deps, rt, hello.domain)
      peerChanged(deps, name)
    }
  })
}

/** Run one session to its end as the peer's open session; returns when it started (ms). */
async function runSession (deps: ReplicatorDeps, rt: PeerRuntime, session: PullSession, peerLog: Logger, signal: AbortSignal): Promise<number> {
  rt.session = session
  const checkpoint = await deps.store.getCheckpoint(rt.config.peerId).catch(() => undefined)
  rt.pulledBase = checkpoint?.pulled ?? 0
  rt.pulledSession = 0
  peerChanged(deps, rt.config.name)
  const started = deps.now()
  const end = await session.run(signal)
  rt.session = undefined
  if (end.reason === 'error') {
    rt.lastError = describeError(end.error)
    peerLog.warn({ err: rt.lastError, pulled: rt.pulledSession }, 'pull session ended with an error')
  } else {
    const { bytes, frameBytes, codec } = session.received
    peerLog.info({ reason: end.reason, pulled: rt.pulledSession, bytesIn: bytes, frameBytesIn: frameBytes, codec }, 'pull session ended')
  }
  peerChanged(deps, rt.config.name)
  return started
}
