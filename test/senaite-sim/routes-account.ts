/**
 * Account routes of a real layout (JA 2.5.0 `v1/routes/users.py`):
 * `auth` answers `{}` — with 401 and `WWW-Authenticate: basic
 * realm="JSONAPI AUTH"` for an anonymous caller; `login` needs both
 * parameters (400) and answers 401 "Invalid Credentials" when the caller
 * is still anonymous; `users`, `users/<name>` and `users/current` are
 * batched envelopes, and an anonymous caller always gets `current`.
 * Wrong credentials are anonymous: PAS never challenges here.
 */
import { randomBytes } from 'node:crypto'
import type { Context, Hono } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { answer, count, fail, userOf, type RouteEnv } from './context.js'
import { parseForm, single, toInt } from './form.js'

export function registerAccountRoutes (api: Hono, env: RouteEnv): void {
  const { users, base } = env
  const usersUrl = (name: string): string => `${env.origin()}${base}/users/${name}`

  const userInfo = (caller: string | undefined, name: string): Record<string, unknown> | null => {
    if (caller === undefined) return { username: 'Anonymous User', authenticated: false, roles: ['Anonymous'], api_url: usersUrl('current') }
    const u = users[name]
    if (u === undefined) return null // get_user_info returns None for an unknown user
    return {
      username: name,
      roles: [...u.roles, 'Authenticated'],
      groups: [...(u.groups ?? []), 'AuthenticatedUsers'],
      authenticated: caller === name,
      api_url: usersUrl(name),
      email: u.email ?? `${name}@lab.example`,
      fullname: name,
      description: '',
      listed: true,
      language: '',
      home_page: '',
      location: ''
    }
  }

  const usersEnvelope = (c: Context, caller: string | undefined, username: string | undefined, start: number): Response => {
    // anonymous callers may not look at anyone but themselves
    const wanted = caller === undefined ? 'current' : username
    const ids = wanted === undefined ? Object.keys(users) : wanted === 'current' ? [caller ?? 'Anonymous User'] : [wanted]
    const form = parseForm(new URL(c.req.url).searchParams)
    const size = toInt(form.limit, 25)
    const bStart = toInt(form.b_start, 0)
    const pages = Math.max(1, Math.ceil(ids.length / size))
    const page = Math.min(Math.floor(bStart / size) + 1, pages)
    return answer(c, {
      pagesize: size,
      next: null,
      previous: null,
      page,
      pages,
      count: ids.length,
      items: ids.slice(bStart, bStart + size).map((id) => userInfo(caller, id))
    }, start)
  }

  for (const path of ['/auth', '/users/auth']) {
    api.get(path, (c) => {
      const start = performance.now()
      if (userOf(env, c) === undefined) {
        c.header('WWW-Authenticate', 'basic realm="JSONAPI AUTH"')
        return answer(c, {}, start, 401)
      }
      return answer(c, {}, start)
    })
  }
  for (const path of ['/login', '/users/login']) {
    api.on(['GET', 'POST'], path, async (c) => {
      const start = performance.now()
      const query = parseForm(new URL(c.req.url).searchParams)
      const body = c.req.method === 'POST' ? parseForm(new URLSearchParams(await c.req.text())) : {}
      const name = single(query.__ac_name) ?? single(body.__ac_name)
      const password = single(query.__ac_password) ?? single(body.__ac_password)
      if (name === undefined) return fail(env, c, 400, '__ac_name is missing', start)
      if (password === undefined) return fail(env, c, 400, '__ac_password is missing', start)
      const known = users[name]
      // the cookie plugin's login() sets the cookie; the request itself may already be authenticated
      const caller = known !== undefined && known.password === password ? name : userOf(env, c)
      if (caller === undefined) return fail(env, c, 401, 'Invalid Credentials', start)
      if (caller === name) {
        const ticket = randomBytes(16).toString('hex')
        env.sessions.set(ticket, name)
        setCookie(c, '__ac', ticket, { path: '/', httpOnly: true })
      }
      return usersEnvelope(c, caller, name, start)
    })
  }
  for (const path of ['/logout', '/users/logout']) {
    api.get(path, (c) => {
      const ticket = getCookie(c, '__ac')
      if (ticket !== undefined) env.sessions.delete(ticket)
      return answer(c, { url: `${env.origin()}${base}/users`, authenticated: false, success: true }, performance.now())
    })
  }
  api.get('/users', (c) => usersEnvelope(c, userOf(env, c), undefined, performance.now()))
  api.get('/users/:username', (c) => {
    if (c.req.param('username') === 'current') count(env, 'GET users/current')
    return usersEnvelope(c, userOf(env, c), c.req.param('username'), performance.now())
  })
}
