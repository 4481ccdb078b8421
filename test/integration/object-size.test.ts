/**
 * One stored object — its version and conflict siblings — must fit in one
 * protocol frame (MAX_OBJECT_BYTES), or no peer could ever pull it. Real
 * agents over libp2p on 127.0.0.1, real LevelDB.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { writeDocument, writeDocuments } from '../../agent/local-writes.js'
import type { LoadedConfig } from '../../config/load.js'
import { MAX_FRAME_BYTES, MAX_OBJECT_BYTES } from '../../protocol/constants.js'
import { makeTempDir, meshConfig, prepareNodes, removeDir, startAgent, waitFor, type TestNode } from '../helpers/nodes.js'

/** data whose object JSON comes to about `bytes` */
const dataOf = (bytes: number): Record<string, unknown> => ({ blob: 'x'.repeat(bytes) })

describe('object size limit', () => {
  let root: string
  let nodes: Record<string, TestNode>
  const agents = new Set<Agent>()
  const run = async (config: LoadedConfig): Promise<Agent> => { const agent = await startAgent(config); agents.add(agent); return agent }

  beforeEach(async () => {
    root = await makeTempDir()
    nodes = await prepareNodes(['lab-a', 'lab-b'], root)
  })

  afterEach(async () => {
    await Promise.all([...agents].map(async (a) => await a.stop()))
    agents.clear()
    await removeDir(root)
  })

  it('the document API refuses an object over the limit with 413 and writes nothing; one just under it replicates', async () => {
    expect(MAX_OBJECT_BYTES).toBeLessThan(MAX_FRAME_BYTES)
    const { 'lab-a': A, 'lab-b': B } = nodes as Record<string, TestNode>
    const big = 16 * 1024 * 1024
    const a = await run(meshConfig(A!, [{ node: B! }], { http: { listen: `127.0.0.1:${A!.httpPort}`, maxBodyBytes: big } }))
    const b = await run(meshConfig(B!, [{ node: A!, pull: true }]))
    const put = async (uid: string, data: Record<string, unknown>): Promise<{ status: number, json: Record<string, unknown> }> => {
      const response = await a.app.request(`/api/objects/${uid}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token}` },
        body: JSON.stringify({ type: 'Attachment', id: uid, data })
      })
      return { status: response.status, json: await response.json() as Record<string, unknown> }
    }

    const head = a.store.info().head
    const refused = await put('too-big', dataOf(MAX_OBJECT_BYTES + 1))
    expect(refused.status).toBe(413)
    expect(refused.json.error).toBe('OBJECT_TOO_LARGE')
    expect(String(refused.json.message)).toMatch(/object too-big would take \d+ bytes .* over the \d+-byte limit .*make its data smaller/)
    expect(a.store.info().head).toBe(head)
    expect(await a.store.getObject('too-big')).toBeUndefined()

    // multi-byte text counts in bytes: 3 MiB of '€' is 9 MiB of UTF-8
    const euros = await put('euros', { blob: '€'.repeat(3 * 1024 * 1024) })
    expect(euros.status).toBe(413)

    const fits = await put('just-fits', dataOf(MAX_OBJECT_BYTES - 4096))
    expect(fits.status).toBe(201)
    await writeDocument(a.local, { uid: 'small', type: 'Client', id: 'small', data: { n: 1 } })
    await waitFor(async () => await b.store.getObject('small'), { what: 'B catches up', timeout: 30_000 })
    expect(((await b.store.getObject('just-fits'))?.data.blob as string).length).toBe(MAX_OBJECT_BYTES - 4096)
  }, 60_000)

  it('a conflict whose two versions together exceed the limit is parked as OBJECT_TOO_LARGE; the rest of the batch applies', async () => {
    const { 'lab-a': A, 'lab-b': B } = nodes as Record<string, TestNode>
    const half = Math.ceil(MAX_OBJECT_BYTES / 2) + 1024
    const a = await run(meshConfig(A!, [{ node: B! }]))
    await writeDocuments(a.local, [
      { uid: 'report', type: 'Attachment', id: 'report', data: dataOf(half) },
      ...Array.from({ length: 20 }, (_, i) => ({ uid: `s-${i}`, type: 'Sample', id: `S-${i}`, data: { i } }))
    ])
    // B made its own, concurrent "report" before it ever pulled from A
    const bConfig = meshConfig(B!, [{ node: A!, pull: true }])
    let b = await run(meshConfig(B!, [{ node: A! }]))
    await writeDocument(b.local, { uid: 'report', type: 'Attachment', id: 'report', data: { ...dataOf(half), mine: true } })
    await b.stop()
    agents.delete(b)
    b = await run(bConfig)

    const parked = await waitFor(async () => (await b.store.listFailed()).find((f) => f.uid === 'report'), { what: 'the conflict parked', timeout: 30_000 })
    expect(parked.code).toBe('OBJECT_TOO_LARGE')
    expect(parked.reason).toMatch(/over the \d+-byte limit/)
    await waitFor(async () => (await b.store.getObject('s-19')) !== undefined, { what: 'the rest applied' })
    const report = await b.store.getObject('report')
    expect(report?.data.mine).toBe(true)
    expect(report?.conflicts).toEqual([])
    const checkpoint = await b.store.getCheckpoint(a.peerId)
    expect(checkpoint?.seq).toBe(a.store.info().head)
  }, 60_000)
})
