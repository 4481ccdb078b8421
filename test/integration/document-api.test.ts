import { beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { adminCall } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig } from '../helpers/nodes.js'

describe('embedded document API (app.request on a real agent)', () => {
  const mesh = useTestMesh(['lab-a'], { shared: true })
  let agent: Agent
  const call = async (method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number, json: Record<string, unknown> }> =>
    await adminCall(agent, method, path, { body, token })

  beforeAll(async () => {
    agent = await mesh.start(meshConfig(mesh.node('lab-a'), []))
  })

  it('creates, reads, updates and deletes, bumping this agent\'s vector entry', async () => {
    const created = await call('PUT', '/api/objects/c1', { type: 'Client', id: 'client-1', data: { name: 'Happy Hills' } })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({ uid: 'c1', type: 'Client', id: 'client-1', parent: null, refs: [], vector: { 'lab-a': 1 }, origin: 'lab-a', deleted: false })
    const updated = await call('PUT', '/api/objects/c1', { type: 'Client', id: 'client-1', parent: null, refs: ['x'], data: { name: 'Happy Hills Ltd' } })
    expect(updated.status).toBe(200)
    expect(updated.json.vector).toEqual({ 'lab-a': 2 })
    const read = await call('GET', '/api/objects/c1')
    expect(read.json).toMatchObject({ data: { name: 'Happy Hills Ltd' }, refs: ['x'] })
    const deleted = await call('DELETE', '/api/objects/c1')
    expect(deleted.json).toMatchObject({ deleted: true, vector: { 'lab-a': 3 }, data: {} })
    expect((await call('GET', '/api/objects/c1')).json.deleted).toBe(true)
    expect((await call('DELETE', '/api/objects/c1')).status).toBe(404)
    expect((await call('GET', '/api/objects/nope')).status).toBe(404)
  })

  it('lists by type in uid order, a page at a time', async () => {
    const bulk = await call('POST', '/api/objects', { items: Array.from({ length: 25 }, (_, i) => ({ uid: `s${String(i).padStart(3, '0')}`, type: 'AnalysisRequest', id: `W-${i}`, data: { i } })) })
    expect(bulk.json).toMatchObject({ written: 25 })
    await call('PUT', '/api/objects/zz-client', { type: 'Client', id: 'client-z', data: {} })
    const seen: string[] = []
    let after: string | null = null
    do {
      const page = await call('GET', `/api/objects?type=AnalysisRequest&limit=10${after !== null ? `&after=${after}` : ''}`)
      const items = page.json.items as Array<{ uid: string, type: string }>
      expect(items.length).toBeLessThanOrEqual(10)
      for (const item of items) { expect(item.type).toBe('AnalysisRequest'); seen.push(item.uid) }
      after = page.json.next as string | null
    } while (after !== null)
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `s${String(i).padStart(3, '0')}`))
    const all = await call('GET', '/api/objects?limit=1000')
    expect((all.json.items as unknown[]).length).toBe(27)
  })

  it('rejects bad input with 400 and writes nothing', async () => {
    const head = agent.status().feedHead
    for (const [body, why] of [
      ['{not json', 'not valid JSON'],
      [{ type: 'Client', id: 'x' }, 'data'],
      [{ type: 'Client', id: 'x', data: {}, surprise: 1 }, 'surprise'],
      [{ type: '', id: 'x', data: {} }, 'type'],
      [{ type: 'Client', id: 'x', data: [] }, 'data']
    ] as const) {
      const r = await call('PUT', '/api/objects/bad-1', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(String(r.json.message)).toContain(why)
    }
    expect((await call('PUT', '/api/objects/bad%20uid', { type: 'T', id: 'x', data: {} })).status).toBe(400)
    expect((await call('POST', '/api/objects', { items: [{ uid: 'ok-1', type: 'T', id: 'x', data: {} }, { uid: 'bad', type: 'T', data: {} }] })).status).toBe(400)
    expect(await agent.documents.get('ok-1')).toBeUndefined() // the bulk write is all or nothing
    const big = await call('PUT', '/api/objects/big', { type: 'T', id: 'x', data: { blob: 'x'.repeat(5 * 1024 * 1024) } })
    expect(big.status).toBe(413)
    expect(agent.status().feedHead).toBe(head)
  })

  it('needs the bearer token, reads included', async () => {
    expect((await call('GET', '/api/objects', undefined, null)).status).toBe(401)
    expect((await call('GET', '/api/status', undefined, 'wrong-token-wrong-token')).status).toBe(401)
    expect((await call('PUT', '/api/objects/x', { type: 'T', id: 'x', data: {} }, null)).status).toBe(401)
    const status = await call('GET', '/api/status')
    expect(status.json).toMatchObject({ domain: 'lab-a', peerId: agent.peerId, objects: 27, peers: [] })
  })
})
