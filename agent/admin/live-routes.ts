/**
 * Live views: server-sent events (`GET /api/events`), Prometheus metrics
 * (`GET /metrics`) and sync jobs (`POST /api/peers/:name/sync?async=1`, then
 * `GET /api/jobs/:id`) for long pulls that outlive one HTTP request.
 *
 * An event stream lives until the client goes away or the server closes the
 * connection (the agent's stop closes every connection): either way its bus
 * subscription and heartbeat timer end with it. A reader that stalls loses
 * its oldest events, never the agent's memory.
 */
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { describeError } from '../../protocol/errors.js'
import { NotFoundError } from '../errors.js'
import type { ProgressSnapshot } from '../sync/progress.js'
import type { AdminDeps } from './deps.js'

/** keeps proxies and browsers from timing an idle event stream out */
const HEARTBEAT_MS = 15_000
/** events buffered for one slow reader before the oldest are dropped */
const MAX_QUEUED_EVENTS = 10_000
/** jobs kept for polling (the oldest finished ones are forgotten first) */
const MAX_JOBS = 100

export interface SyncJob {
  readonly id: string
  readonly peer: string
  state: 'running' | 'done' | 'failed'
  progress: ProgressSnapshot | undefined
  error: string | undefined
  readonly startedAt: number
  finishedAt: number | undefined
}

export function eventRoutes (deps: AdminDeps): Hono {
  const app = new Hono()
  app.get('/events', (c) => streamSSE(c, async (stream) => {
    let closed = false
    const done = new Promise<void>((resolve) => stream.onAbort(() => { closed = true; resolve() }))
    const queue: Array<{ event: string, data: string }> = []
    let writing = Promise.resolve()
    const flush = (): void => {
      writing = writing.then(async () => {
        while (queue.length > 0 && !closed) await stream.writeSSE(queue.shift()!)
      }).catch(() => { closed = true })
    }
    const unsubscribe = deps.bus.subscribe((event) => {
      if (closed) return
      queue.push({ event: event.type, data: JSON.stringify(event) })
      if (queue.length > MAX_QUEUED_EVENTS) queue.splice(0, queue.length - MAX_QUEUED_EVENTS)
      flush()
    })
    await stream.writeSSE({ event: 'hello', data: JSON.stringify({ type: 'hello', status: deps.status() }) })
    const heartbeat = setInterval(() => { if (!closed) void stream.writeSSE({ event: 'ping', data: '{}' }).catch(() => {}) }, HEARTBEAT_MS)
    try {
      await done
    } finally {
      clearInterval(heartbeat)
      unsubscribe()
    }
  }))
  return app
}

export function jobRoutes (deps: AdminDeps): Hono {
  const app = new Hono()
  const now = deps.now
  const jobs = new Map<string, SyncJob>()
  let next = 1

  app.post('/peers/:name/sync', async (c) => {
    const peer = c.req.param('name')
    deps.peerStatus(peer) // 404 for an unknown peer, before anything starts
    if (c.req.query('async') === undefined) {
      const progress = await deps.syncNow(peer)
      return c.json({ peer, done: true, progress })
    }
    const running = deps.syncNow(peer)
    // a sync that cannot start (not a remote, not connected) fails within a
    // few microtasks: answer with that error rather than with a doomed job
    const early = await Promise.race([
      running.then(() => undefined, (err: unknown) => err),
      new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))
    ])
    if (early !== undefined) throw early
    const job: SyncJob = { id: String(next++), peer, state: 'running', progress: undefined, error: undefined, startedAt: now(), finishedAt: undefined }
    jobs.set(job.id, job)
    for (const [id, old] of jobs) {
      if (jobs.size <= MAX_JOBS) break
      if (old.state !== 'running') jobs.delete(id)
    }
    running.then((progress) => {
      job.finishedAt = now()
      job.progress = progress
      job.state = 'done'
    }, (err: unknown) => {
      job.finishedAt = now()
      job.error = describeError(err)
      job.state = 'failed'
    })
    return c.json({ peer, job: job.id, poll: `/api/jobs/${job.id}` }, 202)
  })

  app.get('/jobs/:id', (c) => {
    const job = jobs.get(c.req.param('id'))
    if (job === undefined) throw new NotFoundError(`no sync job ${c.req.param('id')}`)
    const progress = job.state === 'running' ? deps.peerStatus(job.peer).progress : job.progress
    return c.json({ ...job, progress })
  })
  return app
}

export function metricsRoute (deps: AdminDeps): Hono {
  const app = new Hono()
  app.get('/metrics', async (c) => {
    const metrics = deps.metrics()
    return c.body(await metrics.render(), 200, { 'content-type': metrics.contentType })
  })
  return app
}
