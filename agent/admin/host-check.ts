/**
 * DNS-rebinding guard. A web page on some other site can make its own DNS
 * name resolve to 127.0.0.1 and then read this server as if it were
 * same-origin; the browser still sends that page's name in the Host header.
 * The bearer token already stops it for everything but what
 * `http.publicStatus` / `http.publicMetrics` open, yet those reads carry lab
 * data (conflicts hold both versions), so every request must name a host this
 * agent answers to: an IP address (rebinding needs a DNS name), `localhost`,
 * the host of `http.listen`, or one listed in `http.allowedHosts` (the name an
 * admin reaches it by through a reverse proxy; `.example.org` allows every
 * name under it).
 */
import { isIP } from 'node:net'
import type { MiddlewareHandler } from 'hono'
import type { Logger } from '../runtime/logger.js'

export function hostAllowed (hostname: string, allowed: readonly string[]): boolean {
  const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')
  if (isIP(name) !== 0) return true
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  return allowed.some((entry) => {
    const e = entry.toLowerCase()
    return e.startsWith('.') ? name.endsWith(e) || name === e.slice(1) : name === e
  })
}

/** Refuses (421 Misdirected Request) a request whose Host is not this agent's. */
export function requireKnownHost (allowed: readonly string[], log: Logger): MiddlewareHandler {
  const warned = new Set<string>()
  return async (c, next) => {
    const hostname = new URL(c.req.url).hostname
    if (hostAllowed(hostname, allowed)) return await next()
    // once per name: a rebinding page polls, and each poll would be a line
    if (warned.size < 100 && !warned.has(hostname)) {
      warned.add(hostname)
      log.warn({ host: hostname, path: c.req.path }, 'HTTP request for an unknown host name refused (possible DNS rebinding); add the name to http.allowedHosts if admins use it')
    }
    return c.json({ error: 'HOST_NOT_ALLOWED', message: `this agent does not answer to the host name '${hostname}': reach it by IP address or localhost, or add the name to http.allowedHosts in its config` }, 421)
  }
}
