/**
 * Protocol fuzzing, pulling side: the agent pulls from a hostile remote (an
 * allowed peer ID) that answers with random, mutated and hostile frames.
 *
 * Both protocol versions: version 2 with bulk batch frames whose framing
 * lies, and (when the session offers it) compressed frames, honest ones
 * carrying the hostile content and hostile ones (zip bombs, damaged,
 * oversized, lying about their size, a codec never offered).
 *
 * Volume runs the real PullSession with the real apply path and a real
 * LevelDB store over real libp2p streams, one session after another — the
 * replicator's reconnect backoff (250 ms doubling to 30 s) would otherwise
 * allow only a handful of sessions per minute. A second pass runs the whole
 * agent against several hostile remotes at once and checks what the
 * replicator logs and reports.
 */
import { join } from 'node:path'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { applyRemoteBatch } from '../../agent/apply/apply-remote.js'
import { createEmbeddedConnector } from '../../agent/connectors/embedded.js'
import { loadIdentityKey } from '../../agent/net/identity.js'
import { writeDocuments } from '../../agent/apply/local-writes.js'
import { localBlobAccess } from '../../agent/apply/blob-access.js'
import type { Logger } from '../../agent/runtime/logger.js'
import { PullProgress } from '../../agent/sync/progress.js'
import { PullSession } from '../../agent/sync/pull-session.js'
import { compileInboundRules, inboundRulesHash } from '../../agent/rules/inbound.js'
import type { LoadedConfig } from '../../config/load.js'
import { PROTOCOL_ID, PROTOCOL_ID_V2, PROTOCOL_VERSION } from '../../protocol/constants.js'
import type { CodecName } from '../../protocol/frame-compression.js'
import { createBlobStore } from '../../store/blobs/blob-store.js'
import { createLevelStore } from '../../store/level-store.js'
import type { Store } from '../../store/types.js'
import { jsonFrame } from '../helpers/fuzz-frames.js'
import { createHostileServer, SERVER_ENDS_KINDS, type HostileServer, type ServedSession } from '../helpers/hostile-server.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { clientDocs } from '../helpers/documents.js'
import { capturingLogger, meshConfig, startAgent, waitFor, type TestNode } from '../helpers/nodes.js'
import { createRawPeer, type RawPeer } from '../helpers/raw-peer.js'
import { forkRng, scaled, withSeed } from '../helpers/seeded.js'
import { storeDigest } from '../helpers/store-audit.js'
import { frameReader } from '../helpers/wire-client.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { createProvenanceChecker } from '../../agent/apply/provenance.js'

const FILE = 'test/faults/fuzz-pull.test.ts'
const HOSTILE = ['lab-h1', 'lab-h2', 'lab-h3', 'lab-h4']

/** The agent's own pull session and apply path on `store`, as the replicator builds them for `peerName`. */
function pullSessionOf (stream: Stream, store: Store, config: LoadedConfig, peerName: string, logger: Logger, codecs?: readonly CodecName[]): PullSession {
  const peer = config.peers.find((p) => p.name === peerName)!
  const rules = compileInboundRules(config, peer)
  const rulesHash = inboundRulesHash(rules)
  return new PullSession(stream, {
    store,
    domain: config.domain,
    peerName,
    peerId: peer.peerId,
    window: 100,
    live: true,
    intervalMs: 0,
    rulesHash,
    progress: new PullProgress(Date.now),
    log: logger.child({ peer: peerName }),
    now: Date.now,
    ...(codecs !== undefined ? { codecs } : {}),
    apply: async (s, changes, next, onPrepared, dataTexts) => await applyRemoteBatch({ store, connector: createEmbeddedConnector(), rules, rulesHash, peerId: peer.peerId, now: Date.now, fetch: async (uids) => await s.get(uids), provenance: createProvenanceChecker(), blobs: localBlobAccess(createBlobStore(join(config.paths.dataDir, 'blobs'))) }, changes, next, onPrepared, dataTexts)
  })
}

function summary (sessions: readonly ServedSession[]): string {
  const byKind = new Map<string, number>()
  for (const s of sessions) byKind.set(s.kind, (byKind.get(s.kind) ?? 0) + 1)
  return JSON.stringify(Object.fromEntries([...byKind].sort()))
}

/** Each hostile session ended by the puller, and (unless we ended it) with an error frame telling us why. */
function checkServed (sessions: readonly ServedSession[]): void {
  expect(sessions.filter((s) => s.error !== undefined).map((s) => s.error), 'hostile scripts that failed').toEqual([])
  const unclosed = sessions.filter((s) => !s.closedByPuller).map((s) => s.kind)
  const untold = sessions.filter((s) => !s.toldWhy && !SERVER_ENDS_KINDS.has(s.kind)).map((s) => s.kind)
  expect(unclosed, 'sessions the puller did not close').toEqual([])
  expect(untold, 'sessions the puller closed without telling why').toEqual([])
}

