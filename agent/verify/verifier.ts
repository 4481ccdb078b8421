/**
 * The agent's verifies (issue 13, anti-entropy): `verify(peer)` opens a
 * verify session to a configured peer, compares, optionally repairs and
 * compares again; `verifySelf()` rebuilds our digest from our records and
 * compares it with the stored one; `serve` answers the peers that verify
 * against us, under their serve rules; a timer runs the periodic verifies
 * (`peers[].verify.interval`, off by default). Per peer it keeps the last
 * result and the progress of the one running: the status shows them.
 *
 * One verify per peer at a time (a second caller gets the running one's
 * result). The peers are read from the running config on every call, so a
 * reload's changes apply to the next verify.
 */
import type { Stream } from '@libp2p/interface'
import { describeError } from '../../protocol/errors.js'
import type { WireObject } from '../../protocol/object.js'
import { VERIFY_PROTOCOL_ID } from '../../protocol/verify-constants.js'
import type { PeerConfig } from '../../config/schema.js'
import type { Store } from '../../store/types.js'
import type { ApplyStats } from '../apply/apply-context.js'
import { NotFoundError } from '../errors.js'
import type { Mesh, MeshPeer } from '../net/mesh.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'
import { compileInboundRules } from '../rules/inbound.js'
import { compileServeRules, serveExclusion } from '../rules/serve.js'
import { importsGroup, servesDigestType } from '../rules/verify-scope.js'
import type { LoadedConfig } from '../../config/load.js'
import { repair } from './repair.js'
import { buildReport, selfReport, type SelfVerifyReport } from './report-build.js'
import type { VerificationStatus, VerifyProgress, VerifyReport, VerifyResult } from './report.js'
import { VerifyClient, type WalkOutcome } from './verify-client.js'
import { serveVerify } from './verify-serve.js'

export interface VerifierDeps {
  readonly store: Store
  /** the running config (a reload replaces it) */
  readonly config: () => LoadedConfig
  readonly mesh: Pick<Mesh, 'openStream'>
  /** the normal apply path for a batch from this peer (the replicator's) */
  readonly applyFrom: (peerName: string, changes: readonly WireObject[]) => Promise<ApplyStats>
  readonly log: Logger
  readonly now: () => number
  /** something the status shows for this peer changed */
  readonly onChange?: (peerName: string, running: boolean) => void
}

export interface VerifyOptions {
  /** fetch and apply what the peer has and we lack, then verify again */
  readonly repair?: boolean
  /** compare the digests only: skip rebuilding them from the records on both sides */
  readonly quick?: boolean
  /** differences listed in the report (all are counted); default 1000 */
  readonly maxDifferences?: number
}

export interface Verifier {
  start (): void
  stop (): Promise<void>
  verify (peerName: string, options?: VerifyOptions): Promise<VerifyResult>
  verifySelf (): Promise<SelfVerifyReport>
  status (peerName: string): VerificationStatus
  /** a verify stream from a configured peer */
  serve (stream: Stream, peer: MeshPeer): void
}

/** differences a report lists (all are counted) */
const DEFAULT_MAX_DIFFERENCES = 1000
/** how often the periodic timer looks for a verify that is due */
const PERIODIC_TICK_MS = 5_000

interface PeerVerification {
  running?: Promise<VerifyResult>
  progress?: VerifyProgress
  last?: VerificationStatus['last']
}

