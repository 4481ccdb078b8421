/**
 * Push (protocol 2): a server sends a live, caught-up puller each commit's
 * batch instead of notify → pull → batch. What must hold:
 * - exactness: every batch a puller applies starts where the one before it
 *   ended (no feed position skipped or applied twice), under concurrent
 *   writes, across a puller's restarts, and whatever mix of peers (push,
 *   version 2 without push, version 1) a server serves at once;
 * - back-pressure: a puller that does not acknowledge gets no more than the
 *   credit it granted; a pull takes the credit back;
 * - the puller refuses a push that does not continue what it received, and
 *   pulls instead.
 */
import { join } from 'node:path'
import type { Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { loadIdentityKey } from '../../agent/net/identity.js'
import type { AppliedBatch } from '../../agent/sync/pull-pipeline.js'
import { FramedStream } from '../../agent/sync/framed-stream.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { PROTOCOL_ID_V2, PUSH_CAPABILITY, PUSH_ID } from '../../protocol/constants.js'
import type { BatchMessage, ClientMessage, ServerMessage } from '../../protocol/messages.js'
import { clientDecoderFor, serverDecoderFor } from '../../protocol/session-decoders.js'
import type { DocumentInput } from '../../agent/apply/local-writes.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'
import { createRawPeer, type RawPeer } from '../helpers/raw-peer.js'

const doc = (uid: string, n = 0): DocumentInput => ({ uid, type: 'Client', id: uid, data: { n } })

/** Every batch an agent applied, by peer, in order. */
function batchLog (): { batches: Map<string, AppliedBatch[]>, received: Map<string, number>, hook: (peer: string, stats: { received: number }, batch: AppliedBatch) => void } {
  const batches = new Map<string, AppliedBatch[]>()
  const received = new Map<string, number>()
  return {
    batches,
    received,
    hook: (peer, stats, batch) => {
      batches.set(peer, [...(batches.get(peer) ?? []), batch])
      received.set(peer, (received.get(peer) ?? 0) + stats.received)
    }
  }
}

/** The batches form one chain from `start`: each starts where the one before ended. */
function expectChain (batches: readonly AppliedBatch[], start: number): void {
  let at = start
  for (const b of batches) {
    expect(b.from, `batch (${b.from}, ${b.lastSeq}] after ${at}`).toBe(at)
    expect(b.lastSeq).toBeGreaterThanOrEqual(b.from)
    at = b.lastSeq
  }
}

/** Write `count` new objects from two writers at once, one commit each. */
async function writeConcurrently (agent: Agent, prefix: string, count: number): Promise<void> {
  const writer = async (w: number): Promise<void> => {
    for (let i = w; i < count; i += 2) await agent.documents.put(doc(`${prefix}-${i}`, i))
  }
  await Promise.all([writer(0), writer(1)])
}

describe('push (protocol 2)', () => {
  const mesh = useTestMesh(['lab-m', 'lab-b', 'lab-c', 'lab-d'])
  let raw: RawPeer | undefined

  afterEach(async () => {
    await raw?.stop()
    raw = undefined
  })

  it('pushes exactly, under concurrent writes, to a push peer beside a version-2 peer without push and a version-1 peer', async () => {
    const [M, B, C, D] = [mesh.node('lab-m'), mesh.node('lab-b'), mesh.node('lab-c'), mesh.node('lab-d')]
    const m = await mesh.start(meshConfig(M, [{ node: B }, { node: C }, { node: D }]))
    await m.documents.putMany(Array.from({ length: 20 }, (_, i) => doc(`seed-${i}`)))
    const logs = { b: batchLog(), c: batchLog(), d: batchLog() }
    const b = await mesh.start(meshConfig(B, [{ node: M, pull: true }]), { events: { onBatchApplied: logs.b.hook } })
    const c = await mesh.start(meshConfig(C, [{ node: M, pull: true }]), { events: { onBatchApplied: logs.c.hook }, syncPush: false })
    const d = await mesh.start(meshConfig(D, [{ node: M, pull: true }]), { events: { onBatchApplied: logs.d.hook }, protocolVersions: [1] })
    await waitFor(() => [b, c, d].every((x) => x.status().objects === 20), { what: 'all three caught up with the seed' })

    await writeConcurrently(m, 'w', 120)
    const head = agentInternals(m).store.info().head
    await waitFor(() => [b, c, d].every((x) => x.peerStatus('lab-m').appliedSeq === head), { what: 'all three applied up to the head' })

    for (const [name, log] of Object.entries(logs)) {
      const batches = log.batches.get('lab-m') ?? []
      expectChain(batches, 0)
      // each object was written once, so its feed holds one entry per object: a repeat would count twice, a gap not at all
      expect(log.received.get('lab-m'), name).toBe(140)
    }
    expect(b.peerStatus('lab-m').pushedIn).toBeGreaterThan(0)
    expect(logs.b.batches.get('lab-m')!.some((x) => x.pushed)).toBe(true)
    expect(m.peerStatus('lab-b').pushedOut).toBeGreaterThan(0)
    for (const [x, peer] of [[c, 'lab-c'], [d, 'lab-d']] as const) {
      expect(x.peerStatus('lab-m').pushedIn).toBe(0)
      expect(m.peerStatus(peer).pushedOut).toBe(0)
    }
    const ids = async (x: Agent): Promise<string[]> => (await x.documents.list({ limit: 1000 })).items.map((o) => o.uid).sort()
    const expected = await ids(m)
    for (const x of [b, c, d]) expect(await ids(x)).toEqual(expected)
  })

  it('a puller restarted mid-push resumes from its checkpoint with a pull, and applies every position once', async () => {
    const [M, B] = [mesh.node('lab-m'), mesh.node('lab-b')]
    const m = await mesh.start(meshConfig(M, [{ node: B }]))
    const bConfig = meshConfig(B, [{ node: M, pull: true }])
    const runs: Array<{ log: ReturnType<typeof batchLog>, start: number }> = []
    let writing = true
    let written = 0
    // a steady stream of edits, one commit each
    const writer = (async () => {
      while (writing) {
        await m.documents.put(doc(`r-${written++}`))
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    for (let run = 0; run < 3; run++) {
      const log = batchLog()
      const b = await mesh.start(bConfig, { events: { onBatchApplied: log.hook } })
      const start = (await agentInternals(b).store.getCheckpoint(M.peerId))?.seq ?? 0
      runs.push({ log, start })
      // stop it while pushes are flowing
      await waitFor(() => b.peerStatus('lab-m').pushedIn >= 5, { what: `run ${run}: pushes arriving` })
      await mesh.stop(b)
    }
    writing = false
    await writer
    const log = batchLog()
    const b = await mesh.start(bConfig, { events: { onBatchApplied: log.hook } })
    runs.push({ log, start: (await agentInternals(b).store.getCheckpoint(M.peerId))?.seq ?? 0 })
    const head = agentInternals(m).store.info().head
    await waitFor(() => b.peerStatus('lab-m').appliedSeq === head, { what: 'caught up after the last restart' })
    let previousEnd = 0
    for (const [i, r] of runs.entries()) {
      const batches = r.log.batches.get('lab-m') ?? []
      // a run starts at its checkpoint, never before what the last one applied, and chains from there
      expect(r.start, `run ${i}`).toBeGreaterThanOrEqual(previousEnd)
      expectChain(batches, r.start)
      // a new session starts with a pull: its first batch is never a pushed one
      if (batches.length > 0) expect(batches[0]!.pushed, `run ${i}`).toBe(false)
      previousEnd = batches.at(-1)?.lastSeq ?? r.start
    }
    expect(b.status().objects).toBe(written)
  })

  it('pushes a hand-driven puller no more than its credit, each push continuing the last, until it acknowledges or pulls', async () => {
    const [M, B] = [mesh.node('lab-m'), mesh.node('lab-b')]
    const m = await mesh.start(meshConfig(M, [{ node: B }]))
    await m.documents.putMany(Array.from({ length: 10 }, (_, i) => doc(`s-${i}`)))
    raw = await createRawPeer(await loadIdentityKey(join(B.dir, 'data', 'identity.key')))
    const framed = new FramedStream<ServerMessage>(await raw.open(M.addr, M.peerId, PROTOCOL_ID_V2), serverDecoderFor(2), { version: 2, bodies: true })
    const messages = framed[Symbol.asyncIterator]()
    const next = async (): Promise<ServerMessage> => {
      const { value, done } = await messages.next()
      if (done === true) throw new Error('stream ended')
      return value
    }
    /** the frames of one answer */
    const answer = async (): Promise<BatchMessage[]> => {
      const frames: BatchMessage[] = []
      while (true) {
        const message = await next()
        if (message.type !== 'batch') throw new Error(`expected a batch, got ${message.type}`)
        frames.push(message)
        if (message.last) return frames
      }
    }
    await framed.send({ type: 'hello', v: 2, domain: 'lab-b', head: 0, count: 0, epoch: 'raw-epoch', caps: [PUSH_CAPABILITY] })
    const hello = await next()
    expect(hello).toMatchObject({ type: 'hello', caps: [PUSH_CAPABILITY] })

    await framed.send({ type: 'pull', v: 2, id: 1, since: 0, limit: 1000, push: 2 })
    const first = await answer()
    expect(first.at(-1)).toMatchObject({ more: false, remaining: 0 })
    let at = first.at(-1)!.lastSeq

    // two commits, each pushed as it lands (the credit is 2), each push continuing the last
    const pushes: BatchMessage[] = []
    for (let i = 0; i < 2; i++) {
      await m.documents.put(doc(`p-${i}`))
      pushes.push(...await answer())
    }
    for (const p of pushes) {
      expect(p).toMatchObject({ id: PUSH_ID, from: at })
      at = p.lastSeq
    }
    // three more: the credit is spent, so nothing is pushed until an ack
    for (let i = 2; i < 5; i++) await m.documents.put(doc(`p-${i}`))
    // an absence can only be waited for: nothing more may come while the credit is spent
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(m.peerStatus('lab-b').pushedOut).toBe(2)
    const head = agentInternals(m).store.info().head
    expect(at).toBeLessThan(head)

    await framed.send({ type: 'ack', v: 2, seq: at })
    const rest = await answer()
    expect(rest[0]).toMatchObject({ id: PUSH_ID, from: at })
    expect(rest.at(-1)).toMatchObject({ lastSeq: head, more: false })
    const uids = [...pushes, ...rest].flatMap((p) => p.changes.map((ch) => ch.uid)).sort()
    expect(uids).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4'])

    // a pull takes the credit back: answered as a pull (from where it asks), then pushes resume from its end
    await framed.send({ type: 'pull', v: 2, id: 2, since: pushes[0]!.lastSeq, limit: 1000, push: 1 })
    const again = await answer()
    expect(again.every((f) => f.id === 2 && f.from === undefined)).toBe(true)
    expect(again.at(-1)!.lastSeq).toBe(head)
    await m.documents.put(doc('after-pull'))
    const pushed = await answer()
    expect(pushed[0]).toMatchObject({ id: PUSH_ID, from: head })
    expect(pushed.flatMap((p) => p.changes.map((ch) => ch.uid))).toEqual(['after-pull'])
    await framed.close()
  })

  it('a puller drops a push that does not continue what it received, and pulls instead', async () => {
    const [M, B] = [mesh.node('lab-m'), mesh.node('lab-b')]
    // the raw node answers with lab-m's key at lab-m's address: B pulls from it as from M
    raw = await createRawPeer(await loadIdentityKey(join(M.dir, 'data', 'identity.key')), { listen: M.addr })
    const pulls: ClientMessage[] = []
    let serverSide: FramedStream<ClientMessage> | undefined
    const gotPull = (): Promise<ClientMessage> => waitFor(() => pulls.shift(), { what: 'a pull from B' })
    await raw.node.handle(PROTOCOL_ID_V2, async (stream: Stream) => {
      const framed = new FramedStream<ClientMessage>(stream, clientDecoderFor(2), { version: 2, bodies: true })
      serverSide = framed
      for await (const message of framed) {
        if (message.type === 'hello') await framed.sendJson(JSON.stringify({ type: 'hello', v: 2, domain: 'lab-m', head: 3, count: 3, epoch: 'raw-m', serves: 'x', caps: [PUSH_CAPABILITY] }))
        if (message.type === 'pull') pulls.push(message)
      }
    })
    const log = capturingLogger('lab-b')
    const bLog = batchLog()
    const b = await mesh.start(meshConfig(B, [{ node: M, pull: true }]), { logger: log.logger, events: { onBatchApplied: bLog.hook } })
    const batchText = (frame: Record<string, unknown>, uids: string[]): string => JSON.stringify({
      type: 'batch', v: 2, last: true, more: false, remaining: 0, ...frame,
      changes: uids.map((uid, i) => ({ uid, type: 'Client', id: uid, parent: null, refs: [], data: { i }, vector: { 'lab-m': 1 }, origin: 'lab-m', deleted: false, at: 1 }))
    })
    const first = await gotPull()
    expect(first).toMatchObject({ since: 0, push: expect.any(Number) as number })
    await serverSide!.sendJson(batchText({ id: (first as { id: number }).id, lastSeq: 3 }, ['a', 'b', 'c']))
    await waitFor(() => b.status().objects === 3, { what: 'the pulled batch applied' })
    // a push that skips position 4 (from 4, but B holds up to 3): refused, and B pulls from 3
    await serverSide!.sendJson(batchText({ id: PUSH_ID, from: 4, lastSeq: 5 }, ['skipped']))
    const second = await gotPull()
    expect(second).toMatchObject({ since: 3 })
    expect(log.lines.some((l) => String(l.msg).includes('does not follow'))).toBe(true)
    expect(await b.documents.get('skipped')).toBeUndefined()
    // the answer re-arms it; a push that continues exactly is taken
    await serverSide!.sendJson(batchText({ id: (second as { id: number }).id, lastSeq: 5 }, ['d']))
    await serverSide!.sendJson(batchText({ id: PUSH_ID, from: 5, lastSeq: 6 }, ['e']))
    await waitFor(async () => await b.documents.get('e'), { what: 'the exact push applied' })
    expectChain(bLog.batches.get('lab-m')!, 0)
    expect(bLog.batches.get('lab-m')!.map((x) => x.pushed)).toEqual([false, false, true])
    // pushes back to back (those queued together are applied as one batch): an object changed twice ends at its latest
    const version = (uid: string, n: number): Record<string, unknown> => ({ uid, type: 'Client', id: uid, parent: null, refs: [], data: { n }, vector: { 'lab-m': n }, origin: 'lab-m', deleted: false, at: n })
    const pushFrame = (from: number, uids: Array<Record<string, unknown>>): string => JSON.stringify({ type: 'batch', v: 2, id: PUSH_ID, from, lastSeq: from + 1, last: true, more: false, remaining: 0, changes: uids })
    await serverSide!.sendJson(pushFrame(6, [version('f', 1)]))
    await serverSide!.sendJson(pushFrame(7, [version('f', 2)]))
    await serverSide!.sendJson(pushFrame(8, [version('g', 1)]))
    await waitFor(() => b.peerStatus('lab-m').appliedSeq === 9, { what: 'the three pushes applied' })
    expect((await b.documents.get('f'))?.data).toEqual({ n: 2 })
    expect(await b.documents.get('g')).toBeDefined()
    expectChain(bLog.batches.get('lab-m')!, 0)
    expect(b.status().objects).toBe(7)
  })
})
