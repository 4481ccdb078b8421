/**
 * The admin HTTP app alone, through `app.request()` with fake AdminDeps (no
 * socket, no libp2p, no store): authorisation on every route, the public
 * switches, sync jobs, the event stream, conflicts, the failed queue, the
 * status page's files, and no CORS.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { describe, expect, it } from 'vitest'
import { createAdminApp } from '../../agent/admin/app.js'
import type { AdminDeps } from '../../agent/admin/deps.js'
import type { AgentStatusReport } from '../../agent/observe/status.js'
import { NotFoundError } from '../../agent/errors.js'
import { ConfigError, ConfigRestartError } from '../../config/errors.js'
import { AgentError, InviteError, type InviteErrorCode } from '../../protocol/errors.js'
import { createEventBus } from '../../agent/observe/events.js'
import { createMetrics } from '../../agent/observe/metrics.js'
import type { ProgressSnapshot } from '../../agent/sync/progress.js'
import type { PeerReport } from '../../agent/observe/status.js'
import type { FailedEntry, StoredObject } from '../../store/types.js'
import { describeConflict, type ConflictedObject } from '../../agent/apply/conflict-merge.js'
import { MergeConflictError } from '../../protocol/merge.js'
import { capturingLogger, waitFor } from '../helpers/nodes.js'
import { BACKUP_MEDIA_TYPE, decodeFrames } from '../../store/backup/format.js'
import { BackupConflictError } from '../../store/errors.js'

const TOKEN = 'a'.repeat(64)

const progress = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  state: 'idle', initial: true, done: 0, remaining: 0, percent: 100, rate: 0, etaSeconds: 0, startedAt: 1, finishedAt: 2, remoteHead: 10, appliedSeq: 10, caughtUp: true, ...over
})

const peer = (over: Partial<PeerReport> = {}): PeerReport => ({
  name: 'lab-a', peerId: '12D3KooWPeer', pull: true, connected: true, address: '/ip4/127.0.0.1/tcp/4101', lastContact: 1000, lastError: undefined,
  pulled: 10, served: 3, skipped: 0, badSignatures: 0, unsigned: 0, remoteHead: 10, appliedSeq: 10, lagIn: 0, lagOut: 2, lag: 0, conflicts: 1, failed: 1, progress: progress(), sessionOpen: true, serving: 1,
  blobs: { transfers: [], fetched: 0, bytesFetched: 0, refused: 0, bytesServed: 0, served: 0 }, ...over
})

const stored = (data: Record<string, unknown>, siblingData: Record<string, unknown>): StoredObject => ({
  uid: 'c-1', type: 'Client', id: 'client-1', parent: null, refs: [], data, vector: { 'lab-b': 2, 'lab-a': 1 }, origin: 'lab-a', deleted: false, at: 5, seq: 9, via: null,
  conflicts: [{ uid: 'c-1', type: 'Client', id: 'client-1', parent: null, refs: [], data: siblingData, vector: { 'lab-a': 2 }, origin: 'lab-a', deleted: false, at: 4 }],
  conflictVia: ['lab-a']
})

/** the conflict, compared three ways against a base both sides descend from */
const conflicted = (): ConflictedObject => {
  const o = stored({ name: 'B', phone: '1' }, { name: 'A', phone: '1' })
  return { ...o, merge: describeConflict(o, [{ type: 'Client', id: 'client-1', parent: null, refs: [], data: { name: 'Z', phone: '1' }, deleted: false, vector: { 'lab-a': 1 }, at: 1 }]) }
}

