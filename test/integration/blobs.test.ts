/**
 * Blobs between agents, in process over real libp2p and LevelDB: a file
 * attached on A reaches B whole and byte-identical, stored once however
 * many objects reference it; bytes that do not match their hash are refused
 * with nothing visible and a log line naming the peer; an object whose
 * sender lacks the blob is parked MISSING_BLOB and applied when the blob
 * arrives; a cut transfer resumes where it stopped.
 */
import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import type { PeerReport } from '../../agent/observe/status.js'
import { BLOB_WINDOW_BYTES } from '../../protocol/blob-constants.js'
import { adminCall, authHeader } from '../helpers/admin.js'
import { blobFiles, blobPath, blobRef, putBlob, seededBytes, sha256Of } from '../helpers/blobs.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { createLinkProxy } from '../helpers/link-proxy.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'

const MiB = 1024 * 1024

async function peerOf (agent: Agent, name: string): Promise<PeerReport> {
  return (await adminCall<PeerReport>(agent, 'GET', `/api/peers/${name}`)).json
}

async function download (agent: Agent, hash: string, headers: Record<string, string> = {}): Promise<{ status: number, bytes: Buffer, headers: Headers }> {
  const response = await agent.request(`/api/blobs/${hash}`, { headers: { ...authHeader(agent), ...headers } })
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), headers: response.headers }
}

