/**
 * Live views: server-sent events (`GET /api/events`), Prometheus metrics
 * (`GET /metrics`) and sync jobs (`POST /api/peers/:name/sync?async=1`, then
 * `GET /api/jobs/:id`) for long pulls that outlive one HTTP request.
 */
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { describeError, NotFoundError } from '../errors.js'
import type { ProgressSnapshot } from '../progress.js'
import type { AdminDeps } from './deps.js'

/** keeps proxies and browsers from timing an idle event stream out */
const HEARTBEAT_MS = 15_000

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
    const queue: string[] = []
    let writing = Promise.resolve()
    const flush = (): void => {
      writing = writing.then(async () => {
        while (queue.length > 0 && !closed) {
          const data = queue.shift()!
          const type = (JSON.parse(data) as { type: string }).type
          await stream.writeSSE({ event: type, data })
        }
      }).catch(() => { closed = true })
    }
    const unsubscribe = deps.bus.subscribe((event) => {
      if (closed) return
      queue.push(JSON.stringify(event))
      if (queue.length > 10_000) queue.splice(0, queue.length - 10_000) // a stalled reader loses old events, not the agent's memory
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

export function jobRoutes (deps: AdminDeps, now: () => number = Date.now): Hono {
  const app = new Hono()
  const jobs = new Map<string, SyncJob>()
  let next = 1

  app.post('/peers/:name/sync', async (c) => {
    const peer = c.req.param('name')
    deps.peerStatus(peer) // 404 for an unknown peer, before anything starts
    if (c.req.query('async') === undefined) {
      const progress = await deps.syncNow(peer)
      return c.json({ peer, done: true, progress })
    }
    const job: SyncJob = { id: String(next++), peer, state: 'running', progress: undefined, error: undefined, startedAt: now(), finishedAt: undefined }
    jobs.set(job.id, job)
    for (const old of [...jobs.keys()].slice(0, Math.max(0, jobs.size - 100))) jobs.delete(old)
    deps.syncNow(peer).then((progress) => {
      job.state = 'done'
      job.progress = progress
    }, (err: unknown) => {
      job.state = 'failed'
      job.error = describeError(err)
    }).finally(() => { job.finishedAt = now() })
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
