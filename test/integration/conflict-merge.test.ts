/**
 * Field-level three-way merge over real libp2p: three agents through a hub.
 * A and B edit the same sample while the hub is down; every agent comes to
 * hold the conflict, knows the version both sides came from, and `merge:
 * auto` on A converges every agent to both edits. The same field changed on
 * both sides is refused by auto (409, naming it) and merged by a field pick.
 */
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import type { LoadedConfig } from '../../config/load.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor, type TestNode } from '../helpers/nodes.js'
import { agentInternals } from '../../agent/test-hooks.js'

const SAMPLE = { uid: 's-1', type: 'AnalysisRequest', id: 'W-0001' }
const BASE = { result: '5.1', remarks: '', analyst: 'ann', analyses: [{ keyword: 'Ca', result: '1.0' }, { keyword: 'Mg', result: '2.0' }] }

async function api (agent: Agent, method: string, path: string, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const response = await agent.request(path, {
    method,
    headers: { authorization: `Bearer ${agentInternals(agent).token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  return { status: response.status, json: await response.json() as Record<string, unknown> }
}

describe('field-level conflict merge', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'master'])

  /** A, B and the hub M; the sample made on A and spread; then A and B edit it while M is down */
  async function conflictThroughHub (editA: Record<string, unknown>, editB: Record<string, unknown>): Promise<Agent[]> {
    const [A, B, M] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('master')]
    const mConfig = meshConfig(M, [{ node: A, pull: true }, { node: B, pull: true }])
    const spoke = (n: TestNode): LoadedConfig => meshConfig(n, [{ node: M, pull: true }])
    let m = await mesh.start(mConfig)
    const a = await mesh.start(spoke(A))
    const b = await mesh.start(spoke(B))
    await a.documents.put({ ...SAMPLE, data: BASE })
    await waitFor(async () => (await b.documents.get('s-1')) !== undefined, { what: 'the sample on B' })
    await mesh.stop(m)
    await a.documents.put({ ...SAMPLE, data: { ...BASE, ...editA } })
    await b.documents.put({ ...SAMPLE, data: { ...BASE, ...editB } })
    m = await mesh.start(mConfig)
    await waitFor(() => [a, b, m].every((x) => x.status().conflicts === 1), { what: 'the conflict on all three', timeout: 20_000 })
    return [a, b, m]
  }

  async function converged (agents: readonly Agent[]): Promise<Array<Record<string, unknown>>> {
    await waitFor(() => agents.every((x) => x.status().conflicts === 0), { what: 'resolved everywhere', timeout: 20_000 })
    const objects = await waitFor(async () => {
      const all = await Promise.all(agents.map(async (x) => await x.documents.get('s-1')))
      return new Set(all.map((o) => JSON.stringify(o!.vector))).size === 1 ? all : undefined
    }, { what: 'one version everywhere' })
    return objects.map((o) => o!.data as Record<string, unknown>)
  }

  it('A changed result, B changed remarks: merge auto converges every agent to both changes', async () => {
    const agents = await conflictThroughHub({ result: '5.3' }, { remarks: 'rechecked', analyses: [{ keyword: 'Ca', result: '1.0' }, { keyword: 'Mg', result: '2.2' }] })
    const [a, , m] = agents
    // every agent knows the version both sides came from: A from its own edit, the hub from what it held
    for (const agent of [a!, m!]) {
      const view = await api(agent, 'GET', '/api/conflicts/s-1')
      expect(view.status).toBe(200)
      expect(view.json).toMatchObject({ baseKnown: true, base: { data: BASE }, conflicting: [] })
      expect([...view.json.autoMergeable as string[]].sort()).toEqual(['data.analyses[keyword=Mg].result', 'data.remarks', 'data.result'])
      expect(view.json.fields).toContainEqual({ path: 'data.analyst', change: 'equal', base: 'ann', local: 'ann', remote: 'ann' })
    }
    const resolved = await api(a!, 'POST', '/api/conflicts/s-1/resolve', { merge: 'auto' })
    expect(resolved).toMatchObject({ status: 200, json: { resolved: true } })
    const expected = { ...BASE, result: '5.3', remarks: 'rechecked', analyses: [{ keyword: 'Ca', result: '1.0' }, { keyword: 'Mg', result: '2.2' }] }
    for (const data of await converged(agents)) expect(data).toEqual(expected)
    // the merge is an ordinary local write: signed by A, on top of both sides
    const onB = await agents[1]!.documents.get('s-1')
    expect(onB!.sig?.by).toBe('lab-a')
    expect(onB!.vector).toEqual({ 'lab-a': 3, 'lab-b': 1 })
  })

  it('the same field changed on both sides: auto refuses naming it; a field pick merges', async () => {
    const agents = await conflictThroughHub({ result: '5.3' }, { result: '5.4', remarks: 'rechecked' })
    const [, b] = agents
    const refused = await api(b!, 'POST', '/api/conflicts/s-1/resolve', { merge: 'auto' })
    expect(refused).toMatchObject({ status: 409, json: { error: 'MERGE_CONFLICT', details: { fields: ['data.result'] } } })
    expect(b!.status().conflicts).toBe(1)
    // B's local side is its own result; A's is the remote one: take A's result and keep B's remarks
    const resolved = await api(b!, 'POST', '/api/conflicts/s-1/resolve', { merge: 'auto', fields: { result: 'remote' } })
    expect(resolved.status).toBe(200)
    for (const data of await converged(agents)) expect(data).toEqual({ ...BASE, result: '5.3', remarks: 'rechecked' })
  })
})
