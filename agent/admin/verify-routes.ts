/**
 * Verify routes (issue 13): `POST /api/peers/:name/verify` compares this
 * agent's digest with a peer's (body or query: `repair`, `quick`,
 * `maxDifferences`) and answers with the report — and, with repair, what the
 * repair did and the verify after it; `GET /api/peers/:name/verify` is the
 * peer's verification state (also in /api/status); `POST /api/verify/self`
 * rebuilds our digest from our records and compares it with the stored one.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { readJson } from './body.js'
import type { AdminDeps } from './deps.js'

const verifyBody = z.strictObject({
  repair: z.boolean().optional(),
  quick: z.boolean().optional(),
  maxDifferences: z.number().int().min(0).max(100_000).optional()
})

const flag = (value: string | undefined): boolean | undefined => value === undefined ? undefined : value === '1' || value === 'true'

export function verifyRoutes (deps: AdminDeps): Hono {
  const app = new Hono()

  app.post('/peers/:name/verify', async (c) => {
    // the options may come as a JSON body or as query flags (`?repair=1`)
    const body = c.req.header('content-type')?.includes('json') === true ? await readJson(c, verifyBody) : {}
    const repair = body.repair ?? flag(c.req.query('repair'))
    const quick = body.quick ?? flag(c.req.query('quick'))
    return c.json(await deps.verify(c.req.param('name'), {
      ...(repair !== undefined ? { repair } : {}),
      ...(quick !== undefined ? { quick } : {}),
      ...(body.maxDifferences !== undefined ? { maxDifferences: body.maxDifferences } : {})
    }))
  })

  app.get('/peers/:name/verify', (c) => c.json(deps.verification(c.req.param('name'))))

  app.post('/verify/self', async (c) => c.json(await deps.verifySelf()))

  return app
}
