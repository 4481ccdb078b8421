/**
 * One object — its version and conflict siblings — must fit in one protocol
 * frame, or no peer could ever pull it: local writes stop at
 * MAX_LOCAL_OBJECT_BYTES, stores at MAX_OBJECT_BYTES, and serving never
 * builds a frame over MAX_FRAME_BYTES. Real agents over libp2p on
 * 127.0.0.1, real LevelDB.
 */
import { join } from 'node:path'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { ObjectTooLargeError } from '../../protocol/errors.js'
import { loadIdentityKey } from '../../agent/net/identity.js'
import { encodeFrame } from '../../protocol/codec.js'
import { MAX_FRAME_BYTES, MAX_LOCAL_OBJECT_BYTES, MAX_OBJECT_BYTES, PROTOCOL_VERSION } from '../../protocol/constants.js'
import type { WireObject } from '../../protocol/object.js'
import { adminCall, adminRequest } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'
import { createRawPeer } from '../helpers/raw-peer.js'
import { frameReader, getAll, handshake } from '../helpers/wire-client.js'

/** data whose object, as a first local write at `domain` makes it, takes exactly `bytes` of wire JSON */
function dataOfSize (uid: string, domain: string, bytes: number): Record<string, unknown> {
  // `at` is a 13-digit time for the next 250 years; key order does not change the length; a version
  // written alone is signed as a group of one: domain, Ed25519 peer ID (52), content hash, signature
  const sig = { by: domain, peer: 'p'.repeat(52), h: 'h'.repeat(43), sig: 's'.repeat(86) }
  const empty = JSON.stringify({ uid, type: 'Attachment', id: uid, parent: null, refs: [], data: { filler: '' }, vector: { [domain]: 1 }, origin: domain, deleted: false, at: 1_700_000_000_000, sig })
  return { filler: 'x'.repeat(bytes - empty.length) }
}

const dataOf = (chars: number): Record<string, unknown> => ({ filler: 'x'.repeat(chars) })

