/**
 * A network link the test can cut: a TCP proxy on 127.0.0.1 in front of one
 * agent's listen address, used by one other agent to dial it. Cutting it
 * destroys every connection through it and refuses new ones (a partition, as
 * the agents see it: resets and failed dials); healing lets dials through
 * again. Nothing in the agents is touched or mocked.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export interface LinkProxy {
  /** multiaddr to give the dialling agent */
  readonly addr: string
  readonly up: boolean
  cut (): void
  heal (): void
  close (): Promise<void>
}

export async function createLinkProxy (targetPort: number): Promise<LinkProxy> {
  const pairs = new Set<[Socket, Socket]>()
  let up = true
  const server: Server = createServer((inbound) => {
    if (!up) {
      inbound.destroy()
      return
    }
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort })
    const pair: [Socket, Socket] = [inbound, outbound]
    pairs.add(pair)
    const drop = (): void => {
      inbound.destroy()
      outbound.destroy()
      pairs.delete(pair)
    }
    inbound.on('error', drop).on('close', drop)
    outbound.on('error', drop).on('close', drop)
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    addr: `/ip4/127.0.0.1/tcp/${port}`,
    get up () { return up },
    cut () {
      up = false
      for (const [a, b] of [...pairs]) { a.destroy(); b.destroy() }
      pairs.clear()
    },
    heal () { up = true },
    async close () {
      up = false
      for (const [a, b] of [...pairs]) { a.destroy(); b.destroy() }
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
