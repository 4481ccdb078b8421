/**
 * Live views: server-sent events (`GET /api/events`), Prometheus metrics
 * (`GET /metrics`) and background jobs (`POST /api/peers/:name/sync?async=1`,
 * the verify routes' `?async=1`, then `GET /api/jobs/:id`) for work that
 * outlives one HTTP request (registry in jobs.ts).
 *
 * An event stream lives until the client goes away or the server closes the
 * connection (the agent's stop closes every connection): either way its bus
 * subscription and heartbeat timer end with it. A reader that stalls loses
 * its oldest events, never the agent's memory.
 */
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { NotFoundError } from '../errors.js'
import type { AdminDeps } from './deps.js'
import type { JobRegistry } from './jobs.js'

/** keeps proxies and browsers from timing an idle event stream out */
const HEARTBEAT_MS = 15_000
/** events buffered for one slow reader before the oldest are dropped */
const MAX_QUEUED_EVENTS = 10_000
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

export function jobRoutes (deps: AdminDeps, jobs: JobRegistry): Hono {
  const app = new Hono()

  app.post('/peers/:name/sync', async (c) => {
    const peer = c.req.param('name')
    deps.peerStatus(peer) // 404 for an unknown peer, before anything starts
    if (c.req.query('async') === undefined) {
      const progress = await deps.syncNow(peer)
      return c.json({ peer, done: true, progress })
    }
    const job = await jobs.start('sync', peer, deps.syncNow(peer), (progress) => ({ progress, result: { peer, done: true, progress } }))
    return c.json({ peer, job: job.id, poll: `/api/jobs/${job.id}` }, 202)
  })

  app.get('/jobs/:id', (c) => {
    const job = jobs.get(c.req.param('id'))
    if (job === undefined) throw new NotFoundError(`no job ${c.req.param('id')} (jobs are kept in memory: an agent restart forgets them)`)
    const progress = job.state !== 'running'
      ? job.progress
      : job.kind === 'sync' && job.peer !== undefined
        ? deps.peerStatus(job.peer).progress
        : job.kind === 'verify' && job.peer !== undefined ? deps.verification(job.peer).progress : undefined
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
