/**
 * Protocol fuzzing, serving side: an allowed peer (B's real key, so it gets
 * past the gater) opens session after session to agent A and sends random,
 * mutated and hostile frames — garbage, truncated and oversized frames,
 * wrong types, breakers of every written limit, valid requests with hostile
 * values. A must never crash, must close every session with a logged reason,
 * must keep its store byte-for-byte the same, and must still serve others.
 * Every other session speaks protocol version 2, half of those with frame
 * compression agreed in the hello (clientSessionV2).
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { loadIdentityKey } from '../../agent/net/identity.js'
import { MAX_GET_UIDS, MAX_PULL_WINDOW, MAX_SEQ, MAX_UID_LENGTH, PROTOCOL_ID, PROTOCOL_ID_V2, PROTOCOL_VERSION } from '../../protocol/constants.js'
import {
  brokenMessage, garbageFrame, jsonFrame, mutatedFrame, nonObjectFrame, notJsonFrame, overlongVarint, oversizedPrefix,
  randomUid, RawJson, rawFrame, truncatedFrame, validHello
} from '../helpers/fuzz-frames.js'
import { asVersion2, compressedFrame, hostileCompressedFrame, version2Decoder } from '../helpers/fuzz-frames-v2.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'
import { createRawPeer, type RawPeer } from '../helpers/raw-peer.js'
import { frameReader } from '../helpers/wire-client.js'
import { forkRng, scaled, withSeed, type Rng } from '../helpers/seeded.js'
import { storeDigest } from '../helpers/store-audit.js'

const FILE = 'test/faults/fuzz-serve.test.ts'
const SESSION_TIMEOUT_MS = 10_000
/** one allowed identity per concurrent fuzzer, so that each logged reason can be traced to its session */
const FUZZERS = ['lab-b', 'lab-d', 'lab-e', 'lab-f']

interface Session {
  readonly kind: string
  readonly frames: readonly Uint8Array[]
}

/** Valid requests with hostile values: the agent must answer them and carry on. */
function hostileRequests (rng: Rng, knownUids: readonly string[]): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0, n = rng.int(scaled(12, 40)); i < n; i++) {
    const id = rng.int(2 ** 31)
    switch (rng.int(5)) {
      case 0: out.push(jsonFrame({ type: 'pull', v: PROTOCOL_VERSION, id, since: rng.pick([MAX_SEQ, MAX_SEQ - rng.int(1000), rng.int(1e15)]), limit: MAX_PULL_WINDOW })); break
      case 1: out.push(jsonFrame({ type: 'pull', v: PROTOCOL_VERSION, id, since: rng.int(40), limit: rng.pick([1, 7, MAX_PULL_WINDOW]) })); break
      case 2: out.push(jsonFrame({ type: 'get', v: PROTOCOL_VERSION, id, uids: Array.from({ length: rng.pick([1, 50, MAX_GET_UIDS]) }, () => randomUid(rng, rng.pick([1, MAX_UID_LENGTH]))) })); break
      case 3: out.push(jsonFrame({ type: 'get', v: PROTOCOL_VERSION, id, uids: Array.from({ length: 1 + rng.int(knownUids.length) }, () => rng.pick(knownUids)) })); break
      // unknown keys are dropped unread, however deep they nest
      default: out.push(jsonFrame({ type: 'pull', v: PROTOCOL_VERSION, id, since: 0, limit: 1, extra: new RawJson('['.repeat(20_000) + ']'.repeat(20_000)) }))
    }
  }
  return out
}

