/**
 * Counts an admin can trust, on real agents over libp2p:
 * - every batch a serve session sends carries the exact number of feed
 *   entries after its lastSeq, also when the feed changes between windows;
 * - lag in objects both ways, and progress that says 100 % only when the
 *   head announced by hello or notify is applied;
 * - one log line per session start and end, and progress lines during a
 *   long pull.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { FramedStream } from '../../agent/sync/framed-stream.js'
import { loadIdentityKey } from '../../agent/net/identity.js'
import type { DocumentInput } from '../../agent/apply/local-writes.js'
import { PROTOCOL_VERSION } from '../../protocol/constants.js'
import { decodeServerMessage } from '../../protocol/decode.js'
import { type BatchMessage, type ServerMessage } from '../../protocol/messages.js'
import { adminRequest } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'
import { createRawPeer, type RawPeer } from '../helpers/raw-peer.js'

const doc = (n: number, rev = 0): DocumentInput => ({ uid: `u-${String(n).padStart(5, '0')}`, type: 'Client', id: `c-${n}`, data: { rev } })

describe('pending counts, lag and progress', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])
  let raw: RawPeer | undefined

  afterEach(async () => {
    await raw?.stop()
    raw = undefined
  })

  it('a serve session\'s remaining is exact at every batch boundary, also after the feed changed between windows', async () => {
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    const a = await mesh.start(meshConfig(A, [{ node: B }], { sync: { batchSize: 4, window: 1000 } }))
    await a.documents.putMany(Array.from({ length: 50 }, (_, i) => doc(i)))

    // a hand-driven puller with lab-b's key: we decide when each window is asked for
    raw = await createRawPeer(await loadIdentityKey(join(B.dir, 'data', 'identity.key')))
    const framed = new FramedStream<ServerMessage>(await raw.open(A.addr, A.peerId), decodeServerMessage)
    const messages = framed[Symbol.asyncIterator]()
    const next = async (type: ServerMessage['type']): Promise<ServerMessage> => {
      while (true) {
        const { value, done } = await messages.next()
        if (done === true) throw new Error('stream ended')
        if (value.type === type) return value
      }
    }
    await framed.send({ type: 'hello', v: PROTOCOL_VERSION, domain: 'lab-b', head: 0, count: 0, epoch: 'raw-epoch' })
    await next('hello')

    const received = new Set<string>()
    let id = 1
    let since = 0
    const window = async (limit: number): Promise<BatchMessage[]> => {
      await framed.send({ type: 'pull', v: PROTOCOL_VERSION, id: id++, since, limit })
      const batches: BatchMessage[] = []
      while (true) {
        const batch = await next('batch') as BatchMessage
        batches.push(batch)
        for (const c of batch.changes) received.add(c.uid)
        // nothing writes on A while we check: the count must equal a fresh count of A's feed
        expect(batch.remaining, `remaining after seq ${batch.lastSeq}`).toBe(await agentInternals(a).store.countFeed(batch.lastSeq))
        expect(batch.more).toBe(batch.remaining > 0)
        since = batch.lastSeq
        if (batch.last) return batches
      }
    }

    const first = await window(10)
    expect(first.length).toBe(3) // 4 + 4 + 2 objects
    expect(first.at(-1)!.remaining).toBe(40)
    await waitFor(() => a.peerStatus('lab-b').lagOut === 40, { what: 'lab-b 40 objects behind A' })

    // between windows: 3 objects not yet sent are edited (they move up the feed), 2 already sent are edited, 3 are new
    await a.documents.putMany([doc(30, 1), doc(31, 1), doc(32, 1), doc(0, 1), doc(1, 1), doc(50), doc(51), doc(52)])
    expect(await agentInternals(a).store.countFeed(since)).toBe(45)
    // A's view of lab-b follows its commits exactly, without a pull
    expect(a.peerStatus('lab-b').lagOut).toBe(45)

    const second = await window(10)
    expect(second[0]!.remaining).toBe(41)
    while (since < a.status().feedHead) await window(10)
    expect(received.size).toBe(53)
    await waitFor(() => a.peerStatus('lab-b').lagOut === 0, { what: 'lab-b caught up in A\'s view' })
  })

  it('lag both ways in objects, and progress below 100 % once a notify announces more, until it is pulled', async () => {
    // B pulls when asked (and once at session start), never on a notify
    const { a, b } = await mesh.startPair({ seed: Array.from({ length: 100 }, (_, i) => doc(i)), link: { autoSync: { interval: '1h', live: false } } })
    const peer = (): ReturnType<Agent['peerStatus']> => b.peerStatus('lab-a')
    await waitFor(() => peer().progress.caughtUp, { what: 'B caught up' })
    expect(peer()).toMatchObject({ lag: 0, lagIn: 0, pulled: 100, progress: { percent: 100, remaining: 0, done: 100, initial: true } })
    await waitFor(() => a.peerStatus('lab-b').lagOut === 0, { what: 'A sees B caught up' })

    // A gets 5 new objects and edits 2: B hears of it (notify) but does not pull
    const announced: number[] = []
    b.subscribe((e) => { if (e.type === 'progress' && e.peer === 'lab-a' && !e.progress.caughtUp) announced.push(e.progress.remaining) })
    await a.documents.putMany([...Array.from({ length: 5 }, (_, i) => doc(100 + i)), doc(3, 1), doc(4, 1)])
    await waitFor(() => !peer().progress.caughtUp, { what: 'B hears the notify' })
    expect(peer().progress.percent).toBeLessThan(100)
    expect(peer()).toMatchObject({ lagIn: 7, lag: 7, progress: { state: 'idle', remaining: 7 } })
    expect(a.peerStatus('lab-b')).toMatchObject({ lagOut: 7, lag: 7 })
    expect(b.status().objects).toBe(100)
    // the status page hears it too: a progress event, though no pull runs
    await waitFor(() => announced.includes(7), { what: 'a progress event for the announced head' })

    const progress = await b.syncNow('lab-a')
    expect(progress).toMatchObject({ percent: 100, caughtUp: true, done: 7, remaining: 0 })
    expect(peer()).toMatchObject({ lagIn: 0, pulled: 107 })
    await waitFor(() => a.peerStatus('lab-b').lagOut === 0, { what: 'A sees B caught up again' })
  })

  it('a batch that only parks objects still reaches the admin: failure event, per-peer count, metric', async () => {
    const { a, b } = await mesh.startPair()
    await waitFor(() => b.peerStatus('lab-a').progress.caughtUp, { what: 'B connected and caught up' })
    const events: string[] = []
    b.subscribe((e) => { if (e.type === 'failure') events.push(JSON.stringify(e)) })
    // a sample whose client exists nowhere: B parks it, and its feed does not change
    const head = b.status().feedHead
    await a.documents.putMany([{ uid: 'sample-1', type: 'AnalysisRequest', id: 'S-1', refs: ['client-nowhere'], data: {} }])
    await waitFor(() => events.length > 0, { what: 'a failure event' })
    expect(JSON.parse(events[0]!)).toEqual({ type: 'failure', parked: 1 })
    expect(b.status().feedHead).toBe(head)
    expect(b.peerStatus('lab-a')).toMatchObject({ failed: 1, lagIn: 0 })
    expect(await (await adminRequest(b, 'GET', '/metrics')).text()).toContain('labmesh_peer_failed{peer="lab-a"} 1')
  })

  it('logs one line per session start and end, and progress every few seconds of a long pull', async () => {
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    const logA = capturingLogger('lab-a')
    const logB = capturingLogger('lab-b')
    const a = await mesh.start(meshConfig(A, [{ node: B }], { log: { level: 'info' } }), { logger: logA.logger })
    await a.documents.putMany(Array.from({ length: 5000 }, (_, i) => doc(i)))
    // B's clock runs 200× fast, so a pull of a second or so spans minutes of its time
    const start = Date.now()
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }], { log: { level: 'info' }, sync: { batchSize: 100, window: 500 } }), {
      logger: logB.logger, now: () => start + (Date.now() - start) * 200
    })
    await waitFor(() => b.peerStatus('lab-a').progress.caughtUp, { what: 'B caught up', timeout: 30_000 })
    await mesh.stop(b)
    await waitFor(() => logA.lines.some((l) => l.msg === 'serve session ended'), { what: 'A logs the end of the serve session' })

    const msgs = (lines: Array<Record<string, unknown>>, text: string | RegExp): Array<Record<string, unknown>> =>
      lines.filter((l) => typeof l.msg === 'string' && (typeof text === 'string' ? l.msg === text : text.test(l.msg)))
    expect(msgs(logB.lines, 'pull session started')).toEqual([expect.objectContaining({ level: 30, peer: 'lab-a', since: 0, remoteHead: 5000 })])
    expect(msgs(logB.lines, 'pull session ended')).toEqual([expect.objectContaining({ peer: 'lab-a', reason: 'aborted', pulled: 5000 })])
    expect(msgs(logA.lines, 'serve session started')).toEqual([expect.objectContaining({ peer: 'lab-b', side: 'serve' })])
    expect(msgs(logA.lines, 'serve session ended')).toHaveLength(1)
    const progress = msgs(logB.lines, /^pulled [\d,]+ \/ 5,000 \(\d{1,2}%\), ETA \d/)
    expect(progress.length, 'progress lines during the pull').toBeGreaterThan(0)
    expect(progress.every((l) => l.level === 30)).toBe(true)
    expect(msgs(logB.lines, /^pull finished: pulled 5,000 \/ 5,000 \(100%\), ETA 0 s$/)).toHaveLength(1)
  })
})
