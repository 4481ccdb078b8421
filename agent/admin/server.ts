/**
 * The admin app on a socket: bind `http.listen`, report the URL it got, and
 * close again without waiting for clients that never hang up. The only code
 * that binds the admin port; tests reach the same app in process instead.
 */
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { Hono } from 'hono'
import { AgentError } from '../../protocol/errors.js'

export interface HttpServer {
  /** where it listens, e.g. http://127.0.0.1:8101 (the port the kernel chose for :0) */
  readonly url: string
  close (): Promise<void>
}

/**
 * How long an idle keep-alive connection stays open on our side. Node's
 * default, 5 s, races the clients that reuse connections: undici (Node's
 * fetch) takes the `Keep-Alive: timeout=N` we send and drops an idle
 * socket after N − 2 s — 3 s — but only when its event loop gets to it. A
 * client whose loop is busy for more than those 2 s (a script working
 * between polls on a loaded machine) then sends its next request on a
 * socket we have just closed, and its read fails with "other side closed"
 * (the crash-resume harness, at load 25). An idle connection costs us one
 * socket; the clients (CLI, page, scripts) drop theirs long before this.
 */
export const ADMIN_KEEP_ALIVE_MS = 65_000

/** Listen on `host:port` (`[v6]:port` too); a port in use is a config error that says so. */
export async function startHttpServer (app: Hono, hostPort: string): Promise<HttpServer> {
  const sep = hostPort.lastIndexOf(':')
  const hostname = hostPort.slice(0, sep).replace(/^\[|\]$/g, '')
  const port = Number(hostPort.slice(sep + 1))
  return await new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, (info: AddressInfo) => {
      // see ADMIN_KEEP_ALIVE_MS: set before the first request is answered
      if ('keepAliveTimeout' in server) server.keepAliveTimeout = ADMIN_KEEP_ALIVE_MS
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
      resolve({ url: `http://${host}:${info.port}`, close: async () => { await closeServer(server) } })
    })
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new AgentError('CONFIG_INVALID', err.code === 'EADDRINUSE'
        ? `http.listen ${hostPort} is already in use: stop whatever listens there or choose another port`
        : `cannot listen on http.listen ${hostPort}: ${err.message}`))
    })
  })
}

async function closeServer (server: ServerType): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    // SSE and keep-alive connections would hold close() open forever
    if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') server.closeAllConnections()
  })
}
