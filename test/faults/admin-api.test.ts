/**
 * The admin and document API under attack, over a real socket: every /api
 * route (and /metrics) answers 401 without a token, with a wrong one and with
 * every malformed Authorization header we could think of; oversized and
 * malformed bodies are refused with 400/413; and none of it writes anything
 * (the store digest is the same before and after).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { apiRoutes, authHeader } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig } from '../helpers/nodes.js'
import { storeDigest } from '../helpers/store-audit.js'

const MAX_BODY = 64 * 1024

describe('admin API: authentication and body validation over HTTP', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c'], { prefix: 'labmesh-admin-', shared: true })
  let a: Agent
  let open: Agent
  const captured = capturingLogger('lab-a')

  beforeAll(async () => {
    const [A, B, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c')]
    a = await mesh.start(meshConfig(A, [{ node: B }], { http: { listen: `127.0.0.1:${A.httpPort}`, maxBodyBytes: MAX_BODY } }), { logger: captured.logger })
    await a.documents.putMany(Array.from({ length: 20 }, (_, i) => ({ uid: `o-${i}`, type: 'Client', id: `c-${i}`, data: { name: `client ${i}` } })))
    // an agent whose status is public: its records must still need the token
    open = await mesh.start(meshConfig(C, [{ node: B }], { http: { listen: `127.0.0.1:${C.httpPort}`, publicStatus: true } }))
    await open.documents.put({ uid: 'secret', type: 'Client', id: 'c-1', data: { name: 'a patient record' } })
  })

  const call = async (agent: Agent, method: string, path: string, init: { headers?: Record<string, string>, body?: BodyInit, duplex?: 'half' } = {}): Promise<Response> =>
    await fetch(agent.httpUrl! + path, { method, ...init } as RequestInit)

  it('answers 401 on every route for a missing, wrong or malformed token, and logs each refusal', async () => {
    const routes = apiRoutes(a, 'lab-b')
    expect(routes.length).toBeGreaterThanOrEqual(15)
    routes.push({ method: 'GET', path: '/api/no-such-route' }, { method: 'DELETE', path: '/api' })
    const t = agentInternals(a).token
    const badHeaders: Array<Record<string, string>> = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${'x'.repeat(t.length)}` },
      { authorization: `Bearer ${t}x` },
      { authorization: `Bearer ${t.slice(0, -1)}` },
      { authorization: `Bearer ${t.slice(0, 16)}` },
      { authorization: `Basic ${Buffer.from(`admin:${t}`).toString('base64')}` },
      { authorization: `Token ${t}` },
      { authorization: t },
      { authorization: `Bearer ${t.toUpperCase()}` },
      { authorization: `Bearer ${'é'.repeat(t.length / 2)}` }
    ]
    const before = await storeDigest(agentInternals(a).store)
    const refusedBefore = captured.lines.filter((l) => String(l.msg).includes('unauthorized')).length
    let requests = 0
    for (const route of routes) {
      for (const headers of badHeaders) {
        const response = await call(a, route.method, route.path, {
          headers: { ...headers, 'content-type': 'application/json' },
          ...(route.method === 'GET' || route.method === 'HEAD' ? {} : { body: JSON.stringify({ type: 'Client', id: 'x', data: {}, items: [{ uid: 'x', type: 'Client', id: 'x', data: {} }], pick: 'local' }) })
        })
        expect(response.status, `${route.method} ${route.path} with ${JSON.stringify(headers)}`).toBe(401)
        const body = await response.json() as { error: string }
        expect(body.error).toBe('UNAUTHORIZED')
        requests++
      }
      // the token in the query string is only for the event stream
      if (route.path !== '/api/events') {
        expect((await call(a, route.method, `${route.path}?token=${t}`)).status, `${route.method} ${route.path}?token=`).toBe(401)
        requests++
      }
    }
    const refused = captured.lines.filter((l) => String(l.msg).includes('unauthorized')).length - refusedBefore
    expect(refused).toBe(requests)
    expect(await storeDigest(agentInternals(a).store)).toBe(before)
    // and the right token works (the test can tell the difference)
    expect((await call(a, 'GET', '/api/status', { headers: { authorization: `Bearer ${t}` } })).status).toBe(200)
    expect((await call(a, 'GET', '/api/status', { headers: { authorization: `bearer   ${t}  ` } })).status).toBe(200)
  })

  it('with publicStatus on, status reads are open but lab records and every write still need the token', async () => {
    expect((await call(open, 'GET', '/api/status')).status).toBe(200)
    for (const path of ['/api/objects', '/api/objects/secret', '/api/objects?limit=1000']) {
      const response = await call(open, 'GET', path)
      expect(response.status, `GET ${path}`).toBe(401)
      expect(await response.text()).not.toContain('a patient record')
    }
    for (const route of apiRoutes(open, 'lab-b').filter((r) => r.method !== 'GET')) {
      expect((await call(open, route.method, route.path, { headers: { 'content-type': 'application/json' }, body: '{}' })).status, `${route.method} ${route.path}`).toBe(401)
    }
  })

  it('refuses oversized and malformed bodies with 400/413 and writes nothing', async () => {
    const auth = { ...authHeader(a), 'content-type': 'application/json' }
    const before = await storeDigest(agentInternals(a).store)
    const deep = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
    const cases: Array<[string, string, string, number[]]> = [
      ['PUT', '/api/objects/new-1', '{', [400]],
      ['PUT', '/api/objects/new-1', '', [400]],
      ['PUT', '/api/objects/new-1', '[]', [400]],
      ['PUT', '/api/objects/new-1', '"a string"', [400]],
      ['PUT', '/api/objects/new-1', 'null', [400]],
      ['PUT', '/api/objects/new-1', '{"type":"Client","id":"x"}', [400]],
      ['PUT', '/api/objects/new-1', '{"type":42,"id":"x","data":{}}', [400]],
      ['PUT', '/api/objects/new-1', '{"type":"Client","id":"x","data":[]}', [400]],
      ['PUT', '/api/objects/new-1', '{"type":"Client","id":"x","data":{},"vector":{"lab-a":99}}', [400]],
      ['PUT', '/api/objects/new-1', '{"type":"Client","id":"x","data":{},"refs":["bad uid"]}', [400]],
      ['PUT', '/api/objects/new-1', `{"type":"${'T'.repeat(200)}","id":"x","data":{}}`, [400]],
      ['PUT', '/api/objects/bad%20uid', '{"type":"Client","id":"x","data":{}}', [400]],
      ['PUT', `/api/objects/${'u'.repeat(200)}`, '{"type":"Client","id":"x","data":{}}', [400]],
      ['PUT', '/api/objects/new-1', `{"type":"Client","id":"x","data":${deep(10_000)}}`, [400]],
      ['PUT', '/api/objects/new-1', JSON.stringify({ type: 'Client', id: 'x', data: { blob: 'x'.repeat(MAX_BODY) } }), [413]],
      ['POST', '/api/objects', '{"items":[]}', [400]],
      ['POST', '/api/objects', JSON.stringify({ items: [{ uid: 'new-2', type: 'Client', id: 'ok', data: {} }, { uid: 'new-3', type: 'Client', id: 'bad' }] }), [400]],
      ['POST', '/api/objects', '{"items":{}}', [400]],
      ['POST', '/api/conflicts/o-1/resolve', '{"pick":"both"}', [400]],
      ['POST', '/api/conflicts/o-1/resolve', '{"pick":"local","data":{}}', [400]],
      ['POST', '/api/conflicts/o-1/resolve', '{"data":[]}', [400]],
      ['POST', '/api/conflicts/o-1/resolve', 'not json', [400]],
      ['GET', '/api/objects?limit=0', '', [400]],
      ['GET', '/api/objects?limit=abc', '', [400]],
      ['GET', '/api/objects?limit=100000', '', [400]]
    ]
    for (const [method, path, body, statuses] of cases) {
      const response = await call(a, method, path, { headers: auth, ...(method === 'GET' ? {} : { body }) })
      const text = await response.text()
      expect(statuses, `${method} ${path} ${body.slice(0, 60)} → ${response.status} ${text.slice(0, 200)}`).toContain(response.status)
      expect(JSON.parse(text)).toHaveProperty('message')
    }
    // a body streamed without Content-Length is cut off at the limit too
    const chunks = new ReadableStream<Uint8Array>({
      start (controller) {
        for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? '{"type":"Client","id":"x","data":{"blob":"' : 'x'.repeat(1024)))
        controller.enqueue(new TextEncoder().encode('"}}'))
        controller.close()
      }
    })
    const streamed = await call(a, 'PUT', '/api/objects/new-4', { headers: auth, body: chunks, duplex: 'half' })
    expect(streamed.status).toBe(413)
    expect(await storeDigest(agentInternals(a).store)).toBe(before)
    for (const uid of ['new-1', 'new-2', 'new-3', 'new-4']) expect(await a.documents.get(uid)).toBeUndefined()
    // the same request, well-formed, is accepted: the refusals were about the bodies
    expect((await call(a, 'PUT', '/api/objects/new-1', { headers: auth, body: '{"type":"Client","id":"x","data":{}}' })).status).toBe(201)
  })
})
