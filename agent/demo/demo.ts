/**
 * `npm start`: a small mesh a newcomer can watch. A master and two
 * collaborator labs, each an embedded-store agent on loopback, wired as
 * SENAITE.SYNC's advanced example 1 (collaborators' samples carry their
 * prefix on the master and come back only to their origin). Each lab starts
 * with generated LIMS-like data; a trickle of edits keeps things moving.
 *
 * State lives in ./demo-data (kept between runs; delete it to start over).
 */
import '../runtime/polyfills.js'
import { access, mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { validateConfig } from '../../config/load.js'
import { createAgent, type Agent } from '../agent.js'
import { createAdminToken, createIdentityKey, loadAdminToken, loadIdentityKey, peerIdOf } from '../net/identity.js'
import { createLogger, type Logger } from '../runtime/logger.js'
import type { DocumentInput } from '../apply/local-writes.js'
import { createRng, editObject, generateLimsObjects, type Rng } from './lims-data.js'

interface DemoNode {
  readonly domain: string
  readonly prefix: string
  readonly dir: string
  readonly peerId: string
  readonly p2pPort: number
  readonly httpPort: number
}

const LABS = [
  { domain: 'master', prefix: '', p2pPort: 4100, httpPort: 8100, samples: 0 },
  { domain: 'lab-a', prefix: 'A', p2pPort: 4101, httpPort: 8101, samples: 400 },
  { domain: 'lab-b', prefix: 'B', p2pPort: 4102, httpPort: 8102, samples: 400 }
] as const

export interface DemoOptions {
  readonly root: string
  readonly log: Logger
  /** ms between generated edits; 0 = none */
  readonly editEvery: number
}

export interface Demo {
  readonly agents: readonly Agent[]
  stop (): Promise<void>
}

export async function startDemo (options: DemoOptions): Promise<Demo> {
  const nodes: DemoNode[] = []
  for (const lab of LABS) {
    const dir = join(options.root, lab.domain)
    const keyFile = join(dir, 'data', 'identity.key')
    const fresh = !(await exists(keyFile))
    if (fresh) {
      await createIdentityKey(keyFile)
      await createAdminToken(join(dir, 'data', 'admin.token'))
    }
    nodes.push({
      domain: lab.domain,
      prefix: lab.prefix,
      dir,
      peerId: peerIdOf(await loadIdentityKey(keyFile)),
      p2pPort: await portOr(lab.p2pPort),
      httpPort: await portOr(lab.httpPort)
    })
  }
  const master = nodes[0]!
  const labs = nodes.slice(1)
  const peerEntry = (n: DemoNode, extra: Record<string, unknown>): Record<string, unknown> => ({
    name: n.domain, peerId: n.peerId, addrs: [`/ip4/127.0.0.1/tcp/${n.p2pPort}`], pull: true, autoSync: { interval: '30s', live: true }, ...extra
  })
  const configFor = (n: DemoNode): ReturnType<typeof validateConfig> => validateConfig({
    domain: n.domain,
    dataDir: join(n.dir, 'data'),
    listen: [`/ip4/127.0.0.1/tcp/${n.p2pPort}`],
    http: { listen: `127.0.0.1:${n.httpPort}` },
    localPrefix: n.prefix,
    peers: n === master
      ? labs.map((l) => peerEntry(l, { prefix: l.prefix, types: { prefixable: ['AnalysisRequest', 'Analysis'] } }))
      : [peerEntry(master, { types: { updateOnly: ['AnalysisRequest', 'Analysis'] } })]
  }, undefined, n.dir)

  const agents: Agent[] = []
  try {
    for (const n of nodes) {
      const agent = createAgent(configFor(n), { logger: options.log.child({ domain: n.domain }) })
      await agent.start()
      agents.push(agent)
    }
    for (let i = 0; i < agents.length; i++) {
      const agent = agents[i]!
      if (agent.status().objects > 0) continue
      await seed(agent, LABS[i]!.samples, i + 1)
    }
  } catch (err) {
    for (const a of agents) await a.stop()
    throw err
  }

  const rng = createRng('labmesh-demo')
  const timer = options.editEvery > 0
    ? setInterval(() => { void trickle(agents.slice(1), rng, options.log) }, options.editEvery)
    : undefined

  return {
    agents,
    async stop () {
      if (timer !== undefined) clearInterval(timer)
      for (const a of [...agents].reverse()) await a.stop()
    }
  }
}

/** Generated data for one lab: setup data on the master, clients and samples on the labs. */
async function seed (agent: Agent, samples: number, seed: number): Promise<void> {
  const domain = agent.config.domain
  let batch: DocumentInput[] = []
  for (const o of generateLimsObjects({ domain, seed, count: samples === 0 ? 60 : samples * 4 })) {
    batch.push({ uid: o.uid, type: o.type, id: o.id, parent: o.parent, refs: o.refs, data: o.data })
    if (batch.length === 500) { await agent.documents.putMany(batch); batch = [] }
  }
  if (batch.length > 0) await agent.documents.putMany(batch)
}

/** One realistic edit (a result, a transition) on a random sample or analysis of a random lab. */
async function trickle (labs: readonly Agent[], rng: Rng, log: Logger): Promise<void> {
  const agent = rng.pick(labs)
  if (agent.state !== 'started') return
  const type = rng.chance(0.5) ? 'Analysis' : 'AnalysisRequest'
  const page = await agent.documents.list({ type, limit: 200 })
  const own = page.items.filter((o) => o.origin === agent.config.domain && !o.deleted)
  if (own.length === 0) return
  const target = rng.pick(own)
  const edited = editObject(target, rng)
  try {
    await agent.documents.putMany([{ uid: target.uid, type: target.type, id: target.id, parent: target.parent, refs: target.refs, data: edited.data }])
  } catch (err) {
    log.debug({ err: (err as Error).message }, 'demo edit skipped')
  }
}

async function exists (file: string): Promise<boolean> {
  try { await access(file); return true } catch { return false }
}

/** The preferred port when free, else any free port. */
async function portOr (preferred: number): Promise<number> {
  const tryPort = async (port: number): Promise<number | undefined> => await new Promise((res) => {
    const server = createServer()
    server.once('error', () => res(undefined))
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      const actual = typeof address === 'object' && address !== null ? address.port : undefined
      server.close(() => res(actual))
    })
  })
  return (await tryPort(preferred)) ?? (await tryPort(0))!
}

