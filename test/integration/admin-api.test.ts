import { request as httpRequest } from 'node:http'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { ADMIN_KEEP_ALIVE_MS } from '../../agent/admin/server.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { adminRequest, apiRoutes, authHeader } from '../helpers/admin.js'
import { clientDocs } from '../helpers/documents.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, waitFor } from '../helpers/nodes.js'

describe('admin API on a running two-agent mesh', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { shared: true })
  let a: Agent
  let b: Agent
  const captured = capturingLogger('lab-b')

  beforeAll(async () => {
    ({ a, b } = await mesh.startPair({ seed: clientDocs(300), link: { autoSync: { interval: '1h', live: false } }, bDeps: { logger: captured.logger } }))
    await waitFor(() => b.status().objects === 300)
  })

  const request = async (agent: Agent, method: string, path: string, token?: string | null, body?: unknown): Promise<Response> => await adminRequest(agent, method, path, { token, body })

  it('answers 401 on every /api route and /metrics, without a token and with a wrong one, and logs it', async () => {
    const unique = apiRoutes(b, 'lab-a')
    expect(unique.length).toBeGreaterThanOrEqual(15)
    for (const { method, path } of unique) {
      for (const token of [null, 'not-the-token-not-the-token']) {
        const response = await request(b, method, path, token, method === 'GET' ? undefined : {})
        expect(response.status, `${method} ${path} with ${token === null ? 'no' : 'a wrong'} token`).toBe(401)
      }
    }
    expect(captured.lines.filter((l) => String(l.msg).includes('unauthorized')).length).toBeGreaterThanOrEqual(unique.length * 2)
    // the SSE stream alone accepts ?token= (EventSource cannot send headers); nothing else does
    expect((await b.request(`/api/status?token=${agentInternals(b).token}`)).status).toBe(401)
  })

  it('over real HTTP, refuses a request addressed to a host name it does not answer to (DNS rebinding), even with the token', async () => {
    const url = new URL(b.httpUrl!)
    const statusFor = async (host: string): Promise<number> => await new Promise((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/api/status', headers: { host, ...authHeader(b) } }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
      req.on('error', reject)
      req.end()
    })
    expect(await statusFor(url.host)).toBe(200)
    expect(await statusFor(`localhost:${url.port}`)).toBe(200)
    expect(await statusFor(`rebind.attacker.example:${url.port}`)).toBe(421)
    expect(captured.lines.some((l) => l.host === 'rebind.attacker.example')).toBe(true)
  })

  it('over real HTTP, keeps an idle connection open far longer than a client does (no "other side closed" for a client busy between requests)', async () => {
    const url = new URL(b.httpUrl!)
    const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/api/status', headers: { connection: 'keep-alive', ...authHeader(b) } }, (res) => { res.resume(); resolve(res.headers['keep-alive'] as string | undefined) })
      req.on('error', reject)
      req.end()
    })
    // undici (Node's fetch) drops an idle socket 2 s before the timeout announced here: with Node's 5 s a
    // client whose event loop was busy for 2 s reused a socket the agent had just closed
    expect(keepAlive).toBe(`timeout=${ADMIN_KEEP_ALIVE_MS / 1000}`)
    expect(ADMIN_KEEP_ALIVE_MS).toBeGreaterThanOrEqual(60_000)
  })

  it('reports status per peer with lag, progress and counts', async () => {
    const status = await (await request(b, 'GET', '/api/status')).json() as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(status).toMatchObject({ domain: 'lab-b', peerId: b.peerId, objects: 300, conflicts: 0, failed: 0 })
    expect(status.peers[0]).toMatchObject({ name: 'lab-a', connected: true, pull: true, lag: 0, lagIn: 0, conflicts: 0, pulled: 300, progress: { percent: 100, state: 'idle', initial: true } })
    const peer = await (await request(b, 'GET', '/api/peers/lab-a')).json() as Record<string, unknown>
    expect(peer).toMatchObject({ name: 'lab-a', connected: true })
    expect((await request(b, 'GET', '/api/peers/nobody')).status).toBe(404)
    const fromA = await (await request(a, 'GET', '/api/peers/lab-b')).json() as Record<string, unknown>
    expect(fromA).toMatchObject({ name: 'lab-b', served: 300, lagOut: 0 })
  })

  it('syncs on demand, also as a job to poll, and streams events', async () => {
    await a.documents.putMany(Array.from({ length: 50 }, (_, i) => ({ uid: `n-${i}`, type: 'Client', id: `n-${i}`, data: {} })))
    // live is off for this peer: nothing arrives until someone asks
    await new Promise((r) => setTimeout(r, 200))
    expect(b.status().objects).toBe(300)

    const controller = new AbortController()
    const events: string[] = []
    const stream = await fetch(`${b.httpUrl!}/api/events?token=${agentInternals(b).token}`, { signal: controller.signal })
    expect(stream.headers.get('content-type')).toContain('text/event-stream')
    const reading = (async () => {
      const reader = stream.body!.getReader()
      const decoder = new TextDecoder()
      try {
        while (true) {
          const { value, done } = await reader.read()
          if (done) return
          events.push(...decoder.decode(value).split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7)))
        }
      } catch { /* aborted */ }
    })()

    const sync = await (await adminRequest(b, 'POST', '/api/peers/lab-a/sync', { body: {} })).json() as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(sync).toMatchObject({ peer: 'lab-a', done: true, progress: { percent: 100 } })
    expect(b.status().objects).toBe(350)
    await waitFor(() => events.includes('batch') && events.includes('commit') && events.includes('progress'), { what: `events streamed (got ${events.join(',')})`, timeout: 5000 })
    expect(events[0]).toBe('hello')

    await a.documents.putMany([{ uid: 'late', type: 'Client', id: 'late', data: {} }])
    const job = await (await adminRequest(b, 'POST', '/api/peers/lab-a/sync?async=1', { body: {} })).json() as { job: string }
    const done = await waitFor(async () => { const j = await (await request(b, 'GET', `/api/jobs/${job.job}`)).json() as { state: string }; return j.state === 'done' ? j : undefined })
    expect(done).toMatchObject({ peer: 'lab-a', state: 'done', progress: { percent: 100 } })
    expect(await b.documents.get('late')).toBeDefined()
    controller.abort()
    await reading
  })

  it('exposes Prometheus metrics that a Prometheus parser reads', async () => {
    const response = await request(b, 'GET', '/metrics')
    expect(response.headers.get('content-type')).toContain('text/plain')
    const families = parsePrometheusTextFormat(await response.text()) as Array<{ name: string, type: string, metrics: Array<{ value?: string, labels?: Record<string, string>, buckets?: Record<string, string> }> }>
    const byName = new Map(families.map((f) => [f.name, f]))
    expect(Number(byName.get('labmesh_objects')!.metrics[0]!.value)).toBe(b.status().objects)
    expect(Number(byName.get('labmesh_feed_head')!.metrics[0]!.value)).toBe(b.status().feedHead)
    expect(byName.get('labmesh_peer_connected')!.metrics).toEqual([expect.objectContaining({ labels: { peer: 'lab-a' }, value: '1' })])
    expect(Number(byName.get('labmesh_pulled_objects_total')!.metrics[0]!.value)).toBeGreaterThanOrEqual(50)
    expect(byName.get('labmesh_pull_duration_seconds')!.type).toBe('HISTOGRAM')
    for (const name of ['labmesh_conflicts', 'labmesh_failed', 'labmesh_peer_lag_in', 'labmesh_peer_lag_out', 'labmesh_served_objects_total', 'labmesh_peer_failed']) expect(byName.has(name), name).toBe(true)
    // each agent has its own registry: A's numbers are A's
    const fromA = parsePrometheusTextFormat(await (await request(a, 'GET', '/metrics')).text()) as Array<{ name: string, metrics: Array<{ value?: string }> }>
    expect(Number(fromA.find((f) => f.name === 'labmesh_objects')!.metrics[0]!.value)).toBe(a.status().objects)
    expect(fromA.find((f) => f.name === 'labmesh_served_objects_total')!.metrics.length).toBeGreaterThan(0)
  })

  it('closes its event streams when the agent stops (last: it stops B)', async () => {
    const response = await fetch(`${b.httpUrl!}/api/events`, { headers: authHeader(b) })
    const reader = response.body!.getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    expect(first).toContain('event: hello')
    const listening = agentInternals(b).bus.listeners
    const started = Date.now()
    await b.stop()
    expect(Date.now() - started).toBeLessThan(5000)
    // the client sees its stream end, and the agent kept no subscription
    const end = await (async () => {
      try { while (!(await reader.read()).done) { /* drain */ } return 'ended' } catch { return 'cut off' }
    })()
    expect(['ended', 'cut off']).toContain(end)
    expect(agentInternals(b).bus.listeners).toBeLessThan(listening)
    expect(agentInternals(b).bus.listeners).toBe(0)
  })
})
