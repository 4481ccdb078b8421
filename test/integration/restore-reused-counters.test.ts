/**
 * A restored agent never reuses its domain's counters
 * (docs/architecture/backup-restore.md, "A vector entry per restore"), end
 * to end with real agents: A, B (A and B pull from each other) and C, which
 * pulls from A only.
 *
 * A is backed up; A then writes X (B and C pull it); A's disk is lost and it
 * is restored from the backup, with B down, and the lab edits X on A before
 * A has pulled anything. Whatever the counts — one lost write and one edit
 * (the counters meet exactly), one lost write and two edits (the edits go
 * past it), two lost writes and one edit (it falls short of them) — the
 * restored agent's edits raise its restore entry, concurrent with every
 * write the restore lost: every agent must end with the conflict on X shown
 * (both versions kept, in /api/conflicts) — C, which never hears of the lost
 * write from anyone but A, included — and resolving it on one agent must
 * converge all three. The anti-entropy verify sees the pair, and once every
 * agent holds both, finds them in sync whatever each keeps as current.
 *
 * Then: once caught up, ordinary edits on the restored agent and its peers
 * (all three pulling from each other, C speaking protocol 1 only, as an
 * older agent does) make no conflict at all, and every version the restored
 * agent signs passes the signer check of code from before restore entries.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { backupCommand, restoreCommand } from '../../agent/cli/backup.js'
import { agentInternals } from '../../agent/test-hooks.js'
import type { StoredObject } from '../../store/types.js'
import { compare, counterOf, isConcurrent, type VersionVector } from '../../protocol/version-vector.js'
import { adminCall } from '../helpers/admin.js'
import { clientDocs } from '../helpers/documents.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { newHome } from '../helpers/restore.js'
import { allStored } from '../helpers/store-audit.js'

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

/** the restore entries (`lab-a~…`) a vector holds */
const restoreEntries = (v: VersionVector): string[] => Object.keys(v).filter((e) => e.startsWith('lab-a~'))

/**
 * The signer check of labmesh before restore entries (agent/apply/provenance.ts
 * at 840a5b3, its first condition; the binding of `by` to a peer ID follows
 * and is unchanged, `by` being the domain): `by` must have an entry, of any
 * counter, in the version's vector.
 */
const passesOldSignerCheck = (v: StoredObject): boolean => v.sig !== undefined && v.vector[v.sig.by] !== undefined