/** Entry point for `npm start`. */
export async function runDemo (): Promise<void> {
  const root = resolve(process.env.LABMESH_DEMO_DIR ?? 'demo-data')
  await mkdir(root, { recursive: true })
  const log = createLogger({ level: (process.env.LABMESH_LOG_LEVEL as 'info' | undefined) ?? 'warn', domain: 'demo' })
  process.stdout.write(`labmesh demo: starting a master and two labs in ${root} …\n`)
  const demo = await startDemo({ root, log, editEvery: 3000 })
  process.stdout.write('\nThe mesh is running. Status pages (the token is in the URL fragment):\n\n')
  // the token is the agent's own file: the one an admin would read
  const tokens = await Promise.all(demo.agents.map(async (agent) => await loadAdminToken(agent.config.paths.tokenFile)))
  for (const [i, agent] of demo.agents.entries()) {
    const s = agent.status()
    process.stdout.write(`  ${agent.config.domain.padEnd(7)} ${agent.httpUrl ?? ''}/#token=${tokens[i]!}\n`)
    process.stdout.write(`          ${s.objects.toLocaleString('en-US')} objects, peer ID ${agent.peerId}\n`)
  }
  process.stdout.write('\nA lab edits a sample or an analysis every 3 s; watch it reach the master (prefixed) and come back.\n')
  process.stdout.write(`From a shell: curl -s ${demo.agents[0]!.httpUrl ?? ''}/api/status -H "Authorization: Bearer ${tokens[0]!}"\n`)
  process.stdout.write('Ctrl-C stops the mesh (data stays in demo-data/; delete it to start over).\n')
  await new Promise<void>((res) => {
    const stop = (): void => { process.stdout.write('\nstopping …\n'); void demo.stop().then(res) }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
