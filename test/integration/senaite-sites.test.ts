import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { useTestMesh } from '../helpers/lifecycle.js'
import { createAgent } from '../../agent/agent.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import { meshConfig, testLogger, waitFor } from '../helpers/nodes.js'
import { describeLayouts, senaiteInstance, startSimulator } from '../helpers/senaite.js'

const run = promisify(execFile)

describeLayouts('SENAITE sites: HTTPS, connection checks, layout checks', (layout) => {
  const mesh = useTestMesh(['old', 'new'])

  it('HTTPS with a self-signed certificate: refused without caFile, works with it', async () => {
    const O = mesh.node('old')
    const key = join(mesh.root, 'key.pem')
    const cert = join(mesh.root, 'cert.pem')
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
    const site = await startSimulator({ layout }, { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') })
    mesh.track(site)
    expect(site.url().startsWith('https://')).toBe(true)
    await seedSimulator(site, { seed: 1, samples: 1, clients: 1 })

    const without = createAgent(meshConfig(O, [], { instance: await senaiteInstance(O, site) as never }), { logger: testLogger('old') })
    await expect(without.start()).rejects.toThrow(/certificate.*instance\.caFile/)
    expect(without.state).toBe('stopped')

    const withCa = await mesh.start(meshConfig(O, [], { instance: await senaiteInstance(O, site, { caFile: cert }) as never }))
    await waitFor(() => withCa.status().objects > 10, { what: 'site read over HTTPS' })
  })

  it('a wrong URL, wrong credentials, a missing password or a layout the site is not each fail start with advice', async () => {
    const O = mesh.node('old')
    const site = await startSimulator({ layout })
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
    // the layout: detected, and a setting it contradicts refused
    const other = layout === '2.6' ? '2.5' : '2.6'
    expect(await attempt({ layout: other })).toBe(`instance.layout is ${other}, but the site at ${site.url()} answers as a SENAITE ${layout} site (senaite.jsonapi ${site.site.profile.jsonapi.version}${layout === '1.3' ? '' : `, Departments folder at /senaite/${layout === '2.6' ? 'setup/departments' : 'bika_setup/bika_departments'}`}): set instance.layout to ${layout} (or auto), or point instance.url at the site you meant`)
    expect(await attempt({ layout: layout === '1.3' ? '2.x' : '1.x' })).toMatch(new RegExp(`answers as a SENAITE ${layout.replace('.', '\\.')} site`))
    expect(await attempt({ layout: layout === '1.3' ? '1.x' : '2.x' })).toBe('started')
    expect(await attempt({ layout: 'auto' })).toBe('started')
    expect(await attempt({})).toBe('started')
  })
})
