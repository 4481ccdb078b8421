/**
 * Object history across a mesh (real agents, libp2p on 127.0.0.1, LevelDB):
 * one object edited on three labs through a hub, with one conflict and its
 * resolution — every agent's history lists every version in order, each with
 * its origin, signer, the peer it came through and the fields it changed.
 * Also: retention keeps the newest `history.versions`, and the history
 * always agrees with the object held.
 */
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import type { HistoryEntry } from '../../store/types.js'
import { adminRequest } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'

const LABS = ['lab-a', 'lab-b', 'lab-c'] as const
const UID = 'sample-1'

describe('object history', () => {
  const mesh = useTestMesh(['hub', ...LABS])

  const put = async (agent: Agent, data: Record<string, unknown>): Promise<void> => {
    await agent.documents.put({ uid: UID, type: 'AnalysisRequest', id: 'S-0001', data })
  }
  const everywhere = async (agents: readonly Agent[], test: (data: Record<string, unknown> | undefined, conflicts: number) => boolean, what: string): Promise<void> => {
    await waitFor(async () => {
      for (const agent of agents) {
        const o = await agent.documents.get(UID)
        if (!test(o?.data as Record<string, unknown> | undefined, o?.conflicts.length ?? 0)) return false
      }
      return true
    }, { what })
  }
  const row = (e: HistoryEntry): unknown[] => [e.event, e.origin, e.via, e.signature, e.changed]

  it('edits on three labs through a hub, one conflict and its resolution: every version in order, with origin, relay and changed fields', async () => {
    const hubNode = mesh.node('hub')
    const hubConfig = meshConfig(hubNode, LABS.map((d) => ({ node: mesh.node(d), pull: true })))
    let hub = await mesh.start(hubConfig)
    const [a, b, c] = await Promise.all(LABS.map(async (d) => await mesh.start(meshConfig(mesh.node(d), [{ node: hubNode, pull: true }]))))
    const all = (): Agent[] => [hub, a!, b!, c!]

    await put(a!, { state: 'sample_due', volume: '10 ml' })
    await everywhere(all(), (d) => d?.state === 'sample_due', 'the sample everywhere')
    await put(b!, { state: 'sample_received', volume: '10 ml' })
    await everywhere(all(), (d) => d?.state === 'sample_received', 'lab-b\'s edit everywhere')

    // lab-a and lab-c edit while the hub is down: concurrent versions
    await mesh.stop(hub)
    await put(a!, { state: 'sample_received', volume: '12 ml' })
    await put(c!, { state: 'to_be_verified', volume: '10 ml', remarks: 'checked' })
    hub = await mesh.start(hubConfig)
    await everywhere(all(), (_d, conflicts) => conflicts === 1, 'the conflict on every agent')

    // lab-b resolves it: lab-c's state, lab-a's volume
    await b!.conflicts.resolve(UID, { data: { state: 'to_be_verified', volume: '12 ml', remarks: 'checked' } })
    await everywhere(all(), (d, conflicts) => conflicts === 0 && d?.volume === '12 ml' && d?.state === 'to_be_verified', 'the resolution everywhere')

    // on lab-c: its own edit, lab-a's concurrent one kept as a conflict, lab-b's resolution, each through the hub
    const onC = (await c!.documents.history(UID))!
    expect(onC.entries.map(row)).toEqual([
      ['version', 'lab-a', 'hub', 'valid', null],
      ['version', 'lab-b', 'hub', 'valid', ['data.state']],
      ['version', 'lab-c', null, 'valid', ['data.remarks', 'data.state']],
      ['conflict', 'lab-a', 'hub', 'valid', ['data.remarks', 'data.state', 'data.volume']],
      ['resolution', 'lab-b', 'hub', 'valid', ['data.volume']]
    ])
    expect(onC.entries.map((e) => e.vector)).toEqual([
      { 'lab-a': 1 },
      { 'lab-a': 1, 'lab-b': 1 },
      { 'lab-a': 1, 'lab-b': 1, 'lab-c': 1 },
      { 'lab-a': 2, 'lab-b': 1 },
      { 'lab-a': 2, 'lab-b': 2, 'lab-c': 1 }
    ])
    const peerIds = Object.fromEntries(LABS.map((d) => [d, mesh.node(d).peerId]))
    for (const e of onC.entries) expect(e.peerId).toBe(peerIds[e.origin!])
    for (const e of onC.entries) expect(e.appliedAt).toBeGreaterThanOrEqual(e.at)

    // on the hub, where the conflict first met: every version pulled from the lab that made it
    const onHub = (await hub.documents.history(UID))!
    expect(onHub.entries.map((e) => [e.event, e.origin, e.via])).toEqual([
      ['version', 'lab-a', 'lab-a'],
      ['version', 'lab-b', 'lab-b'],
      // the hub's store saw these two in whichever order its pulls brought them: one current, one conflict
      ...(onHub.entries[2]!.origin === 'lab-a'
        ? [['version', 'lab-a', 'lab-a'], ['conflict', 'lab-c', 'lab-c']]
        : [['version', 'lab-c', 'lab-c'], ['conflict', 'lab-a', 'lab-a']]),
      ['resolution', 'lab-b', 'lab-b']
    ])
    // on the resolver: the resolution written here
    expect((await b!.documents.history(UID))!.entries.at(-1)).toMatchObject({ event: 'resolution', origin: 'lab-b', via: null, signature: 'valid' })

    // the admin API and its shape
    const res = await adminRequest(c!, 'GET', `/api/objects/${UID}/history`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ uid: UID, retention: 20, current: { vector: { 'lab-a': 2, 'lab-b': 2, 'lab-c': 1 }, conflicts: 0, signature: 'valid' } })
    expect((await adminRequest(c!, 'GET', '/api/objects/nothing-here/history')).status).toBe(404)
  })

  it('keeps the newest history.versions entries, and always agrees with the object held', async () => {
    const a = await mesh.start(meshConfig(mesh.node('lab-a'), [], { history: { versions: 3 } }))
    for (let i = 1; i <= 5; i++) await put(a, { n: i })
    await a.documents.delete(UID)
    const h = (await a.documents.history(UID))!
    expect(h.retention).toBe(3)
    expect(h.entries.map((e) => [e.vector['lab-a'], e.deleted, e.changed])).toEqual([[4, false, ['data.n']], [5, false, ['data.n']], [6, true, ['data.n', 'deleted']]])
    expect(h.entries.at(-1)!.vector).toEqual((await a.documents.get(UID))!.vector)
  })
})
