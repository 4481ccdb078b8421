/**
 * A restored agent's versions (restore entries, `<domain>: 0` beside them on
 * an object first made after the restore) against a peer running a BUILD OF
 * LABMESH FROM BEFORE RESTORE ENTRIES (docs/architecture/backup-restore.md,
 * "A vector entry per restore"): the older agent takes them (its vector
 * validation and signer check pass, nothing is parked), shows the conflict
 * with the write the restore lost, resolves it with its own entry, and the
 * two agents' digests agree.
 *
 * Opt-in, as it needs that older build: set LABMESH_OLD_DIST to its dist
 * directory (e.g. a checkout of 840a5b3 built with `npm run build`):
 *   LABMESH_OLD_DIST=/path/to/old/dist npx vitest run test/integration/restore-entry-old-build.test.ts
 * Without the `<domain>: 0` (version-vector.ts raise) it fails: the older
 * agent parks the new object (its signer has no entry in its vector).
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { backupCommand, restoreCommand } from '../../agent/cli/backup.js'
import { silentLogger } from '../../agent/runtime/logger.js'
import { compare } from '../../protocol/version-vector.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { newHome } from '../helpers/restore.js'

const quiet = { print: (): void => {}, progress: (): void => {} }
const X = { uid: 'x', type: 'Client', id: 'X-1' }
const sides = async (agent: Agent, uid = 'x'): Promise<string[]> => {
  const o = await agent.documents.get(uid)
  return o === undefined ? [] : [o, ...o.conflicts].map((v) => String(v.data.side)).sort()
}

const OLD_DIST = process.env.LABMESH_OLD_DIST

describe.skipIf(OLD_DIST === undefined)('restore entries against an agent built before them (LABMESH_OLD_DIST)', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-restore-old-build-' })
  it('the older agent takes the restored agent\'s versions, shows the conflict, resolves it; the two converge', async () => {
    const { createAgent: createOld } = await import(join(OLD_DIST!, 'agent', 'agent.js')) as { createAgent: (c: unknown, d: unknown) => Agent }
    const startOld = async (config: unknown): Promise<Agent> => { const b = createOld(config, { logger: silentLogger() }); await b.start(); return b }
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const aConfig = meshConfig(A, [{ node: B, pull: true }])
    const bConfig = meshConfig(B, [{ node: A, pull: true }])
    const a = await mesh.start(aConfig)
    await a.documents.put({ ...X, data: { side: 'before' } })
    let b = await startOld(bConfig)
    await waitFor(async () => (await sides(b))[0] === 'before', { what: 'B pulled X' })
    const out = join(mesh.root, 'backup-a')
    await backupCommand(aConfig, { out, offline: false, ...quiet })
    await a.documents.put({ ...X, data: { side: 'lost-1' } })
    const lost = await a.documents.put({ ...X, data: { side: 'lost-2' } })
    await waitFor(async () => (await sides(b))[0] === 'lost-2', { what: 'B pulled lost-2' })
    await mesh.stop(a)
    await b.stop()
    const a2Config = await newHome(A, mesh.root, [{ node: B, pull: true }])
    await restoreCommand(a2Config, { from: out, replace: false, ...quiet })
    const a2 = await mesh.start(a2Config)
    const edit = await a2.documents.put({ ...X, data: { side: 'edit' } })
    const y = await a2.documents.put({ uid: 'y', type: 'Client', id: 'Y-1', data: { side: 'new' } })
    expect(compare(edit.vector, lost.vector)).toMatch(/^concurrent/)
    expect(y.vector['lab-a']).toBe(0)
    b = await startOld(bConfig)
    await waitFor(async () => {
      if ((await sides(b)).length === 2 && (await sides(b, 'y')).length === 1 && (await sides(a2)).length === 2) return true
      await b.syncNow('lab-a').catch(() => {})
      await a2.syncNow('lab-b').catch(() => {})
      return false
    }, { what: 'both hold both, B holds Y', timeout: 30_000, interval: 300 })
    expect(b.status().failed).toBe(0)
    expect(await sides(b)).toEqual(['edit', 'lost-2'])
    expect(await sides(a2)).toEqual(['edit', 'lost-2'])
    const yOnB = (await b.documents.get('y'))!
    expect(yOnB.vector).toEqual(y.vector)
    expect(yOnB.sig?.by).toBe('lab-a')
    // the old agent resolves; the restored agent takes it
    const resolved = await b.conflicts.resolve('x', { data: { side: 'merged' } })
    expect(compare(resolved.vector, edit.vector)).toBe('newer')
    expect(compare(resolved.vector, lost.vector)).toBe('newer')
    await waitFor(async () => (await sides(a2)).join() === 'merged', { what: 'A2 took the old agent\'s resolution', timeout: 30_000 })
    // and the restored agent edits Y further; the old agent takes it
    await a2.documents.put({ uid: 'y', type: 'Client', id: 'Y-1', data: { side: 'new-2' } })
    await waitFor(async () => (await sides(b, 'y')).join() === 'new-2', { what: 'B took Y edit', timeout: 30_000 })
    expect(compare((await b.documents.get('y'))!.vector, (await a2.documents.get('y'))!.vector)).toBe('equal')
    expect(b.status().failed).toBe(0)
    expect((await a2.verify('lab-b')).report.inSync).toBe(true)
    await b.stop()
  })
})