function fakeDeps (over: Partial<AdminDeps> = {}) {
  const bus = createEventBus()
  const captured = capturingLogger('lab-b')
  const calls: string[] = []
  const sync = { resolve: (_p: ProgressSnapshot): void => {}, reject: (_e: Error): void => {} }
  let peerState = peer()
  const report = (): AgentStatusReport => ({
    domain: 'lab-b', peerId: '12D3KooWSelf', listen: [], httpUrl: undefined, instance: 'embedded', epoch: 'e', objects: 12, feedHead: 20,
    conflicts: 1, failed: 1, readOnlyReverts: 0, startedAt: 0, echoHeld: 0, echoLoopsFound: 0, echoLoops: [], configFile: '/srv/lab-b/labmesh.yaml', configLoadedAt: 40_000, peers: [peerState]
  })
  const failedEntry: FailedEntry = {
    uid: 'f-1', peer: 'lab-a', reason: 'needs p-9', code: 'MISSING_DEPENDENCY', missing: ['p-9'], attempts: 2, firstFailedAt: 1, lastFailedAt: 2, nextRetryAt: 3,
    version: { uid: 'f-1', type: 'Sample', id: 'S-1', parent: 'p-9', refs: [], data: {}, vector: { 'lab-a': 1 }, origin: 'lab-a', deleted: false, at: 1 }
  }
  const deps: AdminDeps = {
    token: TOKEN,
    publicStatus: false,
    publicMetrics: false,
    allowedHosts: ['lims-sync.lab.example', '.proxy.example'],
    bus,
    metrics: () => metrics,
    maxBodyBytes: 2048,
    maxBlobBytes: 4096,
    log: captured.logger,
    now: () => 50_000,
    documents: {
      get: async (uid) => uid === 'c-1' ? stored({ name: 'B', phone: '1' }, { name: 'A', phone: '1' }) : undefined,
      list: async () => ({ items: [], next: null }),
      put: async (input) => ({ ...stored(input.data as Record<string, unknown>, {}), conflicts: [] }),
      putMany: async () => [],
      delete: async () => { throw new NotFoundError('no such object') },
      history: async (uid) => uid === 'c-1'
        ? { uid, retention: 20, current: { vector: { 'lab-b': 1 }, deleted: false, conflicts: 1, signature: 'valid' }, entries: [{ event: 'version', vector: { 'lab-b': 1 }, deleted: false, id: 'c-1', origin: 'lab-b', peerId: 'p', signature: 'valid', at: 1, appliedAt: 2, via: 'lab-b', changed: null }] }
        : undefined
    },
    status: report,
    peerStatus: (name) => {
      if (name !== 'lab-a') throw new NotFoundError(`no peer named "${name}" in this agent's config`)
      return peerState
    },
    syncNow: async (name) => {
      calls.push(`sync ${name}`)
      return await new Promise<ProgressSnapshot>((resolve, reject) => { sync.resolve = resolve; sync.reject = reject })
    },
    plan: async (name) => ({ peer: name, since: 0, objects: 0, types: {} }),
    conflicts: {
      list: async () => [conflicted()],
      get: async (uid) => uid === 'c-1' ? conflicted() : undefined,
      resolve: async (uid, resolution) => {
        calls.push(`resolve ${uid} ${JSON.stringify(resolution)}`)
        if ('merge' in resolution && resolution.fields === undefined) throw new MergeConflictError(['data.name'])
        return { ...stored({}, {}), conflicts: [], vector: { 'lab-a': 2, 'lab-b': 3 } }
      }
    },
    failed: {
      list: async () => [failedEntry],
      retry: async (uid) => { calls.push(`retry ${uid}`); return { applied: true, entry: undefined } },
      summary: async () => ({ total: 1, groups: [] }),
      retryGroup: async (code) => { calls.push(`retry group ${code}`); return { code, retried: 1, applied: 1, parked: 0 } }
    },
    verify: async (name, options) => {
      calls.push(`verify ${name} ${JSON.stringify(options ?? {})}`)
      return { report: { peer: name, result: 'in-sync', inSync: true, digest: { here: { count: 1, hash: 'a'.repeat(32) }, there: { count: 1, hash: 'a'.repeat(32) } }, checked: false, differences: [], differenceCount: 0, byKind: { 'missing-here': 0, 'missing-there': 0, 'different-version': 0, 'different-data': 0 }, scope: { groups: 1, refused: [] }, roundTrips: 1, messages: { sent: 1, received: 1 }, bytes: { sent: 10, received: 10 }, startedAt: 1, finishedAt: 2, durationMs: 1 } }
    },
    verification: () => ({ state: 'idle' }),
    verifySelf: async () => ({ equal: true, objects: 0, stored: { count: 0, hash: '0'.repeat(32) }, rebuilt: { count: 0, hash: '0'.repeat(32) }, problems: [], problemCount: 0, groupProblems: 0, startedAt: 1, finishedAt: 2, durationMs: 1 }),
    echoLoops: {
      list: () => [],
      release: async (uid) => { calls.push(`release ${uid}`); return { uid, released: true, recorded: false } }
    },
    invites: {
      create: async (options) => {
        calls.push(`invite ${JSON.stringify(options)}`)
        return { code: 'labmesh_invite_x', id: '0011223344556677', expiresAt: 90_000, domain: 'lab-b', peerId: '12D3KooWSelf', addrs: ['/ip4/127.0.0.1/tcp/4102'], name: options.name, pull: options.pull === true }
      },
      list: () => [],
      revoke: async (id) => { calls.push(`revoke ${id}`) }
    },
    join: async (code, options) => {
      calls.push(`join ${code} ${JSON.stringify(options)}`)
      return { joined: true, peer: { name: 'lab-a', peerId: '12D3KooWPeer', domain: 'lab-a', addrs: [], pull: options.pull === true }, nameThere: 'lab-b', file: '/srv/lab-b/labmesh.yaml' }
    },
    reloadConfig: async () => {
      calls.push('reload')
      return { file: '/srv/lab-b/labmesh.yaml', loadedAt: 50_000, added: [], removed: [], changed: ['lab-a'], agentRules: false }
    },
    backup: () => {
      calls.push('backup')
      return (async function * () {
        yield { header: { k: 'begin' as const, snapshot: { domain: 'lab-b', schema: 3, epoch: 'e', head: 0, objects: 0, rows: 0 }, peerId: '12D3KooWSelf', createdAt: 1, files: [] } }
        throw new AgentError('STORE_CLOSED', 'the store is closed')
      })()
    },
    blobs: {
      put: async (source) => { let size = 0; for await (const chunk of source) size += chunk.byteLength; return { hash: `sha256:${'0'.repeat(64)}`, size, created: true } },
      read: async (hash) => { throw new NotFoundError(`blob ${hash} is not stored here`) },
      stat: async () => undefined
    },
    ...over
  }
  const metrics = createMetrics({ bus, status: report })
  const app = createAdminApp(deps)
  const request = async (method: string, path: string, options: { token?: string | null, body?: unknown, headers?: Record<string, string> } = {}): Promise<Response> => {
    const token = options.token === undefined ? TOKEN : options.token
    return await app.request(path, {
      method,
      headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
      ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {})
    })
  }
  return { app, deps, bus, calls, sync, captured, request, setPeer: (p: PeerReport) => { peerState = p } }
}