/** A session: what is sent before closing our side. Every kind ends in something the agent must refuse. */
function clientSession (rng: Rng, domain: string, knownUids: readonly string[]): Session {
  const hello = jsonFrame(validHello(rng, domain))
  const kind = rng.pick(['garbage', 'not-json', 'non-object', 'broken-hello', 'broken-request', 'server-message', 'before-hello',
    'hello-twice', 'oversized', 'overlong-varint', 'truncated', 'empty-frame', 'mutated', 'peer-error', 'hostile-then-garbage'])
  switch (kind) {
    case 'garbage': return { kind, frames: rng.chance(0.5) ? [garbageFrame(rng)] : [hello, garbageFrame(rng)] }
    case 'not-json': return { kind, frames: [hello, notJsonFrame(rng, domain)] }
    case 'non-object': return { kind, frames: rng.chance(0.5) ? [nonObjectFrame(rng)] : [hello, nonObjectFrame(rng)] }
    case 'broken-hello': return { kind, frames: [jsonFrame(brokenMessage(rng, 'hello', domain))] }
    case 'broken-request': return { kind, frames: [hello, ...hostileRequests(rng, knownUids), jsonFrame(brokenMessage(rng, rng.pick(['pull', 'get', 'error']), domain))] }
    case 'server-message': return { kind, frames: [hello, jsonFrame({ type: rng.pick(['batch', 'objects', 'notify']), v: PROTOCOL_VERSION, id: 1, head: 5, changes: [], objects: [], missing: [], lastSeq: 1, last: true, more: false, remaining: 0 })] }
    case 'before-hello': return { kind, frames: [jsonFrame(rng.chance(0.5) ? { type: 'pull', v: PROTOCOL_VERSION, id: 1, since: 0, limit: 10 } : { type: 'get', v: PROTOCOL_VERSION, id: 1, uids: ['a'] })] }
    case 'hello-twice': return { kind, frames: [hello, ...hostileRequests(rng, knownUids), hello] }
    case 'oversized': return { kind, frames: [...(rng.chance(0.5) ? [hello] : []), oversizedPrefix(rng)] }
    case 'overlong-varint': return { kind, frames: [hello, overlongVarint(rng)] }
    case 'truncated': return { kind, frames: [hello, truncatedFrame(rng, jsonFrame({ type: 'pull', v: PROTOCOL_VERSION, id: 3, since: 0, limit: 10 }))] }
    case 'empty-frame': return { kind, frames: [hello, rawFrame('')] }
    case 'mutated': return { kind, frames: [mutatedFrame(rng, rng.chance(0.5) ? hello : jsonFrame({ type: 'get', v: PROTOCOL_VERSION, id: 9, uids: [...knownUids.slice(0, 3)] })), garbageFrame(rng)] }
    case 'peer-error': return { kind, frames: [hello, jsonFrame({ type: 'error', v: PROTOCOL_VERSION, code: 'FUZZ', message: 'closing on purpose' })] }
    default: return { kind, frames: [hello, ...hostileRequests(rng, knownUids), garbageFrame(rng)] }
  }
}

/**
 * A version-2 session: the same kinds with `v: 2`, half of them offering
 * frame compression (then every frame after the hello goes compressed when
 * worth it, and the agent's answers come compressed); or a session ending
 * in a hostile compressed frame (a zip bomb, damaged, oversized, lying about
 * its size), or in a compressed frame although no codec was agreed.
 */
function clientSessionV2 (rng: Rng, domain: string, knownUids: readonly string[]): Session {
  const codecs = rng.chance(0.5) ? ['brotli'] : undefined
  const hello = asVersion2(jsonFrame(validHello(rng, domain)), codecs)
  const requests = (): Uint8Array[] => hostileRequests(rng, knownUids).map((f) => asVersion2(f))
  if (rng.chance(0.3)) {
    const honest = asVersion2(jsonFrame({ type: 'get', v: PROTOCOL_VERSION, id: 5, uids: [...knownUids] }))
    if (codecs === undefined) return { kind: 'v2 compressed-unagreed', frames: [hello, ...requests(), compressedFrame(honest, true)] }
    const hostile = hostileCompressedFrame(rng, honest)
    return { kind: `v2 ${hostile.kind}`, frames: [hello, ...requests().map((f) => compressedFrame(f)), hostile.frame] }
  }
  const base = clientSession(rng, domain, knownUids)
  const frames = base.frames.map((f) => asVersion2(f, codecs))
  return { kind: `v2${codecs !== undefined ? ' compressed' : ''} ${base.kind}`, frames: codecs !== undefined ? frames.map((f, i) => i > 0 ? compressedFrame(f) : f) : frames }
}

const REASONS = ['closing serve session: bad message from peer', 'peer closed the session with an error', 'serve session failed']

