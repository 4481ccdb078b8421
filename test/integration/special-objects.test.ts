import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'

describe('users, registry records and settings', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c'])

  it('travel only where the peer\'s import flags allow, registry only for bika/senaite keys', async () => {
    const [A, B, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c')]
    const a = await mesh.start(meshConfig(A, [{ node: B }, { node: C }]))
    await a.documents.putMany([
      { uid: 'user-labman', type: '@user', id: 'labman', data: { roles: ['LabManager'], groups: ['Analysts'], email: 'lab@example.org' } },
      { uid: 'reg-1', type: '@registry', id: 'senaite.core.show_partitions', data: { value: true } },
      { uid: 'reg-2', type: '@registry', id: 'bika.lims.sampling_workflow_enabled', data: { value: false } },
      { uid: 'reg-3', type: '@registry', id: 'plone.app.theming.enabled', data: { value: true } },
      { uid: 'settings-mail', type: '@settings', id: 'mail', data: { smtp_host: 'localhost' } },
      { uid: 'client-1', type: 'Client', id: 'client-1', data: {} }
    ])
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]))
    const c = await mesh.start(meshConfig(C, [{ node: A, pull: true, extra: { import: { users: true, registry: true, settings: true } } }]))
    await waitFor(() => b.peerStatus('lab-a').progress.percent === 100 && c.peerStatus('lab-a').progress.percent === 100, { what: 'both pulls done' })
    await waitFor(async () => (await c.documents.get('settings-mail')) !== undefined)
    const uidsOf = async (agent: Agent): Promise<string[]> => (await agent.documents.list({ limit: 100 })).items.map((o) => o.uid).sort()
    expect(await uidsOf(b)).toEqual(['client-1'])
    expect(await uidsOf(c)).toEqual(['client-1', 'reg-1', 'reg-2', 'settings-mail', 'user-labman'])
    expect((await c.documents.get('user-labman'))!.data).toEqual({ roles: ['LabManager'], groups: ['Analysts'], email: 'lab@example.org' })
  })
})
