/**
 * A restored agent reusing a version counter (docs/architecture/backup-restore.md,
 * "Version counters reused"), end to end with real agents:
 * A, B (A and B pull from each other) and C, which pulls from A only.
 *
 * A is backed up; A then writes X (B and C pull it); A's disk is lost and it
 * is restored from the backup, with B down, and the lab edits X on A before
 * A has pulled anything: A's edit carries the very vector of the write the
 * restore lost, with other content. Every agent must end with the conflict
 * on X shown (both versions kept, in /api/conflicts) — C, which never hears
 * of the lost write from anyone but itself, included — and resolving it on
 * one agent must converge all three. The anti-entropy verify sees the pair,
 * and once every agent holds both, finds them in sync whatever each keeps
 * as current.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { backupCommand, restoreCommand } from '../../agent/cli/backup.js'
import { compare } from '../../protocol/version-vector.js'
import { adminCall } from '../helpers/admin.js'
import { clientDocs } from '../helpers/documents.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { newHome } from '../helpers/restore.js'

const quiet = { print: (): void => {}, progress: (): void => {} }
const X = { uid: 'x', type: 'Client', id: 'X-1' }

/** what `agent` holds of X: the `side` of its current version and of its siblings, sorted */
async function sidesOfX (agent: Agent): Promise<string[]> {
  const o = await agent.documents.get(X.uid)
  return o === undefined ? [] : [o, ...o.conflicts].map((v) => String(v.data.side)).sort()
}

/** wait until `agent` holds two versions of X, asking it to pull from `remote` meanwhile (its redial may be in a backoff wait) */
async function holdsBoth (agent: Agent, remote: string, name: string): Promise<void> {
  await waitFor(async () => {
    if ((await sidesOfX(agent)).length === 2) return true
    await agent.syncNow(remote)
    return false
  }, { what: `${name} holds both versions of X`, timeout: 30_000, interval: 200 })
}

/** X as /api/conflicts lists it on `agent` (undefined: not listed) */
async function listedConflict (agent: Agent): Promise<Record<string, unknown> | undefined> {
  const { status, json } = await adminCall<{ items: Array<Record<string, unknown>> }>(agent, 'GET', '/api/conflicts')
  expect(status).toBe(200)
  return json.items.find((i) => i.uid === X.uid)
}

describe('restore: a counter reused by the restored agent is a conflict everywhere, never a silent divergence', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c'], { prefix: 'labmesh-restore-counters-' })

  it('A edits X after its restore, before pulling: A, B and C all show the conflict; resolving it converges all three', async () => {
    const [A, B, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c')]
    const aConfig = meshConfig(A, [{ node: B, pull: true }, { node: C }])
    const bConfig = meshConfig(B, [{ node: A, pull: true }])
    const cConfig = meshConfig(C, [{ node: A, pull: true }])
    const a = await mesh.start(aConfig)
    await a.documents.putMany([...clientDocs(20, 's', 'S'), { ...X, data: { side: 'before' } }])
    const b = await mesh.start(bConfig)
    const c = await mesh.start(cConfig)
    for (const peer of [b, c]) await waitFor(async () => (await sidesOfX(peer))[0] === 'before', { what: 'B and C pulled X' })

    const out = join(mesh.root, 'backup-a')
    await backupCommand(aConfig, { out, offline: false, ...quiet })

    // written after the backup; B and C pull it; the restore loses it
    const lost = await a.documents.put({ ...X, data: { side: 'lost' } })
    for (const peer of [b, c]) await waitFor(async () => (await sidesOfX(peer))[0] === 'lost', { what: 'B and C pulled the write the restore loses' })
    await mesh.stop(a)
    // B is down while A comes back: A cannot pull the lost write back before the lab edits X
    await mesh.stop(b)

    const a2Config = await newHome(A, mesh.root, [{ node: B, pull: true }, { node: C }])
    await restoreCommand(a2Config, { from: out, replace: false, ...quiet })
    const a2 = await mesh.start(a2Config)
    expect(await sidesOfX(a2)).toEqual(['before'])
    const edit = await a2.documents.put({ ...X, data: { side: 'edit' } })
    // the premise: the restored agent reused the lost write's counter
    expect(compare(edit.vector, lost.vector)).toBe('equal')

    // the verify sees the pair (C may have pulled the edit already: then C holds both and A2 one)
    const seen = (await a2.verify('lab-c', { quick: true })).report
    expect(seen.differences.map((d) => d.uid)).toContain(X.uid)

    // C, which only pulls from A, keeps its version and shows the edit as a conflict
    await holdsBoth(c, 'lab-a', 'C')
    const b2 = await mesh.start(bConfig)
    await holdsBoth(b2, 'lab-a', 'B')
    await holdsBoth(a2, 'lab-b', 'A')
    for (const [name, agent] of [['A', a2], ['B', b2], ['C', c]] as const) {
      expect(await sidesOfX(agent), name).toEqual(['edit', 'lost'])
      const listed = await listedConflict(agent)
      expect(listed, `${name} lists X in /api/conflicts`).toBeDefined()
      expect(listed!.differingFields, name).toEqual(['data.side'])
      expect(agent.status().conflicts, name).toBeGreaterThanOrEqual(1)
      // history shows both
      const history = await agent.documents.history(X.uid)
      expect(history!.entries.filter((e) => compare(e.vector, lost.vector) === 'equal'), name).toHaveLength(2)
    }
    // each kept its own as current: the restored agent its edit, B and C the write they had
    expect((await a2.documents.get(X.uid))!.data.side).toBe('edit')
    expect((await c.documents.get(X.uid))!.data.side).toBe('lost')
    // holding the same two versions, the digests agree whichever is current
    expect((await a2.verify('lab-b')).report.inSync).toBe(true)
    expect((await c.verify('lab-a', { quick: true })).report.inSync).toBe(true)

    // resolved on A (whose feed B and C pull), the resolution replaces both everywhere
    const { status } = await adminCall(a2, 'POST', `/api/conflicts/${X.uid}/resolve`, { body: { data: { side: 'merged' } } })
    expect(status).toBe(200)
    for (const [name, agent] of [['A', a2], ['B', b2], ['C', c]] as const) {
      await waitFor(async () => (await sidesOfX(agent)).join() === 'merged', { what: `${name} took the resolution`, timeout: 30_000 })
      expect(await listedConflict(agent), name).toBeUndefined()
    }
    const vectors = await Promise.all([a2, b2, c].map(async (agent) => (await agent.documents.get(X.uid))!.vector))
    expect(compare(vectors[0]!, vectors[1]!)).toBe('equal')
    expect(compare(vectors[0]!, vectors[2]!)).toBe('equal')
    expect(compare(vectors[0]!, lost.vector)).toBe('newer')
  })
})
