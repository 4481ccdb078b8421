/**
 * The edges of blobs: the document API refuses a malformed reference, a
 * reference to a blob that is not here and a wrong size, writing nothing;
 * uploads are capped by http.maxBlobBytes (not http.maxBodyBytes) and need
 * the token; the blob protocol serves a blob only to a peer that may see an
 * object referencing it, and closes a stream that breaks the protocol with
 * an error frame and a log line, the agent carrying on.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadIdentityKey } from '../../agent/net/identity.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { blobFrameDecoder, encodeBlobData } from '../../protocol/blob-codec.js'
import { BLOB_PROTOCOL_ID, BLOB_PROTOCOL_VERSION, BLOB_WINDOW_BYTES } from '../../protocol/blob-constants.js'
import { encodeFrame } from '../../protocol/codec.js'
import { adminCall, adminRequest } from '../helpers/admin.js'
import { blobFiles, blobRef, putBlob, seededBytes } from '../helpers/blobs.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'
import { createRawPeer } from '../helpers/raw-peer.js'
import { storeDigest } from '../helpers/store-audit.js'
import { frameReader } from '../helpers/wire-client.js'

describe('blob edges', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-blob-api-' })

  it('the document API refuses bad, missing and mis-sized references and oversized uploads, writing nothing', async () => {
    const A = mesh.node('lab-a')
    const a = await mesh.start(meshConfig(A, [], { http: { listen: `127.0.0.1:${A.httpPort}`, maxBlobBytes: 1024 * 1024, publicStatus: true } }))
    const bytes = seededBytes(5000, 'edges')
    const { json } = await putBlob(a, bytes)
    const before = await storeDigest(agentInternals(a).store)
    const put = async (data: Record<string, unknown>): Promise<{ status: number, json: Record<string, unknown> }> =>
      await adminCall(a, 'PUT', '/api/objects/x-1', { body: { type: 'Attachment', id: 'X', data } })

    const bad = await put({ file: { blob: 'sha256:nothex', size: 1 } })
    expect(bad.status).toBe(400)
    expect(bad.json.message).toMatch(/invalid blob reference: blob must be "sha256:" followed by 64 lowercase hex digits/)
    const missing = await put({ file: blobRef(`sha256:${'1'.repeat(64)}`, 10) })
    expect(missing).toMatchObject({ status: 409, json: { error: 'BLOB_MISSING', details: { missing: [`sha256:${'1'.repeat(64)}`] } } })
    expect(missing.json.message).toMatch(/upload it first \(PUT \/api\/blobs/)
    const wrongSize = await put({ file: blobRef(json.hash, 4999) })
    expect(wrongSize.status).toBe(400)
    expect(wrongSize.json.message).toMatch(/has 5000 bytes/)
    // a bulk write with one bad reference writes none of its objects
    const bulk = await adminCall(a, 'POST', '/api/objects', { body: { items: [{ uid: 'ok', type: 'T', id: 'ok', data: { file: blobRef(json.hash, 5000) } }, { uid: 'no', type: 'T', id: 'no', data: { file: blobRef(`sha256:${'2'.repeat(64)}`, 1) } }] } })
    expect(bulk.status).toBe(409)
    expect(await storeDigest(agentInternals(a).store)).toBe(before)

    const tooBig = await putBlob(a, seededBytes(1024 * 1024 + 1, 'big'))
    expect(tooBig.status).toBe(413)
    expect(tooBig.json).toMatchObject({ error: 'BLOB_TOO_LARGE' })
    expect(await blobFiles(a.config.paths.dataDir)).toEqual([json.hash])
    expect(await readdir(join(a.config.paths.dataDir, 'blobs', 'tmp'))).toEqual([])
    // larger than http.maxBodyBytes (4 MiB) would not matter: blobs have their own cap
    // the token is needed even with publicStatus, for reads too
    expect((await adminRequest(a, 'GET', `/api/blobs/${json.hash}`, { token: null })).status).toBe(401)
    expect((await adminRequest(a, 'PUT', '/api/blobs', { token: null, body: 'x' })).status).toBe(401)
    expect((await adminRequest(a, 'GET', '/api/blobs/not-a-hash')).status).toBe(400)
    expect((await adminRequest(a, 'GET', `/api/blobs/sha256:${'3'.repeat(64)}`)).status).toBe(404)
    const ok = await put({ file: blobRef(json.hash, 5000) })
    expect(ok.status).toBe(201)
  })

  it('serves a blob only to a peer that may see an object referencing it; a stream that breaks the protocol is closed and logged', async () => {
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    const captured = capturingLogger('lab-a')
    // B may pull only Clients from A
    const a = await mesh.start(meshConfig(A, [{ node: B, extra: { serve: { types: { only: ['Client'] } } } }]), { logger: captured.logger })
    const served = await putBlob(a, seededBytes(70_000, 'served'))
    const hidden = await putBlob(a, seededBytes(1000, 'hidden'))
    const loose = await putBlob(a, seededBytes(1000, 'loose'))
    const big = await putBlob(a, seededBytes(BLOB_WINDOW_BYTES + 1_000_000, 'big'))
    await a.documents.putMany([
      { uid: 'c-1', type: 'Client', id: 'C', data: { logo: blobRef(served.json.hash, 70_000) } },
      { uid: 'c-2', type: 'Client', id: 'C2', data: { scan: blobRef(big.json.hash, BLOB_WINDOW_BYTES + 1_000_000) } },
      { uid: 's-1', type: 'Sample', id: 'S', data: { scan: blobRef(hidden.json.hash, 1000) } }
    ])
    const raw = await createRawPeer(await loadIdentityKey(join(B.dir, 'data', 'identity.key')))
    try {
      const ask = async (hash: string): Promise<Array<Record<string, unknown>>> => {
        const stream = await raw.open(A.addr, A.peerId, BLOB_PROTOCOL_ID)
        const reader = frameReader(stream, blobFrameDecoder())
        stream.send(encodeFrame({ type: 'get', v: BLOB_PROTOCOL_VERSION, hash, offset: 65_536 }))
        stream.send(encodeFrame({ type: 'credit', v: BLOB_PROTOCOL_VERSION, bytes: BLOB_WINDOW_BYTES }))
        const frames = []
        for (let f = await reader.next(); f !== undefined; f = await reader.next()) frames.push(f)
        await stream.close().catch(() => {})
        return frames
      }
      const got = await ask(served.json.hash)
      expect(got[0]).toEqual({ type: 'info', v: 1, hash: served.json.hash, size: 70_000 })
      expect(got.slice(1).reduce((n, f) => n + (f.bytes as { byteLength: number }).byteLength, 0)).toBe(70_000 - 65_536)
      expect(got[1]).toMatchObject({ type: 'data', offset: 65_536 })
      for (const hash of [hidden.json.hash, loose.json.hash, `sha256:${'9'.repeat(64)}`]) {
        expect(await ask(hash), hash).toEqual([expect.objectContaining({ type: 'error', code: 'BLOB_NOT_SERVED' })])
      }

      // a client that sends data, or grants more than a window, in the middle of a transfer: closed with an error frame, logged
      for (const breach of [encodeBlobData(0, new Uint8Array(10)), encodeFrame({ type: 'credit', v: BLOB_PROTOCOL_VERSION, bytes: 1 })]) {
        const stream = await raw.open(A.addr, A.peerId, BLOB_PROTOCOL_ID)
        const reader = frameReader(stream, blobFrameDecoder())
        stream.send(encodeFrame({ type: 'get', v: BLOB_PROTOCOL_VERSION, hash: big.json.hash, offset: 0 }))
        stream.send(encodeFrame({ type: 'credit', v: BLOB_PROTOCOL_VERSION, bytes: BLOB_WINDOW_BYTES }))
        stream.send(breach)
        const frames = []
        for (let f = await reader.next(); f !== undefined; f = await reader.next()) frames.push(f)
        expect(frames.at(-1)).toMatchObject({ type: 'error', code: 'PROTOCOL_ERROR' })
      }
      await waitFor(() => captured.lines.filter((l) => l.msg === 'closing blob stream: bad message from peer' && l.peer === 'lab-b').length >= 2, { what: 'two refusals logged with the peer' })
    } finally {
      await raw.stop()
    }
    // the agent carries on: a real B still gets what it may
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    await waitFor(async () => (await b.documents.get('c-1')) !== undefined, { what: 'c-1 on B' })
    await waitFor(async () => (await b.documents.get('c-2')) !== undefined, { what: 'c-2 on B' })
    expect(await blobFiles(b.config.paths.dataDir)).toEqual([served.json.hash, big.json.hash].sort())
    expect(await b.documents.get('s-1')).toBeUndefined()
  })
})
