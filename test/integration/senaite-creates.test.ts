/**
 * Creates in SENAITE happen at most once per mesh uid, whatever the site
 * does to them: a create it fails after making the object (HTTP 200
 * success:false — the object stays, as senaite.jsonapi leaves it for any
 * error that is no APIError), a file it cannot decode ("Incorrect padding",
 * the same), a create whose answer is lost, and an agent killed between the
 * site's answer and the journal. Each ends with exactly one object in the
 * site, the mesh object's, and nothing echoed back as a new object.
 */
import { expect, it } from 'vitest'
import { adminRequest } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { writeNodeConfig } from '../helpers/processes.js'
import { describeLayouts, senaiteInstance, startSimulator } from '../helpers/senaite.js'
import { agentInternals } from '../../agent/test-hooks.js'
import type { Agent } from '../../agent/agent.js'
import type { SenaiteSimulator, WriteFaults } from '../senaite-sim/simulator.js'

const methods = (sim: SenaiteSimulator, title: string): number => sim.site.content().filter((o) => o.portalType === 'Method' && o.fields.title === title).length

describeLayouts('SENAITE creates, once each', (layout) => {
  const mesh = useTestMesh(['master', 'lab-a'])

  /** the master (embedded) holding `method`, and lab-a beside a simulated site with these faults, pulling from it */
  async function start (faults: WriteFaults, method: Record<string, unknown>): Promise<{ site: SenaiteSimulator, master: Agent, a: Agent }> {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const site = mesh.track(await startSimulator({ layout, faults }))
    const master = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    await master.documents.put({ uid: 'method-icp', type: 'Method', id: 'method-1', data: method })
    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site) as never }))
    return { site, master, a }
  }

  it('a create the site fails after making the object leaves that object, adopted; the retry completes it — one object', async () => {
    let failures = 0
    const { site, master, a } = await start({ afterCreate: (type) => type === 'Method' && failures++ === 0 ? 'simulated: a mutator failed after the object was made' : undefined }, { title: 'ICP-OES', Instructions: 'rinse twice' })
    const parked = await waitFor(async () => await agentInternals(a).store.getFailed('method-icp'), { what: 'the method parked with the site\'s message' })
    expect(parked.code).toBe('SENAITE_REFUSED')
    expect(parked.reason).toContain('simulated: a mutator failed')
    expect(methods(site, 'ICP-OES')).toBe(1)

    const retried = await adminRequest(a, 'POST', '/api/failed/method-icp/retry')
    expect(retried.status).toBe(200)
    await waitFor(async () => (await agentInternals(a).store.getObject('method-icp')) !== undefined && a.status().failed === 0, { what: 'the method applied on retry' })
    expect(methods(site, 'ICP-OES')).toBe(1)
    expect(site.site.content().find((o) => o.portalType === 'Method')!.fields.Instructions).toBe('rinse twice')
    // the adopted object is the mesh object: never reported to the master as one of the site's own
    await new Promise((resolve) => setTimeout(resolve, 600)) // a few polls
    expect((await master.documents.list({ type: 'Method', limit: 10 })).items.map((o) => o.uid)).toEqual(['method-icp'])
  })

  it('a file the site cannot decode ("Incorrect padding") leaves a half-made object once; the corrected version updates it', async () => {
    const bad = { filename: 'sop.txt', content_type: 'text/plain', data: 'abc' } // 18 bits: not whole bytes
    const { site, master, a } = await start({}, { title: 'ICP-OES', MethodDocument: bad })
    const parked = await waitFor(async () => await agentInternals(a).store.getFailed('method-icp'), { what: 'the method parked' })
    expect(parked.reason).toContain('Incorrect padding')
    expect(methods(site, 'ICP-OES')).toBe(1)
    // retried as it is: the same error, still one object
    await adminRequest(a, 'POST', '/api/failed/method-icp/retry')
    await adminRequest(a, 'POST', '/api/failed/method-icp/retry')
    expect(methods(site, 'ICP-OES')).toBe(1)

    const good = { filename: 'sop.txt', content_type: 'text/plain', data: Buffer.from('ICP-OES operating procedure').toString('base64') }
    await master.documents.put({ uid: 'method-icp', type: 'Method', id: 'method-1', data: { title: 'ICP-OES', MethodDocument: good } })
    await waitFor(() => (site.site.content().find((o) => o.portalType === 'Method')?.fields.MethodDocument as { data?: string } | undefined)?.data === good.data, { what: 'the corrected file in the site', timeout: 20_000 })
    expect(methods(site, 'ICP-OES')).toBe(1)
    await waitFor(() => a.status().failed === 0, { what: 'nothing parked' })
  })

  it('a create whose answer is lost (HTTP 500 after the site made it) is adopted, not sent again', async () => {
    let lost = 0
    const { site, a } = await start({ beforeAnswer: (action, type) => { if (action === 'create' && type === 'Method' && lost++ === 0) throw new Error('simulated: the connection dropped') } }, { title: 'ICP-OES' })
    await waitFor(async () => (await agentInternals(a).store.getObject('method-icp')) !== undefined, { what: 'the method applied' })
    expect(lost).toBe(1)
    expect(methods(site, 'ICP-OES')).toBe(1)
    expect(site.calls.get('POST create')).toBe(1)
    expect(a.status().failed).toBe(0)
  })

  it('an agent killed between the site\'s answer and the journal adopts the object at its next start — one object, nothing echoed', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    let victim: { kill: () => Promise<void> } | undefined
    let killed = 0
    const site = mesh.track(await startSimulator({
      layout,
      faults: {
        beforeAnswer: async (action, type) => {
          if (action !== 'create' || type !== 'Method' || killed++ > 0) return
          await waitFor(() => victim, { what: 'the agent process' })
          await victim!.kill()
        }
      }
    }))
    const master = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    await master.documents.put({ uid: 'method-icp', type: 'Method', id: 'method-1', data: { title: 'ICP-OES' } })
    const config = await writeNodeConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site) })
    const first = await mesh.spawn(config, A)
    victim = { kill: async () => { first.proc.kill('SIGKILL'); await first.exited } }
    expect((await first.exited).signal).toBe('SIGKILL')
    expect(methods(site, 'ICP-OES')).toBe(1)

    const second = await mesh.spawn(config, A)
    await waitFor(async () => (await second.api<{ failed: number, objects: number }>('GET', '/api/status')).objects >= 1, { what: 'the method applied after the restart', timeout: 30_000 })
    await waitFor(async () => await second.api('GET', '/api/objects/method-icp').then(() => true, () => false), { what: 'the method in lab-a\'s store' })
    expect(methods(site, 'ICP-OES')).toBe(1)
    expect(site.calls.get('POST create')).toBe(1)
    // a few polls later: the site's Method is the mesh object, not a new one of lab-a's
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect((await master.documents.list({ type: 'Method', limit: 10 })).items.map((o) => o.uid)).toEqual(['method-icp'])
  })
})