describe('restore: the restored agent raises an entry of its own, so what the restore lost is a conflict, never lost', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c'], { prefix: 'labmesh-restore-counters-' })

  it.each([
    { lost: 1, edits: 1, what: 'the counters meet exactly' },
    { lost: 1, edits: 2, what: 'the restored agent edits twice: past the lost write\'s counter' },
    { lost: 2, edits: 1, what: 'the original wrote twice after the backup: the edit falls short of its counter' }
  ])('$lost lost write(s), $edits edit(s) on the restored A before it pulls ($what): A, B and C all show the conflict; resolving it converges all three', async ({ lost: lostCount, edits: editCount }) => {
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

    // written after the backup; B and C pull the last; the restore loses them
    let lost: StoredObject | undefined
    for (let i = 1; i <= lostCount; i++) lost = await a.documents.put({ ...X, data: { side: `lost-${i}` } })
    const lostSide = `lost-${lostCount}`
    for (const peer of [b, c]) await waitFor(async () => (await sidesOfX(peer))[0] === lostSide, { what: 'B and C pulled the write the restore loses' })
    await mesh.stop(a)
    // B is down while A comes back: A cannot pull the lost write back before the lab edits X
    await mesh.stop(b)

    const a2Config = await newHome(A, mesh.root, [{ node: B, pull: true }, { node: C }])
    const printed: string[] = []
    await restoreCommand(a2Config, { from: out, replace: false, ...quiet, print: (line) => { printed.push(line) } })
    expect(printed.join('\n')).toMatch(/raise the vector entry lab-a~[0-9a-f]{8}/)
    const a2 = await mesh.start(a2Config)
    expect(await sidesOfX(a2)).toEqual(['before'])
    let edit: StoredObject | undefined
    for (let i = 1; i <= editCount; i++) edit = await a2.documents.put({ ...X, data: { side: `edit-${i}` } })
    const editSide = `edit-${editCount}`
    // the premise: the restored agent raised an entry of its own, not lab-a past the snapshot's counter
    expect(counterOf(edit!.vector, 'lab-a')).toBeLessThan(counterOf(lost!.vector, 'lab-a'))
    expect(restoreEntries(edit!.vector)).toHaveLength(1)
    expect(edit!.vector[restoreEntries(edit!.vector)[0]!]).toBe(editCount)
    expect(isConcurrent(compare(edit!.vector, lost!.vector))).toBe(true)
    expect(edit!.sig?.by).toBe('lab-a')
    // the status says which entry the agent's edits raise
    expect(a2.status().entry).toBe(restoreEntries(edit!.vector)[0])

    // the verify sees the pair (C may have pulled the edit already: then C holds both and A2 one)
    const seen = (await a2.verify('lab-c', { quick: true })).report
    expect(seen.differences.map((d) => d.uid)).toContain(X.uid)

    // C, which only pulls from A, keeps its version and shows the edit as a conflict
    await holdsBoth(c, 'lab-a', 'C')
    const b2 = await mesh.start(bConfig)
    await holdsBoth(b2, 'lab-a', 'B')
    await holdsBoth(a2, 'lab-b', 'A')
    for (const [name, agent] of [['A', a2], ['B', b2], ['C', c]] as const) {
      expect(await sidesOfX(agent), name).toEqual([editSide, lostSide])
      const listed = await listedConflict(agent)
      expect(listed, `${name} lists X in /api/conflicts`).toBeDefined()
      expect(listed!.differingFields, name).toEqual(['data.side'])
      expect(agent.status().conflicts, name).toBeGreaterThanOrEqual(1)
      // history shows both, each made (and signed) by lab-a
      const history = await agent.documents.history(X.uid)
      for (const v of [lost!, edit!]) {
        const entry = history!.entries.find((e) => compare(e.vector, v.vector) === 'equal')
        expect(entry, `${name}'s history shows ${JSON.stringify(v.vector)}`).toBeDefined()
        expect(entry!.origin, name).toBe('lab-a')
        expect(entry!.signature, name).toBe('valid')
      }
    }
    // each kept its own as current: the restored agent its edit, B and C the write they had
    expect((await a2.documents.get(X.uid))!.data.side).toBe(editSide)
    expect((await c.documents.get(X.uid))!.data.side).toBe(lostSide)
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
    expect(compare(vectors[0]!, lost!.vector)).toBe('newer')
    expect(compare(vectors[0]!, edit!.vector)).toBe('newer')
    // the resolution raised the restore entry: the max of both plus one there
    expect(vectors[0]![restoreEntries(edit!.vector)[0]!]).toBe(editCount + 1)
    expect(counterOf(vectors[0]!, 'lab-a')).toBe(counterOf(lost!.vector, 'lab-a'))
  })

  it('once caught up, a run of edits on the restored A, B and C (an older protocol-1 agent) converges with no conflict; what A signs passes the older signer check', async () => {
    const [A, B, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c')]
    const links = (self: typeof A): Array<{ node: typeof A, pull: true }> => [A, B, C].filter((n) => n !== self).map((node) => ({ node, pull: true }))
    const aConfig = meshConfig(A, links(A))
    const uids = Array.from({ length: 6 }, (_, i) => `r-${i}`)
    const a = await mesh.start(aConfig)
    const b = await mesh.start(meshConfig(B, links(B)))
    const c = await mesh.start(meshConfig(C, links(C)), { protocolVersions: [1] })
    await a.documents.putMany(uids.map((uid, i) => ({ uid, type: 'Client', id: `R-${i}`, data: { n: 0 } })))
    const converged = async (what: string): Promise<void> => {
      await waitFor(async () => {
        const held = await Promise.all([a2 ?? a, b, c].map(async (agent) => await Promise.all(uids.map(async (uid) => await agent.documents.get(uid)))))
        return held.every((objs) => objs.every((o, i) => o !== undefined && o.conflicts.length === 0 && held[0]![i] !== undefined && compare(o.vector, held[0]![i]!.vector) === 'equal'))
      }, { what, timeout: 30_000, interval: 200 })
    }
    let a2: Agent | undefined
    await converged('every agent holds the objects')

    const out = join(mesh.root, 'backup-a')
    await backupCommand(aConfig, { out, offline: false, ...quiet })
    // lost by the restore, held by B and C
    await a.documents.putMany(uids.map((uid, i) => ({ uid, type: 'Client', id: `R-${i}`, data: { n: 1 } })))
    await converged('B and C hold the writes the restore loses')
    await mesh.stop(a)
    const a2Config = await newHome(A, mesh.root, links(A))
    await restoreCommand(a2Config, { from: out, replace: false, ...quiet })
    a2 = await mesh.start(a2Config)
    // caught up: the lost writes came back from B and C
    await waitFor(async () => {
      const objs = await Promise.all(uids.map(async (uid) => await a2!.documents.get(uid)))
      if (objs.every((o) => o?.data.n === 1)) return true
      await a2!.syncNow('lab-b')
      return false
    }, { what: 'the restored A pulled back what the restore lost', timeout: 30_000, interval: 200 })

    // a new object made on the restored A: a create (201), its only positive entry the restore entry
    const created = await adminCall<{ vector: VersionVector }>(a2, 'PUT', '/api/objects/new-1', { body: { type: 'Client', id: 'N-1', data: { n: 0 } } })
    expect(created.status).toBe(201)
    expect(restoreEntries(created.json.vector)).toHaveLength(1)
    expect(created.json.vector['lab-a']).toBe(0)
    uids.push('new-1')

    // rounds of edits, each on one agent once the one before reached all three
    const editors = [a2, b, c, a2, c, b, a2]
    for (const [round, editor] of editors.entries()) {
      await editor.documents.putMany(uids.map((uid, i) => ({ uid, type: 'Client', id: uid === 'new-1' ? 'N-1' : `R-${i}`, data: { n: round + 2 } })))
      await converged(`round ${round} reached every agent`)
    }
    for (const [name, agent] of [['A', a2], ['B', b], ['C', c]] as const) {
      expect(agent.status().conflicts, name).toBe(0)
      expect((await listedConflict(agent)), name).toBeUndefined()
      for (const uid of uids) {
        const o = (await agent.documents.get(uid))!
        expect(o.data.n, `${name} ${uid}`).toBe(editors.length + 1)
        expect(restoreEntries(o.vector), `${name} ${uid}`).toHaveLength(1)
        expect(o.vector[restoreEntries(o.vector)[0]!], `${name} ${uid}`).toBe(uid === 'new-1' ? 4 : 3)
      }
    }
    // every version the restored agent made, as C (protocol 1) stored it, is signed as lab-a and passes the older check
    const fromA = (await allStored(agentInternals(c).store)).flatMap((o) => [o, ...o.conflicts] as StoredObject[]).filter((o) => o.sig?.by === 'lab-a' && restoreEntries(o.vector).length > 0)
    expect(fromA.length).toBeGreaterThan(0)
    for (const v of fromA) expect(passesOldSignerCheck(v), JSON.stringify(v.vector)).toBe(true)
    expect((await a2.verify('lab-c')).report.inSync).toBe(true)
  })
})
