/**
 * Hostile compressed frames against a running agent, from real malicious
 * peers (bare libp2p nodes with allowed keys): a zip bomb — a few hundred
 * bytes announcing 4 KiB that inflate to 64 MiB — sent by a remote the agent
 * pulls from, and by a peer pulling from the agent; and a compressed frame
 * on a session that agreed on no codec. Each closes its session with a coded
 * error frame and a logged reason; the agent keeps running, its store
 * unchanged, and still syncs with an honest peer.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { loadIdentityKey } from '../../agent/net/identity.js'
import { PROTOCOL_ID_V2, PROTOCOL_VERSION_2 } from '../../protocol/constants.js'
import { clientDocs } from '../helpers/documents.js'
import { jsonFrame } from '../helpers/fuzz-frames.js'
import { zipBombFrame } from '../helpers/fuzz-frames-v2.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor, type TestNode } from '../helpers/nodes.js'
import { createRawPeer, type RawPeer } from '../helpers/raw-peer.js'
import { storeDigest } from '../helpers/store-audit.js'
import { frameReader, type FrameReader } from '../helpers/wire-client.js'

/** every frame until the other side ends the stream */
async function rest (reader: FrameReader): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  for (let f = await reader.next(10_000); f !== undefined; f = await reader.next(10_000)) out.push(f)
  return out
}

describe('hostile compressed frames', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c', 'lab-h'], { prefix: 'labmesh-zipbomb-' })
  const raws: RawPeer[] = []
  afterEach(async () => {
    for (const r of raws.splice(0)) await r.stop()
  })
  const rawAs = async (node: TestNode): Promise<RawPeer> => {
    const raw = await createRawPeer(await loadIdentityKey(join(node.dir, 'data', 'identity.key')))
    raws.push(raw)
    return raw
  }
  /** A honest peer C pulls from A and gets what A holds */
  const stillServes = async (a: Agent): Promise<void> => {
    const c = await mesh.start(meshConfig(mesh.node('lab-c'), [{ node: mesh.node('lab-a'), pull: true }]))
    await a.documents.put({ uid: 'after', type: 'Client', id: 'after', data: {} })
    await waitFor(() => c.status().objects === a.status().objects, { what: 'C pulls everything from A after the attack' })
  }

  it('a remote the agent pulls from sends a zip bomb: refused before inflating past 4 KiB, coded, logged; the agent carries on', async () => {
    const evil = await rawAs(mesh.node('lab-h'))
    let offered: unknown
    let told: Array<Record<string, unknown>> = []
    let pullsSeen = 0
    await evil.node.handle(PROTOCOL_ID_V2, (stream) => {
      // the agent reconnects after each refusal, and stops at the end of the test: a session may end under us
      const send = (frame: Uint8Array): void => { if (stream.status === 'open' && stream.writeStatus === 'writable') stream.send(frame) }
      void (async () => {
        const reader = frameReader(stream)
        const hello = await reader.next()
        offered = hello?.codecs
        send(jsonFrame({ type: 'hello', v: PROTOCOL_VERSION_2, domain: 'lab-h', head: 10, count: 10, epoch: 'evil', codec: 'brotli' }))
        const pull = await reader.next()
        if (pull?.type === 'pull') pullsSeen++
        send(zipBombFrame())
        told = await rest(reader)
      })()
    })
    const H = { ...mesh.node('lab-h'), addr: evil.node.getMultiaddrs()[0]!.toString().replace(/\/p2p\/.*$/, '') }
    const captured = capturingLogger('lab-a')
    const a = await mesh.start(meshConfig(mesh.node('lab-a'), [{ node: H, pull: true }, { node: mesh.node('lab-c') }], { sync: { compression: 'brotli' } }), { logger: captured.logger })
    await a.documents.putMany(clientDocs(20))
    const before = await storeDigest(agentInternals(a).store)
    await waitFor(() => told.length > 0, { what: 'the agent answered the bomb with an error frame' })
    expect(offered).toEqual(expect.arrayContaining(['brotli']))
    expect(pullsSeen).toBeGreaterThan(0)
    expect(told.at(-1)).toMatchObject({ type: 'error', code: 'COMPRESSED_FRAME_INVALID' })
    await waitFor(() => captured.lines.some((l) => l.msg === 'closing pull session: bad message from peer' && /zip bomb/.test(String(l.err))), { what: 'the refusal logged' })
    await waitFor(() => /zip bomb/.test(a.peerStatus('lab-h').lastError ?? ''), { what: 'the peer shown with the refusal' })
    expect(captured.lines.filter((l) => (l.level as number) >= 50), 'errors logged').toEqual([])
    expect(a.state).toBe('started')
    expect(await storeDigest(agentInternals(a).store)).toBe(before)
    await stillServes(a)
  })

  it('a peer pulling from the agent sends a zip bomb, or a compressed frame without agreeing on a codec: each session closed with a coded error', async () => {
    const captured = capturingLogger('lab-a')
    const a = await mesh.start(meshConfig(mesh.node('lab-a'), [{ node: mesh.node('lab-b') }, { node: mesh.node('lab-c') }]), { logger: captured.logger })
    await a.documents.putMany(clientDocs(20))
    const before = await storeDigest(agentInternals(a).store)
    const evil = await rawAs(mesh.node('lab-b'))
    const A = mesh.node('lab-a')
    const session = async (codecs: string[] | undefined): Promise<{ hello: Record<string, unknown> | undefined, end: Array<Record<string, unknown>> }> => {
      const stream = await evil.open(A.addr, A.peerId, PROTOCOL_ID_V2)
      const reader = frameReader(stream)
      stream.send(jsonFrame({ type: 'hello', v: PROTOCOL_VERSION_2, domain: 'lab-b', head: 0, count: 0, epoch: 'evil', ...(codecs !== undefined ? { codecs } : {}) }))
      const hello = await reader.next()
      stream.send(zipBombFrame())
      return { hello, end: await rest(reader) }
    }
    // A's `auto` accepts what a puller offers (the puller knows its link)
    const bomb = await session(['lz4', 'brotli'])
    expect(bomb.hello).toMatchObject({ type: 'hello', codec: 'brotli' })
    expect(bomb.end.at(-1)).toMatchObject({ type: 'error', code: 'COMPRESSED_FRAME_INVALID' })
    const unagreed = await session(undefined)
    expect(unagreed.hello?.codec).toBeUndefined()
    expect(unagreed.end.at(-1)).toMatchObject({ type: 'error', code: 'PROTOCOL_ERROR', message: expect.stringMatching(/did not agree on frame compression/) })
    const refusals = captured.lines.filter((l) => l.msg === 'closing serve session: bad message from peer').map((l) => l.code)
    expect(refusals).toEqual(['COMPRESSED_FRAME_INVALID', 'PROTOCOL_ERROR'])
    expect(captured.lines.filter((l) => (l.level as number) >= 50), 'errors logged').toEqual([])
    expect(a.state).toBe('started')
    expect(await storeDigest(agentInternals(a).store)).toBe(before)
    await stillServes(a)
  })
})
