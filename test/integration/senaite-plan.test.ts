/**
 * `labmesh plan` against a fresh SENAITE site lists what a pull would
 * create where — each object's container path in that site, in the order it
 * would be written — and writes nothing; a container the site lacks is
 * named there, and the real pull then parks what would go in it (never
 * writing it elsewhere, not even into a folder of the same type at another
 * path, which a catalog that ignores the path term answers with).
 */
import { expect, it } from 'vitest'
import { agentInternals } from '../../agent/test-hooks.js'
import { renderPlan } from '../../agent/cli/format.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { runCli, writeNodeConfig } from '../helpers/processes.js'
import { describeLayouts, senaiteInstance, startSimulator } from '../helpers/senaite.js'
import { seedSimulator } from '../senaite-sim/dataset.js'
import { writeCalls } from '../senaite-sim/simulator.js'

describeLayouts('labmesh plan against a fresh SENAITE site', (layout) => {
  const mesh = useTestMesh(['old', 'new'])

  it('lists each create with its container path, in write order; writes nothing; names a missing container, which the pull then parks', async () => {
    const [O, N] = [mesh.node('old'), mesh.node('new')]
    const source = mesh.track(await startSimulator({ layout }))
    const target = mesh.track(await startSimulator({ layout }))
    const seeded = await seedSimulator(source, { seed: 4, samples: 4, clients: 1 })
    // the fresh site lacks its attachment types folder, and has a folder of that type elsewhere
    const setupPath = layout === '2.6' ? '/senaite/setup/attachmenttypes' : '/senaite/bika_setup/bika_attachmenttypes'
    const real = target.site.atPath(setupPath)!
    target.site.remove(real)
    const methods = target.site.atPath('/senaite/methods')!
    target.site.add({ ...real, uid: target.site.newUid(), parentUid: methods.uid, path: '/senaite/methods/attachmenttypes' })

    const old = await mesh.start(meshConfig(O, [{ node: N }], { instance: await senaiteInstance(O, source) as never }))
    await waitFor(() => old.status().objects >= seeded.objects, { what: 'the old site read' })
    const config = meshConfig(N, [{ node: O, pull: true }], { instance: await senaiteInstance(N, target) as never })
    const planner = await mesh.start(config, { passive: true })
    const plan = await planner.plan('old')
    await mesh.stop(planner)
    expect(target.site.content()).toEqual([])
    expect(writeCalls(target)).toBe(0)

    const placements = plan.placements!
    expect(placements).toHaveLength(source.site.content().length)
    const at = (type: string): string[] => [...new Set(placements.filter((p) => p.type === type).map((p) => `${p.action} ${p.where}`))]
    const setup = (at: string, dx: string): string => layout === '2.6' ? `/senaite/setup/${dx}` : `/senaite/bika_setup/${at}`
    expect(at('Department')).toEqual([`create ${setup('bika_departments', 'departments')}`])
    expect(at('SampleType')).toEqual([`create ${setup('bika_sampletypes', 'sampletypes')}`])
    expect(at('Client')).toEqual(['create /senaite/clients'])
    expect(at('AnalysisRequest')).toEqual(['create /senaite/clients/<new Client client-1>'])
    expect(at('Analysis').every((w) => /^adopt \/senaite\/clients\/<new Client client-1>\/<new AnalysisRequest [A-Z]+-\d{4}>$/.test(w))).toBe(true)
    const refused = placements.filter((p) => p.type === 'AttachmentType')
    expect(refused.map((p) => p.action)).toEqual(['refuse'])
    expect(refused[0]!.note).toContain(`no AttachmentTypes folder at ${setupPath}`)
    // in order: whatever an object goes in or refers to comes before it
    const position = new Map(placements.map((p, i) => [p.uid, i]))
    for (const p of placements) {
      const o = source.site.get(p.uid)!
      const parent = o.parentUid !== null ? position.get(o.parentUid) : undefined
      if (parent !== undefined) expect(parent, `${p.type} ${p.id} after its parent`).toBeLessThan(position.get(p.uid)!)
    }
    expect(position.get(source.site.content().find((o) => o.portalType === 'LabContact')!.uid)!).toBeLessThan(position.get(source.site.content().find((o) => o.portalType === 'Department')!.uid)!)
    const text = renderPlan(plan)
    expect(text).toContain('what would be created where, in order')
    expect(text).toMatch(/REFUSE 1 AttachmentType in - \(attachmenttype-1\) — this SENAITE site has no AttachmentTypes folder/)

    // the real pull: the attachment type parked with that reason, nothing made in the decoy folder
    const fresh = await mesh.start(config)
    const parked = await waitFor(async () => await agentInternals(fresh).store.getFailed(source.site.content().find((o) => o.portalType === 'AttachmentType')!.uid), { what: 'the attachment type parked', timeout: 30_000 })
    expect(parked.code).toBe('SENAITE_CONTAINER_MISSING')
    expect(parked.reason).toContain(setupPath)
    await waitFor(() => fresh.peerStatus('old').progress.percent === 100 && target.site.content().some((o) => o.portalType === 'Analysis'), { what: 'the rest written', timeout: 30_000 })
    expect(target.site.children(target.site.atPath('/senaite/methods/attachmenttypes')!.uid)).toEqual([])
  })

  if (layout === '2.6') {
    it('from the command line, with no agent running: the same list, printed', async () => {
      const [O, N] = [mesh.node('old'), mesh.node('new')]
      const source = mesh.track(await startSimulator({ layout }))
      const target = mesh.track(await startSimulator({ layout }))
      const seeded = await seedSimulator(source, { seed: 4, samples: 2, clients: 1 })
      const old = await mesh.start(meshConfig(O, [{ node: N }], { instance: await senaiteInstance(O, source) as never }))
      await waitFor(() => old.status().objects >= seeded.objects, { what: 'the old site read' })
      const file = await writeNodeConfig(N, [{ node: O, pull: true }], { instance: await senaiteInstance(N, target) })
      const out = await runCli(['plan', '--config', file, '--peer', 'old'], { timeout: 60_000 })
      if (process.env.LABMESH_SHOW_PLAN !== undefined) console.log(out.stdout)
      expect(out.stderr).not.toMatch(/error/i)
      expect(out.code).toBe(0)
      expect(out.stdout).toMatch(/what would be created where, in order \(\d+ objects\):/)
      expect(out.stdout).toMatch(/create 1 Department in \/senaite\/setup\/departments \(department-1\)/)
      expect(out.stdout).toMatch(/create \d+ AnalysisRequest in \/senaite\/clients\/<new Client client-1>/)
      expect(target.site.content()).toEqual([])
    })
  }
})