export function createVerifier (deps: VerifierDeps): Verifier {
  const byPeer = new Map<string, PeerVerification>()
  const serving = new Set<Promise<unknown>>()
  let controller: AbortController | undefined
  let timer: NodeJS.Timeout | undefined
  const stateOf = (name: string): PeerVerification => {
    let s = byPeer.get(name)
    if (s === undefined) byPeer.set(name, s = {})
    return s
  }
  const peerOf = (name: string): PeerConfig => {
    const peer = deps.config().peers.find((p) => p.name === name)
    if (peer === undefined) throw new NotFoundError(`no peer named "${name}" in the config`)
    return peer
  }

  let startedAt = 0

  const verifier: Verifier = {
    start () {
      if (controller !== undefined) return
      controller = new AbortController()
      startedAt = deps.now()
      timer = setInterval(() => { dueVerifies(deps, stateOf, startedAt, verifier) }, PERIODIC_TICK_MS)
      timer.unref()
    },

    async stop () {
      clearInterval(timer)
      timer = undefined
      controller?.abort()
      controller = undefined
      await Promise.allSettled([...[...byPeer.values()].flatMap((s) => s.running ?? []), ...serving])
    },

    async verify (name, options = {}) {
      const peer = peerOf(name)
      const state = stateOf(name)
      if (state.running !== undefined) return await state.running
      const running = runTracked(deps, state, peer, options, controller?.signal)
      state.running = running
      try {
        return await running
      } finally {
        state.running = undefined
      }
    },

    async verifySelf () {
      const startedAt = deps.now()
      const report = await deps.store.digest.check({ maxProblems: 1000 })
      return selfReport(report, startedAt, deps.now())
    },

    status (name) {
      const peer = peerOf(name)
      const state = byPeer.get(name)
      return {
        state: state?.running !== undefined ? 'running' : 'idle',
        ...(state?.progress !== undefined ? { progress: state.progress } : {}),
        ...(state?.last !== undefined ? { last: state.last } : {}),
        ...(peer.verify.interval !== undefined ? { intervalMs: peer.verify.interval } : {})
      }
    },

    serve (stream, meshPeer) {
      const signal = controller?.signal
      const peer = deps.config().peers.find((p) => p.peerId === meshPeer.peerId)
      if (signal === undefined || peer === undefined) {
        stream.abort(new Error(signal === undefined ? 'agent is not running' : 'peer no longer configured'))
        return
      }
      const done = serveOne(deps, stream, peer, signal)
      serving.add(done)
      void done.finally(() => serving.delete(done))
    }
  }
  return verifier
}

/** Start the periodic verifies that are due (`peers[].verify.interval` since the last one finished, or since start); a failure is logged by the verify. */
function dueVerifies (deps: VerifierDeps, stateOf: (name: string) => PeerVerification, since: number, verifier: Verifier): void {
  for (const peer of deps.config().peers) {
    const every = peer.verify.interval
    const state = stateOf(peer.name)
    if (every === undefined || state.running !== undefined) continue
    if ((state.last?.finishedAt ?? since) + every > deps.now()) continue
    void verifier.verify(peer.name, { repair: peer.verify.repair, quick: peer.verify.quick }).catch(() => {})
  }
}

/** One verify with its state kept for the status: progress while it runs, the result (or failure) after. */
async function runTracked (deps: VerifierDeps, state: PeerVerification, peer: PeerConfig, options: VerifyOptions, signal: AbortSignal | undefined): Promise<VerifyResult> {
  const startedAt = deps.now()
  let told = 0
  const progress = (p: VerifyProgress | undefined): void => {
    const phaseChanged = p?.phase !== state.progress?.phase
    state.progress = p
    // progress comes per page of a check: the status listeners hear of it at most once a second
    if (!phaseChanged && deps.now() - told < 1000) return
    told = deps.now()
    deps.onChange?.(peer.name, state.running !== undefined && p !== undefined)
  }
  try {
    const result = await verifyOnce({ deps, peer, options, progress, signal })
    const r = result.after ?? result.report
    state.last = { result: r.result, finishedAt: r.finishedAt, durationMs: deps.now() - startedAt, differences: r.differenceCount, digest: r.digest.here, checked: r.checked, repaired: result.repair !== undefined }
    deps.log.info({ peer: peer.name, result: r.result, differences: r.differenceCount, roundTrips: result.report.roundTrips }, `verify with ${peer.name}: ${r.result === 'in-sync' ? 'in sync' : `${r.differenceCount} difference(s)`}`)
    return result
  } catch (err) {
    state.last = { result: 'failed', finishedAt: deps.now(), durationMs: deps.now() - startedAt, differences: 0, error: describeError(err) }
    deps.log.warn({ peer: peer.name, err: describeError(err) }, `verify with ${peer.name} failed`)
    throw err
  } finally {
    progress(undefined)
  }
}

