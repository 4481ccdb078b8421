/**
 * Verify routes (issue 13): `POST /api/peers/:name/verify` compares this
 * agent's digest with a peer's (body or query: `repair`, `quick`,
 * `maxDifferences`) and answers with the report — and, with repair, what the
 * repair did and the verify after it; `GET /api/peers/:name/verify` is the
 * peer's verification state (also in /api/status); `POST /api/verify/self`
 * rebuilds our digest from our records and compares it with the stored one.
 * Both POSTs take `?async=1`: a verify of a large store can outlast an HTTP
 * client's timeout, so it runs as a job (`GET /api/jobs/:id`, with the
 * verify's progress while it runs and its report as `result`).
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { readJson } from './body.js'
import type { AdminDeps } from './deps.js'
import type { JobRegistry } from './jobs.js'

const verifyBody = z.strictObject({
  repair: z.boolean().optional(),
  quick: z.boolean().optional(),
  maxDifferences: z.number().int().min(0).max(100_000).optional()
})

const flag = (value: string | undefined): boolean | undefined => value === undefined ? undefined : value === '1' || value === 'true'

export function verifyRoutes (deps: AdminDeps, jobs: JobRegistry): Hono {
  const app = new Hono()

  app.post('/peers/:name/verify', async (c) => {
    // the options may come as a JSON body or as query flags (`?repair=1`)
    const body = c.req.header('content-type')?.includes('json') === true ? await readJson(c, verifyBody) : {}
    const repair = body.repair ?? flag(c.req.query('repair'))
    const quick = body.quick ?? flag(c.req.query('quick'))
    const peer = c.req.param('name')
    const running = deps.verify(peer, {
      ...(repair !== undefined ? { repair } : {}),
      ...(quick !== undefined ? { quick } : {}),
      ...(body.maxDifferences !== undefined ? { maxDifferences: body.maxDifferences } : {})
    })
    if (flag(c.req.query('async')) !== true) return c.json(await running)
    const job = await jobs.start('verify', peer, running, (result) => ({ result }))
    return c.json({ peer, job: job.id, poll: `/api/jobs/${job.id}` }, 202)
  })

  app.get('/peers/:name/verify', (c) => c.json(deps.verification(c.req.param('name'))))

  app.post('/verify/self', async (c) => {
    const running = deps.verifySelf()
    if (flag(c.req.query('async')) !== true) return c.json(await running)
    const job = await jobs.start('verify-self', undefined, running, (result) => ({ result }))
    return c.json({ job: job.id, poll: `/api/jobs/${job.id}` }, 202)
  })

  return app
}
