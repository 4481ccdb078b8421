import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeDocument } from '../../agent/apply/local-writes.js'
import { createLevelStore } from '../../store/level-store.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { clientDocs } from '../helpers/documents.js'
import { waitFor } from '../helpers/nodes.js'
import { runCli, writeNodeConfig } from '../helpers/processes.js'

describe('labmesh sync, conflicts and resolve as processes', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-cli-admin-' })

  it('pulls on demand with progress, lists a conflict and resolves it', async () => {
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    const aFile = await writeNodeConfig(A, [{ node: B, pull: true }])
    // B pulls only when asked (no live notify, no interval)
    const bFile = await writeNodeConfig(B, [{ node: A, pull: true, extra: { autoSync: { interval: '0s', live: false } } }])
    const a = await mesh.spawn(aFile, A)
    let b = await mesh.spawn(bFile, B)
    // B's first pull (of an empty A) has run: from now on B pulls only when asked
    await waitFor(async () => { const p = await b.api<{ sessionOpen: boolean, progress: { state: string, finishedAt?: number } }>('GET', '/api/peers/lab-a'); return p.sessionOpen && p.progress.state === 'idle' && p.progress.finishedAt !== undefined }, { what: 'B connected and idle' })
    await a.api('POST', '/api/objects', { items: clientDocs(200, 'c', 'client') })
    const synced = await runCli(['sync', 'lab-a', '--config', bFile])
    expect(synced.code, synced.stderr).toBe(0)
    expect(synced.stdout).toMatch(/^synced from lab-a: 200 object\(s\) pulled in \d+\.\d s$/m)
    expect(synced.stderr).toMatch(/lab-a \[#+\] pulled 200 \/ 200 \(100%\)/)
    expect((await b.api<{ objects: number }>('GET', '/api/status')).objects).toBe(200)

    // a conflict: B stops, both edit client c-7, B comes back
    b.proc.kill('SIGTERM')
    await b.exited
    await a.api('PUT', '/api/objects/c-7', { type: 'Client', id: 'client-7', data: { i: 7, phone: 'from A' } })
    const store = createLevelStore({ location: join(B.dir, 'data', 'store'), domain: 'lab-b' })
    await store.open()
    await writeDocument({ store, domain: 'lab-b', now: Date.now, rules: [] }, { uid: 'c-7', type: 'Client', id: 'client-7', data: { i: 7, phone: 'from B' } })
    await store.close()
    b = await mesh.spawn(bFile, B)
    await runCli(['sync', 'lab-a', '--config', bFile])
    await waitFor(async () => (await a.api<{ conflicts: number }>('GET', '/api/status')).conflicts === 1, { what: 'conflict on A' })

    const listed = await runCli(['conflicts', '--config', bFile])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/c-7\s+Client\s+client-7\s+data\.phone/)
    const resolved = await runCli(['resolve', 'c-7', '--pick', 'remote', '--config', bFile])
    expect(resolved.code, resolved.stderr).toBe(0)
    expect(resolved.stdout).toContain('resolved c-7 (remote)')
    await waitFor(async () => (await a.api<{ conflicts: number }>('GET', '/api/status')).conflicts === 0, { what: 'resolution reached A' })
    expect((await b.api<{ data: { phone: string } }>('GET', '/api/objects/c-7')).data.phone).toBe('from A')
    expect((await runCli(['conflicts', '--config', bFile])).stdout).toContain('no conflicts')
    expect((await runCli(['resolve', 'c-7', '--pick', 'sideways', '--config', bFile])).code).not.toBe(0)

    // what B has seen of c-7: A's version, B's own (written offline, unsigned), A's concurrent one, B's resolution
    const history = await runCli(['history', 'c-7', '--config', bFile])
    expect(history.code, history.stderr).toBe(0)
    expect(history.stdout).toMatch(/^c-7: holds \{"lab-a":2,"lab-b":2\} \(valid\); the last 20 version\(s\) are kept$/m)
    expect(history.stdout.split('\n').filter((l) => /^\d+ /.test(l)).map((l) => l.split(/\s{2,}/).slice(1, 6))).toEqual([
      ['version', '{"lab-a":1}', 'lab-a', expect.stringMatching(/^…/), 'valid'],
      ['version', '{"lab-a":1,"lab-b":1}', 'lab-b', '-', 'unsigned'],
      ['conflict', '{"lab-a":2}', 'lab-a', expect.stringMatching(/^…/), 'valid'],
      ['resolution', '{"lab-a":2,"lab-b":2}', 'lab-b', expect.stringMatching(/^…/), 'valid']
    ])
    expect((await runCli(['history', 'nowhere', '--config', bFile])).code).not.toBe(0)
  }, 120_000) // a dozen CLI processes, each loading the whole agent: ~5 s apiece on a busy machine

  it('shows the failed queue by reason code, lists a group and retries it', async () => {
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    // A serves B no clients: B parks the samples, whose client it cannot have
    const aFile = await writeNodeConfig(A, [{ node: B, extra: { serve: { types: { skip: ['Client'] } } } }])
    const bFile = await writeNodeConfig(B, [{ node: A, pull: true }])
    const a = await mesh.spawn(aFile, A)
    const b = await mesh.spawn(bFile, B)
    await a.api('POST', '/api/objects', { items: [{ uid: 'client-1', type: 'Client', id: 'client-1', data: {} }, ...[1, 2, 3].map((i) => ({ uid: `s-${i}`, type: 'AnalysisRequest', id: `W-${i}`, parent: 'client-1', data: {} }))] })
    await waitFor(async () => (await b.api<{ failed: number }>('GET', '/api/status')).failed === 3, { what: 'three samples parked on B' })

    const grouped = await runCli(['failed', '--config', bFile])
    expect(grouped.code, grouped.stderr).toBe(0)
    expect(grouped.stdout).toContain('3 object(s) parked in the failed queue, by reason:')
    expect(grouped.stdout).toMatch(/MISSING_DEPENDENCY\s+3\s+lab-a 3\s+AnalysisRequest 3/)
    expect(grouped.stdout).toContain('3 × needs client-1, which peer lab-a could not provide')
    const group = await runCli(['failed', '--code', 'MISSING_DEPENDENCY', '--config', bFile])
    expect(group.stdout).toMatch(/s-1\s+AnalysisRequest\s+W-1\s+lab-a/)
    const retried = await runCli(['retry', '--code', 'MISSING_DEPENDENCY', '--config', bFile])
    expect(retried.code, retried.stderr).toBe(0)
    expect(retried.stdout).toBe('retried 3 object(s) with code MISSING_DEPENDENCY: 0 applied, 3 still parked\n')
  })
})
