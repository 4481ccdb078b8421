/**
 * Membership routes: invitations (`POST /api/invites` → the one-line code,
 * `GET /api/invites`, `DELETE /api/invites/:id`), joining another agent's
 * invitation (`POST /api/join`) and reloading the config file (`POST
 * /api/config/reload`). Bodies are validated here; a refused reload or join
 * answers with its error code and, for config problems, every issue by field
 * in `details` (app.ts).
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { durationSchema } from '../../config/duration.js'
import { multiaddrString, nameSchema } from '../../config/schema.js'
import { MAX_INVITE_ADDRS } from '../../protocol/invite-constants.js'
import { readJson } from './body.js'
import type { AdminDeps } from './deps.js'

const inviteBody = z.strictObject({
  /** the name the joining agent gets in our peers (default: its domain) */
  name: nameSchema.optional(),
  /** we pull from the joining agent */
  pull: z.boolean().optional(),
  /** how long the code is valid: 30m, 24h, 7d … (default 24h) */
  expires: durationSchema.optional(),
  /** where the joiner should dial us, when our listen addresses are not it (NAT, DNS names) */
  addrs: z.array(multiaddrString).min(1).max(MAX_INVITE_ADDRS).optional()
})

const joinBody = z.strictObject({
  code: z.string().min(1).max(4096),
  /** the name the inviting agent gets in our peers (default: its domain) */
  name: nameSchema.optional(),
  /** we pull from the inviting agent */
  pull: z.boolean().optional()
})

export function membershipRoutes (deps: AdminDeps): Hono {
  const app = new Hono()

  app.post('/invites', async (c) => {
    const body = await readJson(c, inviteBody)
    const invite = await deps.invites.create({
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.pull !== undefined ? { pull: body.pull } : {}),
      ...(body.expires !== undefined ? { expiresMs: body.expires } : {}),
      ...(body.addrs !== undefined ? { addrs: body.addrs } : {})
    })
    return c.json(invite, 201)
  })

  app.get('/invites', (c) => c.json({ items: deps.invites.list() }))

  app.delete('/invites/:id', async (c) => {
    await deps.invites.revoke(c.req.param('id'))
    return c.json({ id: c.req.param('id'), revoked: true })
  })

  app.post('/join', async (c) => {
    const body = await readJson(c, joinBody)
    return c.json(await deps.join(body.code, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.pull !== undefined ? { pull: body.pull } : {})
    }))
  })

  app.post('/config/reload', async (c) => c.json({ reloaded: true, ...await deps.reloadConfig() }))

  return app
}