/** every route of the app under /api, and /metrics, with its parameters filled in */
function protectedRoutes (app: ReturnType<typeof createAdminApp>): Array<{ method: string, path: string }> {
  const routes = app.routes
    .filter((r) => r.method !== 'ALL' && (r.path.startsWith('/api/') || r.path === '/metrics'))
    .map((r) => ({ method: r.method, path: r.path.replace(/:uid/g, 'c-1').replace(/:name/g, 'lab-a').replace(/:id/g, '1') }))
  return [...new Map(routes.map((r) => [`${r.method} ${r.path}`, r])).values()]
}

describe('admin app with fake deps', () => {
  it('refuses every /api route and /metrics without the token and with a wrong one, with a log line each', async () => {
    const { app, request, captured } = fakeDeps()
    const routes = protectedRoutes(app)
    // the app's own route table, not a hand list: every API the agent serves is in it
    for (const expected of ['GET /api/status', 'GET /api/peers/lab-a', 'POST /api/peers/lab-a/sync', 'GET /api/jobs/1', 'GET /api/events', 'GET /api/conflicts',
      'POST /api/conflicts/c-1/resolve', 'GET /api/failed', 'POST /api/failed/c-1/retry', 'GET /api/failed/summary', 'POST /api/failed/groups/:code/retry',
      'GET /api/echo-loops', 'POST /api/echo-loops/c-1/release', 'GET /metrics', 'GET /api/objects', 'PUT /api/objects/c-1']) {
      expect(routes.map((r) => `${r.method} ${r.path}`)).toContain(expected)
    }
    for (const route of routes) {
      for (const token of [null, 'b'.repeat(64), 'short']) {
        const response = await request(route.method, route.path, { token, ...(route.method === 'GET' ? {} : { body: {} }) })
        expect(response.status, `${route.method} ${route.path} with ${token === null ? 'no' : 'a wrong'} token`).toBe(401)
        expect(await response.json()).toMatchObject({ error: 'UNAUTHORIZED' })
      }
    }
    const refusals = captured.lines.filter((l) => l.msg === 'admin API: unauthorized request refused')
    expect(refusals).toHaveLength(routes.length * 3)
    expect(refusals[0]).toMatchObject({ level: 40, reason: 'no token' })
    expect(refusals[1]).toMatchObject({ reason: 'wrong token' })
    // a token in the query string counts only for the event stream
    expect((await request('GET', `/api/status?token=${TOKEN}`, { token: null })).status).toBe(401)
    expect((await request('GET', `/metrics?token=${TOKEN}`, { token: null })).status).toBe(401)
  })

  it('publicStatus opens the page\'s reads only; publicMetrics opens /metrics', async () => {
    const { request } = fakeDeps({ publicStatus: true, publicMetrics: true })
    for (const path of ['/api/status', '/api/peers/lab-a', '/api/conflicts', '/api/conflicts/c-1', '/api/failed', '/api/failed/summary', '/api/echo-loops']) {
      expect((await request('GET', path, { token: null })).status, path).toBe(200)
    }
    expect((await request('POST', '/api/failed/groups/X/retry', { token: null, body: {} })).status).toBe(401)
    expect((await request('POST', '/api/echo-loops/c-1/release', { token: null, body: {} })).status).toBe(401)
    // lab data and every write still need the token
    expect((await request('GET', '/api/objects', { token: null })).status).toBe(401)
    expect((await request('GET', '/api/objects/c-1', { token: null })).status).toBe(401)
    expect((await request('GET', '/api/objects/c-1/history', { token: null })).status).toBe(401)
    expect((await request('POST', '/api/conflicts/c-1/resolve', { token: null, body: { pick: 'local' } })).status).toBe(401)
    expect((await request('POST', '/api/peers/lab-a/sync', { token: null, body: {} })).status).toBe(401)
    expect((await request('GET', '/metrics', { token: null })).status).toBe(200)
    const closed = fakeDeps()
    expect((await closed.request('GET', '/metrics', { token: null })).status).toBe(401)
    expect((await closed.request('GET', '/metrics')).status).toBe(200)
  })

  it('answers only requests addressed to its own host names (DNS-rebinding guard), and logs each unknown name once', async () => {
    const { app, captured } = fakeDeps({ publicStatus: true })
    const get = async (url: string): Promise<number> => (await app.request(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status
    for (const host of ['127.0.0.1:8101', '[::1]:8101', '10.1.2.3', 'localhost:8101', 'ui.localhost', 'lims-sync.lab.example', 'LIMS-SYNC.lab.example.', 'a.proxy.example', 'proxy.example']) {
      expect(await get(`http://${host}/api/status`), host).toBe(200)
    }
    for (const host of ['evil.example', 'lims-sync.lab.example.evil.example', 'xproxy.example', 'localhost.evil.example']) {
      for (const path of ['/api/status', '/api/conflicts', '/', '/metrics']) {
        const response = await app.request(`http://${host}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })
        expect(response.status, `${host}${path}`).toBe(421)
        expect(await response.json()).toMatchObject({ error: 'HOST_NOT_ALLOWED', message: expect.stringContaining('http.allowedHosts') })
      }
    }
    const refusals = captured.lines.filter((l) => String(l.msg).includes('unknown host name'))
    expect(refusals.map((l) => l.host)).toEqual(['evil.example', 'lims-sync.lab.example.evil.example', 'xproxy.example', 'localhost.evil.example'])
  })

  it('reports status and peers, 404 for an unknown peer', async () => {
    const { request } = fakeDeps()
    const status = await (await request('GET', '/api/status')).json() as AgentStatusReport
    expect(status).toMatchObject({ domain: 'lab-b', peerId: '12D3KooWSelf', objects: 12, feedHead: 20, peers: [{ name: 'lab-a', connected: true, lag: 0, conflicts: 1, failed: 1 }] })
    expect(await (await request('GET', '/api/peers/lab-a')).json()).toMatchObject({ name: 'lab-a', lagOut: 2 })
    const missing = await request('GET', '/api/peers/nobody')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: 'NOT_FOUND', message: expect.stringContaining('nobody') })
  })

  it('syncs and answers when done, or as a job whose progress can be polled', async () => {
    const { request, sync, calls, setPeer } = fakeDeps()
    const waiting = request('POST', '/api/peers/lab-a/sync', { body: {} })
    await new Promise((resolve) => setImmediate(resolve))
    sync.resolve(progress({ done: 7 }))
    expect(await (await waiting).json()).toMatchObject({ peer: 'lab-a', done: true, progress: { done: 7, percent: 100 } })

    const started = await request('POST', '/api/peers/lab-a/sync?async=1', { body: {} })
    expect(started.status).toBe(202)
    const { job, poll } = await started.json() as { job: string, poll: string }
    expect(poll).toBe(`/api/jobs/${job}`)
    // while it runs, the job shows the peer's live progress
    setPeer(peer({ progress: progress({ state: 'pulling', percent: 40, done: 40, remaining: 60, caughtUp: false }) }))
    expect(await (await request('GET', poll)).json()).toMatchObject({ id: job, peer: 'lab-a', state: 'running', progress: { percent: 40 }, startedAt: 50_000 })
    sync.resolve(progress({ done: 100 }))
    await new Promise((resolve) => setImmediate(resolve))
    expect(await (await request('GET', poll)).json()).toMatchObject({ state: 'done', progress: { done: 100, percent: 100 }, finishedAt: 50_000 })

    // a job that fails later says why
    const second = await (await request('POST', '/api/peers/lab-a/sync?async=1', { body: {} })).json() as { poll: string }
    sync.reject(new Error('peer lab-a closed the session'))
    await new Promise((resolve) => setImmediate(resolve))
    expect(await (await request('GET', second.poll)).json()).toMatchObject({ state: 'failed', error: 'peer lab-a closed the session' })
    expect(calls.filter((c) => c === 'sync lab-a')).toHaveLength(3)
    expect((await request('GET', '/api/jobs/999')).status).toBe(404)
    expect((await request('POST', '/api/peers/nobody/sync?async=1', { body: {} })).status).toBe(404)
  })

  it('runs a verify as a job with ?async=1: live progress while it runs, the report as its result', async () => {
    let finish = (): void => {}
    let state: 'idle' | 'running' = 'idle'
    const { request, calls } = fakeDeps({
      verify: async (name, options) => {
        calls.push(`verify ${name} ${JSON.stringify(options ?? {})}`)
        state = 'running'
        await new Promise<void>((resolve) => { finish = resolve })
        state = 'idle'
        return { report: { peer: name, inSync: false, differenceCount: 2 } } as unknown as Awaited<ReturnType<AdminDeps['verify']>>
      },
      verification: () => state === 'running' ? { state, progress: { phase: 'checking', done: 30, total: 120, percent: 25, etaSeconds: 9 } } : { state }
    })
    const started = await request('POST', '/api/peers/lab-a/verify?async=1', { body: { repair: true } })
    expect(started.status).toBe(202)
    const { job, poll } = await started.json() as { job: string, poll: string }
    expect(calls).toContain('verify lab-a {"repair":true}')
    expect(await (await request('GET', poll)).json()).toMatchObject({ id: job, kind: 'verify', peer: 'lab-a', state: 'running', progress: { phase: 'checking', percent: 25, etaSeconds: 9 } })
    finish()
    await new Promise((resolve) => setImmediate(resolve))
    expect(await (await request('GET', poll)).json()).toMatchObject({ state: 'done', result: { report: { peer: 'lab-a', inSync: false, differenceCount: 2 } } })

    const self = await request('POST', '/api/verify/self?async=1', { body: {} })
    expect(self.status).toBe(202)
    const selfJob = await self.json() as { poll: string }
    await new Promise((resolve) => setImmediate(resolve))
    expect(await (await request('GET', selfJob.poll)).json()).toMatchObject({ kind: 'verify-self', state: 'done', result: { equal: true } })
    // without ?async the verify answers when done, as before
    const direct = request('POST', '/api/peers/lab-a/verify', { body: {} })
    await new Promise((resolve) => setImmediate(resolve))
    finish()
    expect(await (await direct).json()).toMatchObject({ report: { peer: 'lab-a' } })
  })

  it('answers a sync that cannot start with its error, not with a job', async () => {
    const { request } = fakeDeps({ syncNow: async () => { throw new NotFoundError('peer "lab-a" is not connected: try again once it is up') } })
    const response = await request('POST', '/api/peers/lab-a/sync?async=1', { body: {} })
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ message: expect.stringContaining('not connected') })
  })

  it('lists conflicts with both versions and the fields that differ, and resolves them', async () => {
    const { request, calls } = fakeDeps()
    const list = await (await request('GET', '/api/conflicts')).json() as { count: number, items: Array<Record<string, unknown>> }
    expect(list.count).toBe(1)
    expect(list.items[0]).toMatchObject({ uid: 'c-1', differingFields: ['data.name'], local: { data: { name: 'B' } }, remote: { data: { name: 'A' }, vector: { 'lab-a': 2 } } })
    expect(await (await request('GET', '/api/conflicts/c-1')).json()).toMatchObject({
      uid: 'c-1',
      base: { data: { name: 'Z', phone: '1' }, vector: { 'lab-a': 1 } },
      baseKnown: true,
      fields: expect.arrayContaining([{ path: 'data.name', change: 'both', base: 'Z', local: 'B', remote: 'A' }, { path: 'data.phone', change: 'equal', base: '1', local: '1', remote: '1' }]),
      autoMergeable: [],
      conflicting: ['data.name']
    })
    expect((await request('GET', '/api/conflicts/zz')).status).toBe(404)
    const bad = await request('POST', '/api/conflicts/c-1/resolve', { body: { pick: 'sideways' } })
    expect(bad.status).toBe(400)
    expect((await request('POST', '/api/conflicts/c-1/resolve', { body: 'not json' })).status).toBe(400)
    expect(await (await request('POST', '/api/conflicts/c-1/resolve', { body: { pick: 'remote' } })).json()).toMatchObject({ uid: 'c-1', resolved: true })
    expect(calls).toContain('resolve c-1 {"pick":"remote"}')
  })

  it('takes a merge or field picks, refuses a bad pick as 400 and an unmergeable field as 409 naming it', async () => {
    const { request, calls } = fakeDeps()
    expect((await request('POST', '/api/conflicts/c-1/resolve', { body: { fields: { name: 'remote' } } })).status).toBe(200)
    expect((await request('POST', '/api/conflicts/c-1/resolve', { body: { merge: 'auto', fields: { name: 'base' } } })).status).toBe(200)
    expect(calls).toEqual(['resolve c-1 {"fields":{"name":"remote"}}', 'resolve c-1 {"merge":"auto","fields":{"name":"base"}}'])
    for (const body of [{ fields: { name: 'sideways' } }, { merge: 'manual' }, { merge: 'auto', pick: 'local' }]) {
      expect((await request('POST', '/api/conflicts/c-1/resolve', { body })).status).toBe(400)
    }
    const refused = await request('POST', '/api/conflicts/c-1/resolve', { body: { merge: 'auto' } })
    expect(refused.status).toBe(409)
    expect(await refused.json()).toMatchObject({ error: 'MERGE_CONFLICT', message: expect.stringContaining('data.name changed on both sides'), details: { fields: ['data.name'] } })
  })

  it('answers an object\'s history, 404 for an object it has seen nothing of, 400 for a bad uid', async () => {
    const { request } = fakeDeps()
    expect(await (await request('GET', '/api/objects/c-1/history')).json()).toMatchObject({ uid: 'c-1', retention: 20, current: { conflicts: 1 }, entries: [{ event: 'version', origin: 'lab-b', via: 'lab-b', signature: 'valid' }] })
    expect((await request('GET', '/api/objects/zz/history')).status).toBe(404)
    expect((await request('GET', '/api/objects/a%20b/history')).status).toBe(400)
  })

  it('lists the failed queue and retries an entry', async () => {
    const { request, calls } = fakeDeps()
    expect(await (await request('GET', '/api/failed')).json()).toMatchObject({ count: 1, items: [{ uid: 'f-1', peer: 'lab-a', missing: ['p-9'] }] })
    expect(await (await request('POST', '/api/failed/f-1/retry', { body: {} })).json()).toEqual({ uid: 'f-1', applied: true, entry: null })
    expect(calls).toContain('retry f-1')
    expect(await (await request('GET', '/api/failed/summary')).json()).toEqual({ total: 1, groups: [] })
    expect(await (await request('POST', '/api/failed/groups/INSTANCE_REFUSED/retry', { body: {} })).json()).toEqual({ code: 'INSTANCE_REFUSED', retried: 1, applied: 1, parked: 0 })
    expect(calls).toContain('retry group INSTANCE_REFUSED')
  })

  it('lists the objects the echo-loop guard holds and releases one', async () => {
    const { request, calls } = fakeDeps()
    expect(await (await request('GET', '/api/echo-loops')).json()).toEqual({ count: 0, items: [] })
    expect(await (await request('POST', '/api/echo-loops/s-1/release', { body: {} })).json()).toEqual({ uid: 's-1', released: true, recorded: false })
    expect(calls).toContain('release s-1')
  })

  it('streams events as SSE (the token may come in the query) and lets go of the bus when the client leaves', async () => {
    const { app, bus } = fakeDeps()
    const before = bus.listeners // the metrics follow the bus too
    const controller = new AbortController()
    const response = await app.request(`/api/events?token=${TOKEN}`, { signal: controller.signal })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const until = async (needle: string): Promise<void> => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before ${needle}`)
        text += decoder.decode(value)
      }
    }
    await until('event: hello')
    expect(text).toContain('"domain":"lab-b"')
    expect(bus.listeners).toBe(before + 1)
    bus.emit({ type: 'peer', peer: 'lab-a', connected: false })
    bus.emit({ type: 'progress', peer: 'lab-a', progress: progress({ state: 'pulling', percent: 12.5, caughtUp: false }) })
    bus.emit({ type: 'conflict', open: 2 })
    bus.emit({ type: 'failure', parked: 3 })
    bus.emit({ type: 'batch', peer: 'lab-a', received: 5, applied: 5, conflicts: 0, failed: 0, remaining: 10, more: true, durationMs: 3 })
    await until('event: batch')
    expect(text).toMatch(/event: peer\ndata: \{"type":"peer","peer":"lab-a","connected":false\}/)
    expect(text).toContain('"percent":12.5')
    for (const type of ['conflict', 'failure']) expect(text).toContain(`event: ${type}\n`)
    controller.abort()
    await reader.cancel().catch(() => {})
    await waitFor(() => bus.listeners === before, { what: 'the stream to unsubscribe' })
  })

  it('renders metrics a Prometheus parser reads', async () => {
    const { request } = fakeDeps()
    const response = await request('GET', '/metrics')
    expect(response.headers.get('content-type')).toContain('text/plain')
    const families = parsePrometheusTextFormat(await response.text()) as Array<{ name: string, metrics: Array<{ value?: string, labels?: Record<string, string> }> }>
    const byName = new Map(families.map((f) => [f.name, f]))
    expect(byName.get('labmesh_objects')!.metrics[0]!.value).toBe('12')
    expect(byName.get('labmesh_peer_lag_out')!.metrics[0]).toMatchObject({ labels: { peer: 'lab-a' }, value: '2' })
    expect(byName.get('labmesh_peer_failed')!.metrics[0]).toMatchObject({ labels: { peer: 'lab-a' }, value: '1' })
    expect(byName.get('labmesh_peer_last_contact_timestamp_seconds')!.metrics[0]!.value).toBe('1')
  })

  it('serves the status page without a token, under a strict CSP, and sends no CORS headers anywhere', async () => {
    const { request } = fakeDeps()
    const page = await request('GET', '/', { token: null })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(await page.text()).toContain('<script src="/app.js" defer></script>')
    const script = await request('GET', '/app.js', { token: null })
    expect(script.headers.get('content-type')).toContain('javascript')
    expect(await script.text()).toContain("new EventSource('/api/events'")
    expect((await request('GET', '/style.css', { token: null })).headers.get('content-type')).toContain('text/css')
    const origin = { origin: 'https://evil.example', 'access-control-request-method': 'POST' }
    for (const [method, path] of [['OPTIONS', '/api/status'], ['GET', '/api/status'], ['POST', '/api/conflicts/c-1/resolve'], ['GET', '/']]) {
      const response = await request(method!, path!, { headers: origin })
      const cors: string[] = []
      response.headers.forEach((_value, name) => { if (name.startsWith('access-control-')) cors.push(name) })
      expect(cors, `${method} ${path}`).toEqual([])
    }
  })

  it('refuses a body over the limit', async () => {
    const { request } = fakeDeps()
    const response = await request('PUT', '/api/objects/c-2', { body: { type: 'Client', id: 'c-2', data: { blob: 'x'.repeat(4096) } } })
    expect(response.status).toBe(413)
  })

  it('creates invitations and joins with validated bodies, reloads the config, and maps each refusal to its status', async () => {
    const { request, calls } = fakeDeps()
    const created = await request('POST', '/api/invites', { body: { pull: true, name: 'lab-c', expires: '2h' } })
    expect(created.status).toBe(201)
    expect(await created.json()).toMatchObject({ code: 'labmesh_invite_x', pull: true, name: 'lab-c' })
    expect(calls).toContain(`invite ${JSON.stringify({ name: 'lab-c', pull: true, expiresMs: 7_200_000 })}`)
    for (const body of [{ name: 'no spaces allowed' }, { expires: 'soon' }, { addrs: ['not-a-multiaddr'] }, { colour: 'blue' }]) {
      const refused = await request('POST', '/api/invites', { body })
      expect(refused.status, JSON.stringify(body)).toBe(400)
    }
    expect((await request('POST', '/api/join', { body: { code: 'labmesh_invite_y', pull: true } })).status).toBe(200)
    expect(calls).toContain('join labmesh_invite_y {"pull":true}')
    expect((await request('POST', '/api/join', { body: { pull: true } })).status).toBe(400)
    expect(await (await request('POST', '/api/config/reload')).json()).toMatchObject({ reloaded: true, changed: ['lab-a'] })
    expect((await request('DELETE', '/api/invites/0011')).status).toBe(200)
    expect(calls).toContain('revoke 0011')

    const statuses: Array<[Error, number]> = [
      ...([['INVITE_MALFORMED', 400], ['INVITE_DAMAGED', 400], ['INVITE_UNKNOWN', 403], ['INVITE_USED', 409], ['INVITE_REFUSED', 409], ['INVITE_EXPIRED', 410], ['INVITE_UNREACHABLE', 502]] as Array<[InviteErrorCode, number]>)
        .map(([code, status]): [Error, number] => [new InviteError(code, code), status]),
      [new ConfigError([{ path: 'peers[0].peerId', message: 'is not a valid libp2p peer ID', fix: 'paste it' }], '/srv/b.yaml'), 400],
      [new ConfigRestartError([{ path: 'listen', message: 'changed', fix: 'restart' }], '/srv/b.yaml'), 409]
    ]
    for (const [err, status] of statuses) {
      const failing = fakeDeps({ reloadConfig: async () => { throw err } })
      const response = await failing.request('POST', '/api/config/reload')
      expect(response.status, (err as InviteError).code).toBe(status)
      const json = await response.json() as Record<string, unknown>
      expect(json.error).toBe((err as InviteError).code)
      if (err instanceof ConfigError) expect(json.details).toEqual({ file: '/srv/b.yaml', issues: err.issues })
    }
  })
  it('streams a backup (POST /api/backup): frames, a failure after the first byte as an error frame, a refusal before it as an HTTP error', async () => {
    const { request, calls } = fakeDeps()
    const response = await request('POST', '/api/backup')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(BACKUP_MEDIA_TYPE)
    const headers = []
    for await (const frame of decodeFrames(response.body as unknown as AsyncIterable<Uint8Array>)) headers.push(frame.header)
    expect(headers.map((h) => h.k)).toEqual(['begin', 'error'])
    expect(headers[1]).toMatchObject({ code: 'STORE_CLOSED', message: 'the store is closed' })
    expect(calls).toContain('backup')
    expect((await request('POST', '/api/backup', { token: null })).status).toBe(401)
    const busy = fakeDeps({ backup: () => { throw new BackupConflictError('a backup is running already (40%): wait for it to finish') } })
    const refused = await busy.request('POST', '/api/backup')
    expect(refused.status).toBe(409)
    expect(await refused.json()).toMatchObject({ error: 'BACKUP_CONFLICT' })
  })
})