describe('object size limit', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c'])

  it('the document API writes an object of exactly the limit and refuses one byte more with 413, writing nothing (PUT and bulk POST)', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: B }], { http: { listen: `127.0.0.1:${A.httpPort}`, maxBodyBytes: 16 * 1024 * 1024 } }))
    const request = async (method: string, path: string, body: unknown): Promise<{ status: number, json: Record<string, unknown> }> => await adminCall(a, method, path, { body })
    const put = async (uid: string, data: Record<string, unknown>): Promise<{ status: number, json: Record<string, unknown> }> =>
      await request('PUT', `/api/objects/${uid}`, { type: 'Attachment', id: uid, data })

    expect(MAX_LOCAL_OBJECT_BYTES).toBeLessThan(MAX_OBJECT_BYTES)
    expect(MAX_OBJECT_BYTES).toBeLessThan(MAX_FRAME_BYTES)
    const fits = await put('edge-fit', dataOfSize('edge-fit', 'lab-a', MAX_LOCAL_OBJECT_BYTES))
    expect(fits.status).toBe(201)
    const head = a.status().feedHead

    const refused = await put('edge-big', dataOfSize('edge-big', 'lab-a', MAX_LOCAL_OBJECT_BYTES + 1))
    expect(refused.status).toBe(413)
    expect(refused.json).toMatchObject({ error: 'OBJECT_TOO_LARGE', details: { uid: 'edge-big', bytes: MAX_LOCAL_OBJECT_BYTES + 1, limit: MAX_LOCAL_OBJECT_BYTES } })
    expect(String(refused.json.message)).toBe(`object edge-big would take ${MAX_LOCAL_OBJECT_BYTES + 1} bytes as JSON (its conflict siblings included), over the ${MAX_LOCAL_OBJECT_BYTES}-byte limit for one object (every object must travel whole in one ${MAX_FRAME_BYTES}-byte protocol frame); nothing was written: make its data smaller (keep large files outside labmesh and reference them), or resolve its conflicts first`)
    expect(await a.documents.get('edge-big')).toBeUndefined()

    // multi-byte text counts in bytes: 3 MiB of '€' is 9 MiB of UTF-8
    expect((await put('euros', { filler: '€'.repeat(3 * 1024 * 1024) })).status).toBe(413)
    // an update over the limit leaves the object as it was
    expect((await put('edge-fit', { ...dataOfSize('edge-fit', 'lab-a', MAX_LOCAL_OBJECT_BYTES), more: 1 })).status).toBe(413)
    expect((await a.documents.get('edge-fit'))?.vector).toEqual({ 'lab-a': 1 })

    // bulk: all or nothing
    const bulk = await request('POST', '/api/objects', { items: [{ uid: 'small', type: 'Client', id: 'small', data: { n: 1 } }, { uid: 'bulk-big', type: 'Attachment', id: 'bulk-big', data: dataOf(MAX_LOCAL_OBJECT_BYTES) }] })
    expect(bulk.status).toBe(413)
    expect(bulk.json).toMatchObject({ error: 'OBJECT_TOO_LARGE', details: { uid: 'bulk-big', limit: MAX_LOCAL_OBJECT_BYTES } })
    expect(await a.documents.get('small')).toBeUndefined()
    expect(a.status().feedHead).toBe(head)

    // the body cap answers first when it is the smaller one, and says so
    const capped = await mesh.start(meshConfig(B, [{ node: A }]))
    const tooLong = await adminRequest(capped, 'PUT', '/api/objects/x', { body: { type: 'T', id: 'x', data: dataOf(5 * 1024 * 1024) } })
    expect(tooLong.status).toBe(413)
    expect(((await tooLong.json()) as { message: string }).message).toMatch(/^request body larger than 4194304 bytes \(http\.maxBodyBytes\): .*raise http\.maxBodyBytes; one object may take up to 8257536 bytes/)
  }, 60_000)

  it('local writes of connectors and conflict resolutions are refused with ObjectTooLargeError, writing nothing', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    const head = a.status().feedHead
    const write = a.documents.putMany([
      { uid: 'ok', type: 'Client', id: 'ok', data: { n: 1 } },
      { uid: 'big', type: 'Attachment', id: 'big', data: dataOf(MAX_LOCAL_OBJECT_BYTES) }
    ])
    await expect(write).rejects.toBeInstanceOf(ObjectTooLargeError)
    await expect(write).rejects.toMatchObject({ code: 'OBJECT_TOO_LARGE', uid: 'big', limit: MAX_LOCAL_OBJECT_BYTES })
    expect(a.status().feedHead).toBe(head)
    expect(await a.documents.get('ok')).toBeUndefined()

    // a conflict held here, resolved with data over the limit
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await b.documents.put({ uid: 'doc', type: 'Client', id: 'doc', data: { side: 'b' } })
    await a.documents.put({ uid: 'doc', type: 'Client', id: 'doc', data: { side: 'a' } })
    await waitFor(async () => ((await b.documents.get('doc'))?.conflicts.length ?? 0) > 0, { what: 'the conflict at B' })
    await expect(b.conflicts.resolve('doc', { data: dataOf(MAX_LOCAL_OBJECT_BYTES) })).rejects.toMatchObject({ code: 'OBJECT_TOO_LARGE', uid: 'doc' })
    expect((await b.documents.get('doc'))?.conflicts.length).toBe(1)
  }, 60_000)

  it('an object of the largest size a local write may make replicates, through a prefix rule and on through a relay', async () => {
    const [A, B, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c')]
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    const written = await a.documents.put({ uid: 'largest', type: 'Attachment', id: 'largest', data: dataOfSize('largest', 'lab-a', MAX_LOCAL_OBJECT_BYTES) })
    await a.documents.putMany(Array.from({ length: 20 }, (_, i) => ({ uid: `s-${i}`, type: 'Sample', id: `S-${i}`, data: { i } })))
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true, extra: { prefix: 'LAB-A', types: { prefixable: ['Attachment'] } } }, { node: C }]))
    const c = await mesh.start(meshConfig(C, [{ node: B, pull: true }]))

    for (const agent of [b, c]) {
      const held = await waitFor(async () => await agent.documents.get('largest'), { what: `${agent.config.domain} holds it`, timeout: 30_000 })
      expect(held.data.filler).toBe(written.data.filler)
      expect(held.id).toBe('LAB-A-largest')
      await waitFor(async () => await agent.documents.get('s-19'), { what: `${agent.config.domain} holds the rest` })
      expect(await agent.failed.list({ limit: 1000 })).toEqual([])
    }
    // B stores it with more bytes than A did (its own via, viaEpoch, the prefixed id): the headroom at work
    const sizeAt = async (agent: Agent): Promise<number> => Buffer.byteLength(JSON.stringify(await agent.documents.get('largest')))
    expect(await sizeAt(b)).toBeGreaterThan(await sizeAt(a))
    expect(await sizeAt(b)).toBeLessThanOrEqual(MAX_OBJECT_BYTES)
  }, 90_000)

  it('a conflict whose two versions together exceed the limit is parked as OBJECT_TOO_LARGE; the rest of the batch applies', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const half = Math.ceil(MAX_OBJECT_BYTES / 2) + 1024
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    await a.documents.putMany([
      { uid: 'report', type: 'Attachment', id: 'report', data: dataOf(half) },
      ...Array.from({ length: 20 }, (_, i) => ({ uid: `s-${i}`, type: 'Sample', id: `S-${i}`, data: { i } }))
    ])
    // B made its own, concurrent "report" before it ever pulled from A
    const bConfig = meshConfig(B, [{ node: A, pull: true }])
    let b = await mesh.start(meshConfig(B, [{ node: A }]))
    await b.documents.put({ uid: 'report', type: 'Attachment', id: 'report', data: { ...dataOf(half), mine: true } })
    await mesh.stop(b)
    b = await mesh.start(bConfig)

    const parked = await waitFor(async () => (await b.failed.list({ limit: 1000 })).find((f) => f.uid === 'report'), { what: 'the conflict parked', timeout: 30_000 })
    expect(parked.code).toBe('OBJECT_TOO_LARGE')
    expect(parked.reason).toMatch(/would hold 2 concurrent versions .* over the \d+-byte limit/)
    await waitFor(async () => (await b.documents.get('s-19')) !== undefined, { what: 'the rest applied' })
    const report = await b.documents.get('report')
    expect(report?.data.mine).toBe(true)
    expect(report?.conflicts).toEqual([])
    const checkpoint = await agentInternals(b).store.getCheckpoint(a.peerId)
    expect(checkpoint?.seq).toBe(a.status().feedHead)
  }, 60_000)

  it('a record stored before the limit is not served: the rest replicates, what needs it is parked, the skip is counted and logged once', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const aConfig = meshConfig(A, [{ node: B }])
    let a = await mesh.start(aConfig)
    await a.documents.putMany([
      { uid: 's-1', type: 'Sample', id: 'S-1', data: { n: 1 } },
      { uid: 'huge', type: 'Attachment', id: 'huge', data: { n: 0 } },
      { uid: 's-2', type: 'Sample', id: 'S-2', data: { n: 2 } },
      { uid: 'child', type: 'Sample', id: 'child', parent: 'huge', data: { n: 3 } }
    ])
    const head = a.status().feedHead
    await mesh.stop(a)
    // what an agent without the limit could have stored: the record grown in place (same seq)
    const db = new Level<string, string>(join(A.dir, 'data', 'store'), { valueEncoding: 'utf8' })
    const record = JSON.parse(await db.get('!o!huge') as string) as { data: Record<string, unknown> }
    record.data = dataOf(MAX_OBJECT_BYTES)
    await db.put('!o!huge', JSON.stringify(record))
    await db.close()

    const captured = capturingLogger('lab-a')
    a = await mesh.start(aConfig, { logger: captured.logger })
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await waitFor(async () => (await agentInternals(b).store.getCheckpoint(a.peerId))?.seq === head, { what: 'B caught up', timeout: 30_000 })
    expect((await b.documents.get('s-2'))?.data).toEqual({ n: 2 })
    expect(await b.documents.get('huge')).toBeUndefined()
    const parked = await waitFor(async () => (await b.failed.list({ limit: 1000 })).find((f) => f.uid === 'child'), { what: 'child parked' })
    expect(parked.code).toBe('MISSING_DEPENDENCY')
    // skipped once in the pull, once more answering the get for child's parent
    expect(a.peerStatus('lab-b').skipped).toBe(2)

    // asked again (a retry of child gets its parent again): counted, not logged again
    await adminRequest(b, 'POST', '/api/failed/child/retry')
    await waitFor(() => a.peerStatus('lab-b').skipped === 3, { what: 'the third skip' })
    const warnings = captured.lines.filter((l) => l.uid === 'huge' && l.code === 'OBJECT_TOO_LARGE')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.msg).toMatch(/^object huge takes \d+ bytes as JSON, over the 8323072-byte limit .*make it smaller with a local edit/)
    expect(a.peerStatus('lab-b').lastError).toBeUndefined()
  }, 60_000)

  it('serving never builds a frame over the limit: a large object travels alone, and a get\'s long missing list gets its own frame', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    await a.documents.putMany(Array.from({ length: 10 }, (_, i) => ({ uid: `s-${i}`, type: 'Sample', id: `S-${i}`, data: { i } })))
    await a.documents.put({ uid: 'large', type: 'Attachment', id: 'large', data: dataOfSize('large', 'lab-a', MAX_LOCAL_OBJECT_BYTES) })
    await a.documents.putMany(Array.from({ length: 10 }, (_, i) => ({ uid: `t-${i}`, type: 'Sample', id: `T-${i}`, data: { i } })))

    // B's own key gets past A's gater; the reader refuses any frame over MAX_FRAME_BYTES
    const raw = await createRawPeer(await loadIdentityKey(join(B.dir, 'data', 'identity.key')))
    try {
      const stream = await raw.open(A.addr, A.peerId)
      const reader = frameReader(stream)
      await handshake(stream, reader, 'lab-b')
      stream.send(encodeFrame({ type: 'pull', v: PROTOCOL_VERSION, id: 1, since: 0, limit: 1000 }))
      const frames: WireObject[][] = []
      while (true) {
        const frame = await reader.next(15_000)
        if (frame === undefined) throw new Error('the pull was not answered')
        if (frame.type !== 'batch') continue
        frames.push(frame.changes as WireObject[])
        if (frame.last === true) break
      }
      expect(frames.flat()).toHaveLength(21)
      expect(frames.find((f) => f.some((o) => o.uid === 'large'))).toHaveLength(1)

      // 999 uids of 128 three-byte characters: ~380 KiB of `missing`, more than the large object leaves of a frame
      const absent = Array.from({ length: 999 }, (_, i) => '€'.repeat(120) + String(i).padStart(8, '0'))
      const answer = await getAll(stream, reader, ['large', ...absent])
      expect(answer.objects.map((o) => o.uid)).toEqual(['large'])
      expect(answer.missing).toHaveLength(999)
      expect(reader.ended).toBe(false)
      expect(await getAll(stream, reader, ['s-1'])).toMatchObject({ objects: [{ uid: 's-1' }], missing: [] })
    } finally {
      await raw.stop()
    }
  }, 60_000)
})