/** Serve a peer's verify session under its serve rules (what it may see is what its digest covers). */
async function serveOne (deps: VerifierDeps, stream: Stream, peer: PeerConfig, signal: AbortSignal): Promise<void> {
  const rules = compileServeRules(peer)
  const log = deps.log.child({ peer: peer.name, peerId: shortPeerId(peer.peerId), side: 'verify-serve' })
  const end = await serveVerify(stream, {
    store: deps.store,
    domain: deps.config().domain,
    peerName: peer.name,
    servesType: (t) => servesDigestType(rules, t),
    mayServe: (object) => serveExclusion(rules, object) === undefined,
    log
  }, signal)
  log.info({ reason: end.reason }, 'verify session served')
}

interface VerifyRun {
  readonly deps: VerifierDeps
  readonly peer: PeerConfig
  readonly options: VerifyOptions
  readonly progress: (p: VerifyProgress | undefined) => void
  readonly signal: AbortSignal | undefined
}

/** One verify (and, with repair, the repair and a second compare over the same session). */
async function verifyOnce ({ deps, peer, options, progress, signal }: VerifyRun): Promise<VerifyResult> {
  const check = options.quick !== true
  const first = await compareWith({ deps, peer, options, progress, signal }, check)
  const { report, outcome, client } = first
  try {
    if (options.repair !== true || report.inSync) return { report }
    const since = deps.now()
    progress(progressOf('repairing', 0, outcome.differences.length, since, since))
    const repaired = await repair(outcome.differences, outcome.hereProblems, {
      store: deps.store,
      get: async (uids) => await client.get(uids),
      applyFrom: async (changes) => await deps.applyFrom(peer.name, changes),
      pulls: peer.pull,
      checked: check
    })
    await client.close()
    // a session compares once: the second look takes a new one
    const second = await compareWith({ deps, peer, options, progress, signal }, check)
    await second.client.close()
    return { report, repair: repaired, after: second.report }
  } finally {
    await client.close()
  }
}

/** Open a verify session and compare; the session stays open (for a repair's gets). */
async function compareWith ({ deps, peer, options, progress, signal }: VerifyRun, check: boolean): Promise<{ report: VerifyReport, outcome: WalkOutcome, client: VerifyClient }> {
  const rules = compileInboundRules(deps.config(), peer)
  const startedAt = deps.now()
  const stream = await deps.mesh.openStream(peer.peerId, signal, VERIFY_PROTOCOL_ID)
  const client = new VerifyClient(stream, {
    store: deps.store,
    domain: deps.config().domain,
    importsGroup: (g) => importsGroup(rules, g),
    onCheckProgress: (done, total) => progress(progressOf('checking', done, total, startedAt, deps.now()))
  })
  try {
    progress(progressOf('comparing', 0, 0, startedAt, startedAt))
    const outcome = await client.compare(check)
    const report = buildReport(peer.name, outcome, client, { startedAt, finishedAt: deps.now(), checked: check, maxDifferences: options.maxDifferences ?? DEFAULT_MAX_DIFFERENCES })
    return { report, outcome, client }
  } catch (err) {
    await client.close()
    throw err
  }
}

/** A phase's progress, with its ETA from the rate so far. */
export function progressOf (phase: VerifyProgress['phase'], done: number, total: number, since: number, now: number): VerifyProgress {
  const percent = total > 0 ? Math.min(100, Math.round((done / total) * 1000) / 10) : 0
  const elapsed = (now - since) / 1000
  const etaSeconds = done > 0 && total > done && elapsed > 0 ? Math.round(((total - done) * elapsed) / done) : undefined
  return { phase, done, total, percent, etaSeconds }
}