describe('protocol fuzzing: the serving side', () => {
  const mesh = useTestMesh(['lab-a', 'lab-c', ...FUZZERS], { prefix: 'labmesh-fuzz-serve-', shared: true })
  let a: Agent
  const raws = new Map<string, RawPeer>()
  const captured = capturingLogger('lab-a')

  beforeAll(async () => {
    a = await mesh.start(meshConfig(mesh.node('lab-a'), [...FUZZERS, 'lab-c'].map((d) => ({ node: mesh.node(d) }))), { logger: captured.logger })
    await a.documents.putMany(Array.from({ length: 60 }, (_, i) => ({ uid: `o-${i}`, type: i % 3 === 0 ? 'Method' : 'Client', id: `c-${i}`, refs: i > 0 ? [`o-${i - 1}`] : [], data: { i } })))
    for (const d of FUZZERS) raws.set(d, await createRawPeer(await loadIdentityKey(join(mesh.node(d).dir, 'data', 'identity.key'))))
  })
  afterAll(async () => {
    for (const r of raws.values()) await r.stop()
  })

  it('survives random, mutated and hostile frames: every session closed with a logged reason, the store unchanged', async () => {
    await withSeed('fuzz-serve', FILE, async (_rng, seed) => {
      const targetFrames = scaled(3_000, 100_000)
      const knownUids = Array.from({ length: 60 }, (_, i) => `o-${i}`)
      const before = await storeDigest(agentInternals(a).store)
      const byKind = new Map<string, number>()
      /** sessions closed without a logged reason, and without an error frame to the peer, by kind */
      const silent = new Map<string, number>()
      const untold = new Map<string, number>()
      let frames = 0
      let sessions = 0
      const started = performance.now()

      const reasonsOf = (peer: string): number => captured.lines.filter((l) => l.peer === peer && REASONS.includes(String(l.msg))).length
      const worker = async (peer: string): Promise<void> => {
        const raw = raws.get(peer)!
        const rng = forkRng(seed, peer)
        while (frames < targetFrames) {
          // every other session speaks version 2 (where batches are bulk frames and frames may be compressed)
          const v2 = sessions % 2 === 1
          const session = v2 ? clientSessionV2(rng, peer, knownUids) : clientSession(rng, peer, knownUids)
          frames += session.frames.length
          sessions++
          byKind.set(session.kind, (byKind.get(session.kind) ?? 0) + 1)
          const reasonsBefore = reasonsOf(peer)
          const stream = await raw.open(mesh.node('lab-a').addr, mesh.node('lab-a').peerId, v2 ? PROTOCOL_ID_V2 : PROTOCOL_ID)
          const reader = frameReader(stream, v2 ? version2Decoder() : undefined)
          for (const frame of session.frames) {
            if (stream.status !== 'open') break
            stream.send(frame)
          }
          if (stream.status === 'open') await stream.close().catch(() => {})
          let last: Record<string, unknown> | undefined
          for (let f = await reader.next(SESSION_TIMEOUT_MS); f !== undefined; f = await reader.next(SESSION_TIMEOUT_MS)) last = f
          expect(reader.ended, `${session.kind} session closed by the agent`).toBe(true)
          // the reason is logged before the stream closes, and told to the peer (but for its own error frame)
          if (reasonsOf(peer) !== reasonsBefore + 1) silent.set(session.kind, (silent.get(session.kind) ?? 0) + 1)
          if (!session.kind.endsWith('peer-error') && last?.type !== 'error') untold.set(session.kind, (untold.get(session.kind) ?? 0) + 1)
        }
      }
      await Promise.all(FUZZERS.map(async (peer) => { await worker(peer) }))
      const seconds = (performance.now() - started) / 1000

      console.log(`fuzz-serve: ${frames} frames in ${sessions} sessions, ${seconds.toFixed(1)} s (${Math.round(frames / seconds)} frames/s); kinds ${JSON.stringify(Object.fromEntries([...byKind].sort()))}`)
      expect(Object.fromEntries(silent), 'sessions closed without a logged reason').toEqual({})
      expect(Object.fromEntries(untold), 'sessions closed without an error frame').toEqual({})
      expect(captured.lines.filter((l) => (l.level as number) >= 50), 'errors logged').toEqual([])

      expect(a.state).toBe('started')
      expect(await storeDigest(agentInternals(a).store)).toBe(before)
      // and A still serves an honest peer
      const c = await mesh.start(meshConfig(mesh.node('lab-c'), [{ node: mesh.node('lab-a'), pull: true }]))
      try {
        await a.documents.put({ uid: 'after', type: 'Client', id: 'after', data: {} })
        await waitFor(() => c.status().objects === 61, { what: 'C pulls everything from A after the fuzzing' })
      } finally {
        await mesh.stop(c)
      }
    })
  }, scaled(120_000, 1_800_000))
})
