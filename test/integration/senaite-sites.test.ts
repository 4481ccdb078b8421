import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { createAgent } from '../../agent/agent.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'
import { makeTempDir, meshConfig, prepareNodes, removeDir, startAgent, testLogger, waitFor, type TestNode } from '../helpers/nodes.js'
import { senaiteInstance, startSimulator } from '../helpers/senaite.js'

const run = promisify(execFile)

function summary (sim: SenaiteSimulator): string[] {
  return sim.site.content().map((o) => `${o.portalType}|${o.reviewState}|${String(o.fields.title ?? o.fields.Keyword ?? o.fields.ClientSampleID ?? '')}`).sort()
}

describe('SENAITE sites: migration, HTTPS, connection checks, change detection', () => {
  let root: string
  let nodes: Record<string, TestNode>
  const agents = new Set<Agent>()
  const sims: SenaiteSimulator[] = []

  beforeEach(async () => {
    root = await makeTempDir()
    nodes = await prepareNodes(['old', 'new'], root)
  })
  afterEach(async () => {
    await Promise.all([...agents].map(async (a) => await a.stop()))
    agents.clear()
    for (const s of sims.splice(0)) await s.stop()
    await removeDir(root)
  })

  it('migrates a 1.x-layout site into an empty 2.x-layout site, without change dates on the old one', async () => {
    const { old: O, new: N } = nodes as Record<string, TestNode>
    // an old instance: 1.x container layout, no modified_since, no modified index but on samples
    const oldSite = await startSimulator({ layout: '1.x', modifiedSince: false, version: '1.3.5' })
    const newSite = await startSimulator({ layout: '2.x' })
    sims.push(oldSite, newSite)
    await seedSimulator(oldSite, { seed: 3, samples: 10, clients: 2 })
    const o = await startAgent(meshConfig(O!, [{ node: N! }], { instance: await senaiteInstance(O!, oldSite) as never }))
    agents.add(o)
    const n = await startAgent(meshConfig(N!, [{ node: O!, pull: true, extra: { autoSync: { interval: '0s', live: false } } }], { instance: await senaiteInstance(N!, newSite) as never }))
    agents.add(n)
    // converged: the same content (parked objects are retried until they land)
    await waitFor(() => JSON.stringify(summary(newSite)) === JSON.stringify(summary(oldSite)) && n.store.info().failed === 0, { what: 'migrated', timeout: 60_000 })
    const parked = await n.store.listFailed()
    expect(parked.map((f) => `${f.version.type} ${f.version.id}: ${f.reason}`)).toEqual([])
    // the new site's setup objects live where 2.x keeps them
    const dept = newSite.site.content().find((x) => x.portalType === 'Department')!
    expect(dept.path.startsWith('/senaite/setup/departments/')).toBe(true)
    expect(oldSite.site.content().find((x) => x.portalType === 'Department')!.path.startsWith('/senaite/bika_setup/bika_departments/')).toBe(true)
  })

  it('HTTPS with a self-signed certificate: refused without caFile, works with it', async () => {
    const { old: O } = nodes as Record<string, TestNode>
    const key = join(root, 'key.pem')
    const cert = join(root, 'cert.pem')
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
    const site = await startSimulator({}, { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') })
    sims.push(site)
    expect(site.url().startsWith('https://')).toBe(true)
    await seedSimulator(site, { seed: 1, samples: 1, clients: 1 })

    const without = createAgent(meshConfig(O!, [], { instance: await senaiteInstance(O!, site) as never }), { logger: testLogger('old') })
    await expect(without.start()).rejects.toThrow(/certificate.*instance\.caFile/)
    expect(without.state).toBe('stopped')

    const withCa = await startAgent(meshConfig(O!, [], { instance: await senaiteInstance(O!, site, { caFile: cert }) as never }))
    agents.add(withCa)
    await waitFor(() => withCa.store.info().objects > 10, { what: 'site read over HTTPS' })
  })

  it('a wrong URL, wrong credentials or a missing password each fail start with advice', async () => {
    const { old: O } = nodes as Record<string, TestNode>
    const site = await startSimulator()
    sims.push(site)
    const attempt = async (extra: Record<string, unknown>): Promise<string> => {
      const agent = createAgent(meshConfig(O!, [], { instance: { ...(await senaiteInstance(O!, site)), ...extra } as never }), { logger: testLogger('old') })
      try {
        await agent.start()
        await agent.stop()
        return 'started'
      } catch (err) {
        return (err as Error).message
      }
    }
    expect(await attempt({ url: site.url().replace('/senaite', '/plone') })).toMatch(/no SENAITE JSON API.*portal path/)
    expect(await attempt({ url: 'http://127.0.0.1:1/senaite' })).toMatch(/nothing listens.*ECONNREFUSED/)
    const wrongPassword = join(O!.dir, 'wrong.password')
    await (await import('node:fs/promises')).writeFile(wrongPassword, 'nope')
    expect(await attempt({ passwordFile: wrongPassword })).toMatch(/did not accept the credentials of instance\.username "labman"/)
    expect(await attempt({ passwordFile: join(O!.dir, 'missing') })).toMatch(/passwordFile .* cannot be read/)
    expect(await attempt({})).toBe('started')
  })
})
