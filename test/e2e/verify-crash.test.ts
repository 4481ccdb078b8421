/**
 * The digest survives SIGKILL mid-write (issue 13, must show): B, a process,
 * is killed in the middle of pulling 10,000 objects from A; after restart
 * `labmesh verify --self` (rebuild the digest from the records, compare with
 * the stored one) finds them equal at once and again once the pull is done,
 * and `labmesh verify --peer lab-a` says B and A hold the same.
 */
import { describe, expect, it } from 'vitest'
import type { DocumentInput } from '../../agent/apply/local-writes.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { waitFor } from '../helpers/nodes.js'
import { runCli, seedStore, writeNodeConfig } from '../helpers/processes.js'

const OBJECTS = 10_000

function* samples (count: number): Generator<DocumentInput> {
  for (let i = 0; i < count; i++) {
    yield { uid: `s${String(i).padStart(31, '0')}`, type: i % 3 === 0 ? 'Analysis' : 'AnalysisRequest', id: `W-${String(i).padStart(5, '0')}`, data: { ClientSampleID: `HH-${i}`, Result: i % 97, Remarks: 'lorem ipsum '.repeat(20) } }
  }
}

describe('the digest across a crash', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-verify-crash-' })

  it('SIGKILL mid-pull: verify --self equals a rebuild from scratch, and verify --peer says in sync', async () => {
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    await seedStore(A, samples(OBJECTS))
    const aFile = await writeNodeConfig(A, [{ node: B }])
    // small windows: a long pull of many small batches, killed in the middle of one
    const bFile = await writeNodeConfig(B, [{ node: A, pull: true }], { sync: { batchSize: 50, window: 200 } })
    await mesh.spawn(aFile, A)
    let b = await mesh.spawn(bFile, B)
    const killAt = 2000 + Math.floor(Math.random() * 4000)
    await waitFor(async () => (await b.api<{ objects: number }>('GET', '/api/status')).objects >= killAt, { interval: 2, what: `B past ${killAt} objects` })
    b.proc.kill('SIGKILL')
    await b.exited

    b = await mesh.spawn(bFile, B)
    const atRestart = await runCli(['verify', '--self', '--config', bFile], { timeout: 60_000 })
    expect(atRestart.stdout, atRestart.stderr).toMatch(/^digest matches the records: [\d,]+ objects, digest [0-9a-f]{32}/)
    expect(atRestart.code).toBe(0)

    await waitFor(async () => (await b.api<{ objects: number }>('GET', '/api/status')).objects === OBJECTS, { timeout: 90_000, what: 'B complete after restart' })
    const self = await runCli(['verify', '--self', '--json', '--config', bFile], { timeout: 60_000 })
    expect(self.code, self.stderr).toBe(0)
    const report = JSON.parse(self.stdout) as { equal: boolean, objects: number, stored: unknown, rebuilt: unknown, problemCount: number }
    expect(report).toMatchObject({ equal: true, objects: OBJECTS, problemCount: 0 })
    expect(report.stored).toEqual(report.rebuilt)

    const peer = await runCli(['verify', '--peer', 'lab-a', '--config', bFile], { timeout: 60_000 })
    expect(peer.stdout, peer.stderr).toMatch(/^in sync with lab-a: 10,000 objects in 2 group\(s\), digest [0-9a-f]{32}/)
    expect(peer.code).toBe(0)
    const status = await b.api<{ peers: Array<{ verification?: { last?: { result: string } } }> }>('GET', '/api/status')
    expect(status.peers[0]?.verification?.last?.result).toBe('in-sync')
    console.log(`[verify-crash] killed past ${killAt}; ${atRestart.stdout.trim()}; ${peer.stdout.trim()}`)
  }, 180_000)
})
