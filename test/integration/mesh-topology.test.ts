/**
 * A master and six collaborators in one process, real libp2p on 127.0.0.1
 * and a LevelDB store each, wired as SENAITE.SYNC's "Full Sync for Multiple
 * Instances" with advanced example 2's rules (the bench's `--mesh` topology,
 * small): the master pulls from every collaborator, prefixing their samples
 * and analyses and skipping the types it owns; each collaborator pulls from
 * the master only, samples and analyses update-only, the master's types
 * read-only. Asserts the mesh converges with the rules applied: shared
 * objects and edits reach everyone through the master, samples reach the
 * master (prefixed) and come back only to their origin (unprefixed), the
 * master's types reach every collaborator and no collaborator may edit them.
 */
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { adminRequest } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'

const LABS = ['lab-01', 'lab-02', 'lab-03', 'lab-04', 'lab-05', 'lab-06'] as const
const SAMPLES = ['AnalysisRequest', 'Analysis']
const OWNED = ['Method', 'AnalysisService', 'Calculation']
const prefixOf = (lab: string): string => 'L' + lab.slice(4)

describe('mesh: a master and six collaborators', () => {
  const frame = useTestMesh(['master', ...LABS])

  async function startMesh (): Promise<{ master: Agent, labs: Map<string, Agent> }> {
    const m = frame.node('master')
    const master = await frame.start(meshConfig(m, LABS.map((lab) => ({
      node: frame.node(lab),
      pull: true,
      extra: { prefix: prefixOf(lab), types: { prefixable: SAMPLES, skip: OWNED } }
    }))))
    const labs = new Map(await Promise.all(LABS.map(async (lab) => [lab, await frame.start(meshConfig(frame.node(lab), [{
      node: m,
      pull: true,
      extra: { types: { updateOnly: SAMPLES, readOnly: OWNED } }
    }], { localPrefix: prefixOf(lab) }))] as const)))
    return { master, labs }
  }

  const holdsAll = async (agent: Agent, check: Array<[string, (o: Awaited<ReturnType<Agent['documents']['get']>>) => boolean]>): Promise<boolean> => {
    for (const [uid, ok] of check) if (!ok(await agent.documents.get(uid))) return false
    return true
  }

  it('converges with prefixes, update-only samples and read-only master types applied', async () => {
    const { master, labs } = await startMesh()
    await master.documents.putMany([
      { uid: 'method-1', type: 'Method', id: 'method-1', data: { title: 'ICP-MS' } },
      { uid: 'dept-1', type: 'Department', id: 'department-1', data: { title: 'Chemistry' } }
    ])
    for (const [lab, agent] of labs) {
      await agent.documents.putMany([
        { uid: `${lab}-client`, type: 'Client', id: `client-${lab}`, data: { title: `Client of ${lab}` } },
        { uid: `${lab}-sample`, type: 'AnalysisRequest', id: 'S-0001', parent: `${lab}-client`, data: { review_state: 'sample_received' } },
        { uid: `${lab}-analysis`, type: 'Analysis', id: 'Ca', parent: `${lab}-sample`, data: { Result: null } }
      ])
    }
    // every collaborator holds the master's objects and every other lab's client; the master every sample, prefixed
    await waitFor(async () => {
      for (const [, agent] of labs) {
        if (!await holdsAll(agent, [['method-1', (o) => o !== undefined], ['dept-1', (o) => o !== undefined], ...LABS.map((l): [string, (o: unknown) => boolean] => [`${l}-client`, (o) => o !== undefined])])) return false
      }
      return await holdsAll(master, LABS.map((l): [string, (o: Awaited<ReturnType<Agent['documents']['get']>>) => boolean] => [`${l}-analysis`, (o) => o?.id === `${prefixOf(l)}-Ca`]))
    }, { timeout: 30_000, what: 'the initial objects everywhere the rules send them' })
    expect((await master.documents.get('lab-03-sample'))?.id).toBe('L03-S-0001')
    for (const [lab, agent] of labs) {
      for (const other of LABS) if (other !== lab) expect(await agent.documents.get(`${other}-sample`), `${other}'s sample on ${lab}`).toBeUndefined()
    }

    // a collaborator's edit of a shared object reaches every other collaborator through the master
    await labs.get('lab-02')!.documents.put({ uid: 'lab-02-client', type: 'Client', id: 'client-lab-02', data: { title: 'renamed on lab-02' } })
    // the master reports a result on lab-05's analysis: back to lab-05 only, with lab-05's own id
    await master.documents.put({ uid: 'lab-05-analysis', type: 'Analysis', id: 'L05-Ca', parent: 'lab-05-sample', data: { Result: 42 } })
    await waitFor(async () => {
      for (const [, agent] of labs) if ((await agent.documents.get('lab-02-client'))?.data.title !== 'renamed on lab-02') return false
      return (await labs.get('lab-05')!.documents.get('lab-05-analysis'))?.data.Result === 42
    }, { timeout: 30_000, what: 'the edits at every agent that must hold them' })
    expect((await labs.get('lab-05')!.documents.get('lab-05-analysis'))?.id).toBe('Ca')
    for (const lab of LABS) if (lab !== 'lab-05') expect(await labs.get(lab)!.documents.get('lab-05-analysis')).toBeUndefined()

    // the master's types are read-only on a collaborator
    const refused = await adminRequest(labs.get('lab-04')!, 'PUT', '/api/objects/method-1', { body: { type: 'Method', id: 'method-1', data: { title: 'changed on lab-04' } } })
    expect(refused.status).toBe(403)
    expect((await labs.get('lab-04')!.documents.get('method-1'))?.data.title).toBe('ICP-MS')

    // nothing is left behind: no parked objects, no conflicts, every peer caught up
    await waitFor(() => [master, ...labs.values()].every((a) => a.status().peers.every((p) => p.lag === 0)), { what: 'every link caught up' })
    for (const agent of [master, ...labs.values()]) {
      expect(agent.status().failed).toBe(0)
      expect(agent.status().conflicts).toBe(0)
    }
  })
})