describe('protocol fuzzing: the pulling side', () => {
  const mesh = useTestMesh(['lab-a', 'lab-c', ...HOSTILE], { prefix: 'labmesh-fuzz-pull-' })
  // agents, stores and hostile servers of a test, stopped in the reverse order of their start
  const cleanups: Array<() => Promise<void>> = []

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  const keyOf = async (domain: string) => await loadIdentityKey(join(mesh.node(domain).dir, 'data', 'identity.key'))
  const hostileServer = async (domain: string, rng: Parameters<typeof createHostileServer>[1]): Promise<HostileServer> => {
    const server = await createHostileServer(await keyOf(domain), rng, domain)
    cleanups.push(async () => await server.stop())
    return server
  }
  /** A's config, pulling from the hostile servers at their real addresses. */
  const configOfA = (servers: Map<string, HostileServer>, extra: Array<{ node: TestNode }> = []): LoadedConfig =>
    meshConfig(mesh.node('lab-a'), [...[...servers].map(([d, s]) => ({ node: { ...mesh.node(d), addr: s.addr }, pull: true, extra: { autoSync: { interval: '1h', live: true } } })), ...extra])

  it('the pull session refuses every hostile answer, closes with a reason and writes nothing', async () => {
    await withSeed('fuzz-pull', FILE, async (_rng, seed) => {
      const targetFrames = scaled(1_500, 30_000)
      const servers = new Map<string, HostileServer>()
      for (const d of HOSTILE) servers.set(d, await hostileServer(d, forkRng(seed, d)))
      const config = configOfA(servers)
      const store: Store = createLevelStore({ location: config.paths.storeDir, domain: 'lab-a' })
      await store.open()
      cleanups.push(async () => await store.close())
      await writeDocuments({ store, domain: 'lab-a', now: Date.now, rules: [] }, clientDocs(50))
      const puller: RawPeer = await createRawPeer(await keyOf('lab-a'))
      cleanups.push(async () => await puller.stop())
      const captured = capturingLogger('lab-a')
      const before = await storeDigest(store)
      let sessions = 0
      const started = performance.now()
      const frames = (): number => [...servers.values()].reduce((n, s) => n + s.sessions.reduce((m, x) => m + x.frames, 0), 0)

      const worker = async (domain: string): Promise<void> => {
        const server = servers.get(domain)!
        const peer = config.peers.find((p) => p.name === domain)!
        while (frames() < targetFrames) {
          const served = server.sessions.length
          // every other session speaks version 2 (bulk batch frames), the rest version 1; half the
          // version-2 sessions offer frame compression (the remote then mostly agrees and compresses)
          const protocol = sessions % 2 === 0 ? PROTOCOL_ID_V2 : PROTOCOL_ID
          const codecs: CodecName[] | undefined = sessions % 4 === 0 ? ['brotli'] : undefined
          const stream = await puller.node.dialProtocol(multiaddr(`${server.addr}/p2p/${peer.peerId}`), protocol, { signal: AbortSignal.timeout(5000) })
          const end = await pullSessionOf(stream, store, config, domain, captured.logger, codecs).run(AbortSignal.timeout(20_000))
          sessions++
          await waitFor(() => server.sessions.length > served, { what: `${domain} finished its side of the session (our end: ${end.reason === 'error' ? end.error.message : end.reason})`, timeout: 30_000 })
          const { kind: k, sample, error } = server.sessions[server.sessions.length - 1]!
          expect(error, 'the hostile script itself').toBeUndefined()
          const kind = `${k} (${sample.slice(0, 200)})`
          if (k === 'close-after-hello') {
            // the remote ended the session cleanly while we were idle: a close, not an error
            expect(end.reason, kind).toBe('closed')
            continue
          }
          expect(end.reason, `${kind}: the session ends in an error, not a clean close or a hang`).toBe('error')
          expect(end.reason === 'error' && end.error.message.length > 0, `${kind}: with a reason`).toBe(true)
        }
      }
      await Promise.all(HOSTILE.map(async (d) => { await worker(d) }))
      const all = [...servers.values()].flatMap((s) => s.sessions)
      console.log(`fuzz-pull (sessions): ${frames()} frames in ${sessions} sessions, ${((performance.now() - started) / 1000).toFixed(1)} s; kinds ${summary(all)}`)
      checkServed(all)
      expect(captured.lines.filter((l) => (l.level as number) >= 50), 'errors logged').toEqual([])
      expect(await storeDigest(store)).toBe(before)
    })
  }, scaled(120_000, 1_800_000))

  it('a remote that resets the stream before our hello, or stops reading mid-request: the session ends with an error, nothing unhandled', async () => {
    // regression: a hello (or a get) still being sent when the session failed left its answer
    // promise rejected with no handler: an unhandled rejection, which ends an agent's process
    const config = meshConfig(mesh.node('lab-a'), [{ node: mesh.node('lab-h1'), pull: true }])
    const store: Store = createLevelStore({ location: config.paths.storeDir, domain: 'lab-a' })
    await store.open()
    cleanups.push(async () => await store.close())
    const server = await createRawPeer(await keyOf('lab-h1'))
    cleanups.push(async () => await server.stop())
    await server.node.handle(PROTOCOL_ID, (stream) => {
      void (async () => {
        const reader = frameReader(stream)
        await reader.next()
        stream.send(jsonFrame({ type: 'hello', v: PROTOCOL_VERSION, domain: 'lab-h1', head: 3, count: 3, epoch: 'e' }))
        await reader.next()
        // three objects needing 3,000 unknown dependencies: the puller asks in gets of 1,000 long uids,
        // more than the stream's window holds, and we never read them
        const refs = (k: number): string[] => Array.from({ length: 1000 }, (_, i) => `${k}-${i}-`.padEnd(120, 'x'))
        const changes = [0, 1, 2].map((k) => ({ uid: `o-${k}`, type: 'Client', id: `c-${k}`, parent: null, refs: refs(k), data: {}, vector: { 'lab-h1': 1 }, origin: 'lab-h1', deleted: false, at: 1 }))
        stream.pause()
        stream.send(jsonFrame({ type: 'batch', v: PROTOCOL_VERSION, id: 1, changes, lastSeq: 3, last: true, more: false, remaining: 0 }))
        await waitFor(() => stream.readBufferLength > 100_000 || stream.status !== 'open', { what: 'the gets piling up unread' })
        stream.abort(new Error('going away mid-request'))
      })()
    })
    const puller = await createRawPeer(await keyOf('lab-a'))
    cleanups.push(async () => await puller.stop())
    const stream = await puller.node.dialProtocol(multiaddr(`${server.node.getMultiaddrs()[0]!.toString()}`), PROTOCOL_ID, { signal: AbortSignal.timeout(5000) })
    const before = await storeDigest(store)
    const end = await pullSessionOf(stream, store, config, 'lab-h1', capturingLogger('lab-a').logger).run(AbortSignal.timeout(20_000))
    expect(end.reason).toBe('error')
    expect(await storeDigest(store)).toBe(before)
    // and a stream the remote reset before our hello went out (a remote that is stopping refuses so)
    await server.node.unhandle(PROTOCOL_ID)
    await server.node.handle(PROTOCOL_ID, (s) => { s.abort(new Error('agent is not running')) })
    const refused = await puller.node.dialProtocol(multiaddr(`${server.node.getMultiaddrs()[0]!.toString()}`), PROTOCOL_ID, { signal: AbortSignal.timeout(5000) })
    await waitFor(() => refused.status !== 'open', { what: 'the remote reset the stream' })
    const early = await pullSessionOf(refused, store, config, 'lab-h1', capturingLogger('lab-a').logger).run(AbortSignal.timeout(20_000))
    expect(early.reason).toBe('error')
  })

  it('a running agent pulling from several hostile remotes keeps running, logs each failed session and writes nothing', async () => {
    await withSeed('fuzz-pull-agent', FILE, async (_rng, seed) => {
      const perServer = scaled(3, 6)
      const servers = new Map<string, HostileServer>()
      for (const d of HOSTILE) servers.set(d, await hostileServer(d, forkRng(seed, d)))
      const captured = capturingLogger('lab-a')
      const a = await startAgent(configOfA(servers, [{ node: mesh.node('lab-c') }]), { logger: captured.logger })
      cleanups.push(async () => await a.stop())
      await a.documents.putMany(clientDocs(30))
      const before = await storeDigest(agentInternals(a).store)
      await waitFor(() => [...servers.values()].every((s) => s.sessions.length >= perServer), { what: `${perServer} sessions against each hostile remote`, timeout: 60_000, interval: 100 })
      // the replicator logs every end: with the error, or (a clean close by the remote) with the reason
      const ended = (peer: string): number => captured.lines.filter((l) => l.peer === peer && (l.msg === 'pull session ended with an error' || (l.msg === 'pull session ended' && l.reason === 'closed'))).length
      await waitFor(() => HOSTILE.every((d) => ended(d) >= servers.get(d)!.sessions.length), { what: 'every session logged as ended with an error' })
      const all = [...servers.values()].flatMap((s) => s.sessions)
      console.log(`fuzz-pull (agent): ${all.reduce((n, s) => n + s.frames, 0)} frames in ${all.length} sessions; kinds ${summary(all)}`)
      checkServed(all)
      // status shows the failure (a new session clears it while it runs, the next failure sets it again)
      await waitFor(() => HOSTILE.every((d) => a.peerStatus(d).lastError !== undefined), { what: 'every hostile remote shown with its last error' })
      expect(captured.lines.filter((l) => (l.level as number) >= 50), 'errors logged').toEqual([])
      expect(a.state).toBe('started')
      expect(await storeDigest(agentInternals(a).store)).toBe(before)
      // meanwhile the agent goes on serving an honest peer
      const c = await startAgent(meshConfig(mesh.node('lab-c'), [{ node: mesh.node('lab-a'), pull: true }]))
      cleanups.push(async () => await c.stop())
      await a.documents.put({ uid: 'after', type: 'Client', id: 'after', data: {} })
      await waitFor(() => c.status().objects === 31, { what: 'C pulls from A while A is under attack' })
    })
  }, 120_000)
})
