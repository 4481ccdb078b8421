import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { useTestMesh } from '../helpers/lifecycle.js'
import { createAgent } from '../../agent/agent.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'
import { meshConfig, testLogger, waitFor } from '../helpers/nodes.js'
import { senaiteInstance, startSimulator } from '../helpers/senaite.js'

const run = promisify(execFile)

function summary (sim: SenaiteSimulator): string[] {
  return sim.site.content().map((o) => `${o.portalType}|${o.reviewState}|${String(o.fields.title ?? o.fields.Keyword ?? o.fields.ClientSampleID ?? '')}`).sort()
}

describe('SENAITE sites: migration, HTTPS, connection checks, change detection', () => {
  const mesh = useTestMesh(['old', 'new'])

  it('migrates a 1.x-layout site into an empty 2.x-layout site, without change dates on the old one', async () => {
    const [O, N] = [mesh.node('old'), mesh.node('new')]
    // an old instance: 1.x container layout, no modified_since, no modified index but on samples
    const oldSite = await startSimulator({ layout: '1.x', modifiedSince: false, version: '1.3.5' })
    const newSite = await startSimulator({ layout: '2.x' })
    mesh.track(oldSite); mesh.track(newSite)
    await seedSimulator(oldSite, { seed: 3, samples: 10, clients: 2 })
    await mesh.start(meshConfig(O, [{ node: N }], { instance: await senaiteInstance(O, oldSite) as never }))
    const n = await mesh.start(meshConfig(N, [{ node: O, pull: true, extra: { autoSync: { interval: '0s', live: false } } }], { instance: await senaiteInstance(N, newSite) as never }))
    // converged: the same content (parked objects are retried until they land)
    await waitFor(() => JSON.stringify(summary(newSite)) === JSON.stringify(summary(oldSite)) && n.status().failed === 0, { what: 'migrated', timeout: 60_000 })
    const parked = await n.failed.list({ limit: 1000 })
    expect(parked.map((f) => `${f.version.type} ${f.version.id}: ${f.reason}`)).toEqual([])
    // the new site's setup objects live where 2.x keeps them
    const dept = newSite.site.content().find((x) => x.portalType === 'Department')!
    expect(dept.path.startsWith('/senaite/setup/departments/')).toBe(true)
    expect(oldSite.site.content().find((x) => x.portalType === 'Department')!.path.startsWith('/senaite/bika_setup/bika_departments/')).toBe(true)
  })

  it('HTTPS with a self-signed certificate: refused without caFile, works with it', async () => {
    const O = mesh.node('old')
    const key = join(mesh.root, 'key.pem')
    const cert = join(mesh.root, 'cert.pem')
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
    const site = await startSimulator({}, { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') })
    mesh.track(site)
    expect(site.url().startsWith('https://')).toBe(true)
    await seedSimulator(site, { seed: 1, samples: 1, clients: 1 })

    const without = createAgent(meshConfig(O, [], { instance: await senaiteInstance(O, site) as never }), { logger: testLogger('old') })
    await expect(without.start()).rejects.toThrow(/certificate.*instance\.caFile/)
    expect(without.state).toBe('stopped')

    const withCa = await mesh.start(meshConfig(O, [], { instance: await senaiteInstance(O, site, { caFile: cert }) as never }))
    await waitFor(() => withCa.status().objects > 10, { what: 'site read over HTTPS' })
  })

  it('a wrong URL, wrong credentials or a missing password each fail start with advice', async () => {
    const O = mesh.node('old')
    const site = await startSimulator()
    mesh.track(site)
    const attempt = async (extra: Record<string, unknown>): Promise<string> => {
      const agent = createAgent(meshConfig(O, [], { instance: { ...(await senaiteInstance(O, site)), ...extra } as never }), { logger: testLogger('old') })
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
    const wrongPassword = join(O.dir, 'wrong.password')
    await (await import('node:fs/promises')).writeFile(wrongPassword, 'nope')
    expect(await attempt({ passwordFile: wrongPassword })).toMatch(/did not accept the credentials of instance\.username "labman"/)
    expect(await attempt({ passwordFile: join(O.dir, 'missing') })).toMatch(/passwordFile .* cannot be read/)
    expect(await attempt({})).toBe('started')
  })
})
