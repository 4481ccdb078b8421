/**
 * Live configuration on a running mesh (in process, real libp2p and LevelDB,
 * config files on disk, reloaded through `POST /api/config/reload`): a third
 * peer added, a peer's rules changed (prefix, skipped types: re-pulled from
 * zero), a peer removed — each asserted on what flows — and a broken file,
 * or one that changes a key read only at start, that leaves the agent
 * exactly as it was and says which field.
 */
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { loadConfigFile } from '../../config/load.js'
import { adminCall } from '../helpers/admin.js'
import { editConfig, peerEntry, writeCommentedConfig } from '../helpers/config-files.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, waitFor } from '../helpers/nodes.js'
import { stringify } from 'yaml'

async function reload (agent: Agent): Promise<{ status: number, json: Record<string, unknown> }> {
  return await adminCall(agent, 'POST', '/api/config/reload')
}

describe('live configuration', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c'], { prefix: 'labmesh-reload-' })

  it('adds a third peer, changes a peer\'s rules and removes a peer on a running mesh; objects flow accordingly', async () => {
    const [A, B, C] = [mesh.node('lab-a'), mesh.node('lab-b'), mesh.node('lab-c')]
    const aLink = { node: A, pull: true, extra: { prefix: 'A', types: { prefixable: ['Sample'], skip: ['Method'] } } }
    const fileB = await writeCommentedConfig(B, [aLink])
    const a = await mesh.start(await loadConfigFile(await writeCommentedConfig(A, [{ node: B }])))
    // C already lists B (it serves B); B does not know C yet
    const c = await mesh.start(await loadConfigFile(await writeCommentedConfig(C, [{ node: B }])))
    const captured = capturingLogger('lab-b')
    const b = await mesh.start(await loadConfigFile(fileB), { logger: captured.logger })
    await a.documents.putMany([
      { uid: 's-1', type: 'Sample', id: 'S-1', data: {} },
      { uid: 'method-1', type: 'Method', id: 'M-1', data: {} }
    ])
    await c.documents.put({ uid: 'from-c', type: 'Client', id: 'c-1', data: {} })
    await waitFor(async () => (await b.documents.get('s-1'))?.id === 'A-S-1', { what: 'S-1 on B under prefix A' })
    expect(await b.documents.get('method-1')).toBeUndefined()
    expect(await b.documents.get('from-c')).toBeUndefined()
    const loadedAt = b.status().configLoadedAt

    // 1. a third peer: B pulls from C once its file says so
    await editConfig(fileB, (text) => text.replace('# ----- end', `${stringify([peerEntry({ node: C, pull: true })]).replace(/^/gm, '  ').trimEnd()}\n# ----- end`))
    expect(await reload(b)).toMatchObject({ status: 200, json: { reloaded: true, added: ['lab-c'], removed: [], changed: [], file: fileB } })
    await waitFor(async () => await b.documents.get('from-c'), { what: 'C\'s object on B after the reload' })
    expect(b.status().configLoadedAt).toBeGreaterThanOrEqual(loadedAt)
    expect(b.status().peers.map((p) => p.name)).toEqual(['lab-a', 'lab-c'])

    // 2. A's rules: another prefix, Method no longer skipped — re-pulled from zero, so the method written long ago comes too
    const hashBefore = (await agentInternals(b).store.getCheckpoint(A.peerId))!.rulesHash
    await editConfig(fileB, (text) => text.replace('prefix: A\n', 'prefix: LAB-A\n').replace(/skip:\n\s+- Method\n/, 'skip: []\n'))
    expect(await reload(b)).toMatchObject({ status: 200, json: { added: [], removed: [], changed: ['lab-a'] } })
    await waitFor(async () => await b.documents.get('method-1'), { what: 'the skipped method, re-pulled from zero' })
    await a.documents.put({ uid: 's-2', type: 'Sample', id: 'S-2', data: {} })
    await waitFor(async () => (await b.documents.get('s-2'))?.id === 'LAB-A-S-2', { what: 'a new sample under the new prefix' })
    expect((await agentInternals(b).store.getCheckpoint(A.peerId))!.rulesHash).not.toBe(hashBefore)

    // 3. C removed: B hangs up, refuses C from then on, and takes nothing more from it
    await editConfig(fileB, (text) => text.slice(0, text.indexOf(`  - name: lab-c`)) + text.slice(text.indexOf('# ----- end')))
    expect(await reload(b)).toMatchObject({ status: 200, json: { removed: ['lab-c'], added: [], changed: [] } })
    expect(b.status().peers.map((p) => p.name)).toEqual(['lab-a'])
    await waitFor(() => captured.lines.some((l) => l.direction === 'inbound' && l.peerId === C.peerId && String(l.msg).includes('not listed')), { what: 'C refused by B\'s gater' })
    await c.documents.put({ uid: 'from-c-later', type: 'Client', id: 'c-2', data: {} })
    await a.documents.put({ uid: 'from-a-later', type: 'Client', id: 'a-2', data: {} })
    await waitFor(async () => await b.documents.get('from-a-later'), { what: 'A still flows to B' })
    expect(await b.documents.get('from-c-later')).toBeUndefined()
    expect(b.peerStatus('lab-a').connected).toBe(true)
  })

  it('a broken file, or one that changes a key read only at start, changes nothing and names the field', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const fileB = await writeCommentedConfig(B, [{ node: A, pull: true }])
    const a = await mesh.start(await loadConfigFile(await writeCommentedConfig(A, [{ node: B }])))
    const b = await mesh.start(await loadConfigFile(fileB))
    await a.documents.put({ uid: 'one', type: 'Client', id: 'c-1', data: {} })
    await waitFor(async () => await b.documents.get('one'))
    const before = { config: b.config, loadedAt: b.status().configLoadedAt, peers: b.status().peers.map((p) => [p.name, p.peerId, p.pull]) }
    const good = await (await import('node:fs/promises')).readFile(fileB, 'utf8')

    const refused = async (text: string): Promise<Record<string, unknown>> => {
      await editConfig(fileB, () => text)
      const { status, json } = await reload(b)
      expect(b.config).toBe(before.config)
      expect(b.status().configLoadedAt).toBe(before.loadedAt)
      expect(b.status().peers.map((p) => [p.name, p.peerId, p.pull])).toEqual(before.peers)
      return { status, ...json }
    }
    // every problem by field, as at start
    const invalid = await refused(good.replace(`peerId: ${A.peerId}`, 'peerId: not-a-peer-id').replace('log: { level: warn }', 'log: { level: warn }\nsync: { batchSize: 0 }'))
    expect(invalid).toMatchObject({ status: 400, error: 'CONFIG_INVALID' })
    const paths = (invalid.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path)
    expect(paths).toEqual(expect.arrayContaining(['peers[0].peerId', 'sync.batchSize']))
    const syntax = await refused(good.replace('peers:', 'peers: [\n'))
    expect(syntax).toMatchObject({ status: 400, error: 'CONFIG_INVALID' })
    expect((syntax.details as { issues: Array<{ path: string, message: string }> }).issues[0]).toMatchObject({ path: '(yaml)', message: expect.stringContaining('line') })
    // a key read only at start, even beside a change that could apply
    const restart = await refused(good.replace(`listen: [${B.addr}]`, 'listen: [/ip4/127.0.0.1/tcp/0]').replace('pull: true', 'pull: false'))
    expect(restart).toMatchObject({ status: 409, error: 'CONFIG_RESTART_REQUIRED', details: { issues: [{ path: 'listen' }] } })
    expect(String(restart.message)).toContain('listen: changed')

    // still running on the old config: objects flow, and the good file reloads
    await a.documents.put({ uid: 'two', type: 'Client', id: 'c-2', data: {} })
    await waitFor(async () => await b.documents.get('two'), { what: 'A still flows to B' })
    await editConfig(fileB, () => good)
    expect(await reload(b)).toMatchObject({ status: 200, json: { added: [], removed: [], changed: [] } })
  })
})