describe('blobs between agents', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-blobs-' })

  it('a file attached on A reaches B byte-identical, stored once for two objects, with ranges, HEAD and the reference index', async () => {
    const { a, b } = await mesh.startPair()
    const bytes = seededBytes(3 * MiB + 123, 'dedupe')
    const put = await putBlob(a, bytes)
    expect(put.status).toBe(201)
    expect(put.json).toMatchObject({ hash: sha256Of(bytes), size: bytes.length, created: true })
    // the same bytes again: the same blob, stored once
    expect((await putBlob(a, bytes)).json).toMatchObject({ hash: put.json.hash, created: false })
    const ref = blobRef(put.json.hash, bytes.length)
    await a.documents.putMany([
      { uid: 'att-1', type: 'Attachment', id: 'ATT-1', data: { file: ref } },
      { uid: 'att-2', type: 'Attachment', id: 'ATT-2', data: { files: [{ ...ref, name: 'copy.pdf' }], note: 'same file' } }
    ])
    await waitFor(async () => (await b.documents.get('att-1')) !== undefined && (await b.documents.get('att-2')) !== undefined, { what: 'both objects applied on B' })

    const got = await download(b, put.json.hash)
    expect(got.status).toBe(200)
    expect(got.bytes.equals(bytes)).toBe(true)
    expect(got.headers.get('etag')).toBe(`"${put.json.hash.slice(7)}"`)
    const range = await download(b, put.json.hash, { range: 'bytes=100-199' })
    expect(range.status).toBe(206)
    expect(range.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`)
    expect(range.bytes.equals(bytes.subarray(100, 200))).toBe(true)
    expect((await download(b, put.json.hash, { range: 'bytes=-10' })).bytes.equals(bytes.subarray(-10))).toBe(true)
    expect((await download(b, put.json.hash, { range: `bytes=${bytes.length}-` })).status).toBe(416)
    const head = await b.request(`/api/blobs/${put.json.hash}`, { method: 'HEAD', headers: authHeader(b) })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(bytes.length))

    // stored once on each side, fetched once over the wire
    expect(await blobFiles(a.config.paths.dataDir)).toEqual([put.json.hash])
    expect(await blobFiles(b.config.paths.dataDir)).toEqual([put.json.hash])
    expect((await peerOf(a, 'lab-b')).blobs).toMatchObject({ bytesServed: bytes.length, served: 1 })
    expect((await peerOf(b, 'lab-a')).blobs).toMatchObject({ fetched: 1, bytesFetched: bytes.length, refused: 0, transfers: [] })
    expect(await agentInternals(b).store.blobReferrers(put.json.hash)).toEqual(['att-1', 'att-2'])
    expect((await readdir(join(b.config.paths.dataDir, 'blobs', 'partial')))).toEqual([])
  })

  it('bytes that do not match their hash are refused: nothing visible on B, the object stays parked, a log line names the peer', async () => {
    const captured = capturingLogger('lab-b')
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    const bytes = seededBytes(MiB, 'tamper')
    const { json } = await putBlob(a, bytes)
    await a.documents.put({ uid: 'att-t', type: 'Attachment', id: 'T', data: { file: blobRef(json.hash, bytes.length) } })
    // A's copy goes bad on disk: A now serves bytes that are not what their hash says
    const bad = Buffer.from(bytes)
    bad.writeUInt8(bad.readUInt8(bad.length >> 1) ^ 0xff, bad.length >> 1)
    await writeFile(blobPath(a.config.paths.dataDir, json.hash), bad)

    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]), { logger: captured.logger })
    const refusal = await waitFor(() => captured.lines.find((l) => String(l.msg).startsWith(`refused blob ${json.hash} from peer lab-a`)), { what: 'the refusal in the log' })
    expect(refusal).toMatchObject({ level: 40, peer: 'lab-a', hash: json.hash, actual: sha256Of(bad) })
    expect((await download(b, json.hash)).status).toBe(404)
    expect(await blobFiles(b.config.paths.dataDir)).toEqual([])
    expect(await readdir(join(b.config.paths.dataDir, 'blobs', 'partial'))).toEqual([])
    expect(await b.documents.get('att-t')).toBeUndefined()
    expect(await agentInternals(b).store.getFailed('att-t')).toMatchObject({ code: 'MISSING_BLOB', peer: 'lab-a', missing: [json.hash] })
    expect((await peerOf(b, 'lab-a')).blobs.refused).toBe(1)
  })

  it('an object whose sender lacks its blob is parked MISSING_BLOB and applied once the blob arrives', async () => {
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    const bytes = seededBytes(600 * 1024, 'missing')
    const { json } = await putBlob(a, bytes)
    await a.documents.put({ uid: 'att-m', type: 'Attachment', id: 'M', data: { file: blobRef(json.hash, bytes.length) } })
    // A loses the file (it was written with the blob here; the file is gone since)
    await rm(blobPath(a.config.paths.dataDir, json.hash))

    const captured = capturingLogger('lab-b')
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]), { logger: captured.logger })
    const parked = await waitFor(async () => await agentInternals(b).store.getFailed('att-m'), { what: 'att-m parked on B' })
    expect(parked).toMatchObject({ code: 'MISSING_BLOB', missing: [json.hash], peer: 'lab-a' })
    expect(parked.reason).toContain('fetching it from peer lab-a')
    // B asked A, which does not have it
    await waitFor(() => captured.lines.some((l) => String(l.msg).startsWith(`peer lab-a cannot give blob ${json.hash}`)), { what: 'A\'s refusal seen by B' })
    expect(await b.documents.get('att-m')).toBeUndefined()

    // the blob arrives at A: B's next retry of the parked object fetches it from A and applies the object
    expect((await putBlob(a, bytes)).json.created).toBe(true)
    await waitFor(async () => (await b.documents.get('att-m')) !== undefined, { timeout: 30_000, what: 'att-m applied on B' })
    expect((await download(b, json.hash)).bytes.equals(bytes)).toBe(true)
    expect(await agentInternals(b).store.getFailed('att-m')).toBeUndefined()
    expect(await agentInternals(b).store.blobReferrers(json.hash)).toEqual(['att-m'])
  })

  it('a transfer cut mid-way resumes from what B has, re-fetching at most one window', async () => {
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    const proxy = await createLinkProxy(A.p2pPort)
    try {
      const a = await mesh.start(meshConfig(A, [{ node: B }]))
      const size = 24 * MiB
      const bytes = seededBytes(size, 'cut')
      const { json } = await putBlob(a, bytes)
      await a.documents.put({ uid: 'att-c', type: 'Attachment', id: 'C', data: { file: blobRef(json.hash, size) } })
      const b = await mesh.start(meshConfig(B, [{ node: A, pull: true, extra: { addrs: [proxy.addr] } }]))
      await waitFor(() => b.peerStatus('lab-a').blobs.transfers.some((t) => t.done >= size / 4), { interval: 1, what: 'a quarter of the blob on B' })
      proxy.cut()
      const cutAt = b.peerStatus('lab-a').blobs.transfers[0]?.done ?? 0
      expect(cutAt).toBeLessThan(size)
      proxy.heal()
      await waitFor(async () => (await b.documents.get('att-c')) !== undefined, { timeout: 30_000, what: 'att-c applied on B after the cut' })
      expect((await download(b, json.hash)).bytes.equals(bytes)).toBe(true)
      const served = a.peerStatus('lab-b').blobs.bytesServed
      expect(served - size, 'bytes sent twice').toBeLessThanOrEqual(BLOB_WINDOW_BYTES)
      expect(b.peerStatus('lab-a').blobs.bytesFetched).toBeLessThan(size)
    } finally {
      await mesh.stopAll()
      await proxy.close()
    }
  })
})
