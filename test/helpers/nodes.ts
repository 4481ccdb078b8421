/**
 * Test nodes: real keys, real LevelDB in temporary directories, real libp2p
 * on 127.0.0.1. `prepareNodes` makes identities and picks ports; `meshConfig`
 * writes the config of one node given who it pulls from; `startAgent` runs it
 * in-process.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateConfig, type LoadedConfig } from '../../config/load.js'
import type { AgentConfigInput } from '../../config/schema.js'
import { createAgent, type Agent, type AgentDeps } from '../../agent/agent.js'
import { createAdminToken, createIdentityKey, peerIdOf } from '../../agent/net/identity.js'
import { createLogger, silentLogger, type Logger } from '../../agent/runtime/logger.js'
import { createPortReservations, type PortReservations } from './ports.js'

export interface TestNode {
  readonly domain: string
  readonly dir: string
  readonly peerId: string
  readonly p2pPort: number
  readonly httpPort: number
  readonly token: string
  readonly addr: string
}

export async function makeTempDir (prefix = 'labmesh-test-'): Promise<string> {
  return await mkdtemp(join(tmpdir(), prefix))
}

export async function removeDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 })
}

/**
 * A port free right now on 127.0.0.1 and reserved for this process until it
 * exits (test/helpers/ports.ts), for configs that must name their ports
 * before anything listens.
 */
export async function freePort (): Promise<number> {
  return await testPorts().take()
}

// one reservation book per test process, released when the process exits
let ports: PortReservations | undefined
function testPorts (): PortReservations {
  if (ports === undefined) {
    const book = createPortReservations()
    process.once('exit', () => book.releaseAll())
    ports = book
  }
  return ports
}

export async function prepareNode (domain: string, root: string): Promise<TestNode> {
  const dir = join(root, domain)
  const key = await createIdentityKey(join(dir, 'data', 'identity.key'))
  const token = await createAdminToken(join(dir, 'data', 'admin.token'))
  const p2pPort = await freePort()
  const httpPort = await freePort()
  return { domain, dir, peerId: peerIdOf(key), p2pPort, httpPort, token, addr: `/ip4/127.0.0.1/tcp/${p2pPort}` }
}

export async function prepareNodes (domains: readonly string[], root: string): Promise<Record<string, TestNode>> {
  const out: Record<string, TestNode> = {}
  for (const d of domains) out[d] = await prepareNode(d, root)
  return out
}

export interface PeerLink {
  readonly node: TestNode
  readonly pull?: boolean
  /** any other per-peer keys (prefix, types, import, serve, autoSync …) */
  readonly extra?: Record<string, unknown>
}

/** The config of `node`, listing `links` as peers. */
export function meshConfig (node: TestNode, links: readonly PeerLink[], extra: Partial<AgentConfigInput> = {}): LoadedConfig {
  const raw: AgentConfigInput = {
    domain: node.domain,
    dataDir: join(node.dir, 'data'),
    listen: [node.addr],
    http: { listen: `127.0.0.1:${node.httpPort}` },
    log: { level: 'warn' },
    ...extra,
    peers: links.map((l) => ({
      name: l.node.domain,
      peerId: l.node.peerId,
      addrs: [l.node.addr],
      pull: l.pull ?? false,
      autoSync: { interval: '1h', live: true },
      ...l.extra
    }))
  }
  return validateConfig(raw, undefined, node.dir)
}

export function testLogger (domain: string): Logger {
  return process.env.LABMESH_TEST_LOG !== undefined ? createLogger({ level: process.env.LABMESH_TEST_LOG as 'info', domain }) : silentLogger()
}

export async function startAgent (config: LoadedConfig, deps: AgentDeps = {}): Promise<Agent> {
  const agent = createAgent(config, { logger: testLogger(config.domain), ...deps })
  await agent.start()
  return agent
}

/** Poll `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T> (check: () => T | Promise<T>, options: { timeout?: number, interval?: number, what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeout ?? 15_000)
  let last: unknown
  while (true) {
    try {
      const value = await check()
      if (value !== undefined && value !== null && value !== false) return value as NonNullable<T>
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}${last !== undefined ? ` (last error: ${(last as Error).message})` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, options.interval ?? 25))
  }
}

/** A logger that keeps every line, for asserting that something was logged. */
export function capturingLogger (domain: string): { logger: Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({
    level: 'debug',
    domain,
    destination: { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } }
  })
  return { logger, lines }
}
