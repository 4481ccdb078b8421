/**
 * The store directory turns read-only in the middle of a pull, and stores
 * that another process holds. Both with real processes: as root, the agent
 * whose directory turns read-only runs as `nobody` (root ignores file
 * permissions, so a read-only directory would change nothing for it).
 */
import { chmod, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { agentInternals } from '../../agent/test-hooks.js'
import { createAgent } from '../../agent/agent.js'
import { StoreLockedError } from '../../store/errors.js'
import { silentLogger } from '../../agent/runtime/logger.js'
import { chownTree, isRoot, NOBODY } from '../helpers/disk.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { clientDocs } from '../helpers/documents.js'
import { meshConfig, waitFor, type TestNode } from '../helpers/nodes.js'
import { allObjects, logLines, runCli, seedStore, writeNodeConfig, type AgentProcess } from '../helpers/processes.js'
import { scaled } from '../helpers/seeded.js'
import { allStored, auditStore, withOfflineStore } from '../helpers/store-audit.js'

// ~4 KiB objects: what B still has to write after the fault spans LevelDB's 16 MiB memtable
const PAD = 'read-only '.repeat(400)

interface Status { objects: number, peers: Array<{ name: string, lastError?: string }> }

describe('store faults', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-store-faults-' })

  const spawn = async (file: string, node: TestNode, asNobody: boolean): Promise<AgentProcess> => await mesh.spawn(file, node, asNobody ? { user: NOBODY } : {})
  const stop = async (p: AgentProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null, signal: NodeJS.Signals | null }> => {
    p.proc.kill(signal)
    return await p.exited
  }

  it('the store directory turns read-only mid-pull: the agent reports it, stops applying, resumes when writable, and loses nothing', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    // LevelDB feels a read-only directory when it next needs a file (a new log with every memtable, 16 MiB)
    const OBJECTS = scaled(9000, 40_000)
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    for (let i = 0; i < OBJECTS; i += 1000) {
      await a.documents.putMany(Array.from({ length: 1000 }, (_, j) => ({ uid: `s-${String(i + j).padStart(6, '0')}`, type: 'AnalysisRequest', id: `W-${i + j}`, data: { n: i + j, pad: PAD } })))
    }
    const file = await writeNodeConfig(B, [{ node: A, pull: true }], { sync: { batchSize: 200, window: 1000 } })
    const asNobody = isRoot()
    if (asNobody) {
      await chmod(mesh.root, 0o755)
      await chownTree(B.dir, NOBODY)
    }
    const storeDir = join(B.dir, 'data', 'store')
    let b = await spawn(file, B, asNobody)
    await waitFor(async () => (await b.api<Status>('GET', '/api/status')).objects >= 3000, { what: 'B well into its pull', interval: 5 })
    await chmod(storeDir, 0o555)

    const denied = /permission denied|EACCES|could not commit|cannot recover/i
    const failures = (): number => logLines(b).filter((l) => l.msg === 'pull session ended with an error' && denied.test(String(l.err))).length
    await waitFor(async () => failures() > 0, { what: 'B fails to write into the read-only directory', timeout: 60_000, interval: 50 })
    await waitFor(async () => denied.test((await b.api<Status>('GET', '/api/status')).peers[0]!.lastError ?? ''), { what: 'the status shows why', timeout: 30_000 })
    const stuckAt = (await b.api<Status>('GET', '/api/status')).objects
    const seen = failures()
    await waitFor(() => failures() >= seen + 2, { what: 'two more failed attempts', timeout: 30_000 })
    expect((await b.api<Status>('GET', '/api/status')).objects).toBe(stuckAt)
    expect(stuckAt).toBeLessThan(OBJECTS)
    expect(logLines(b).filter((l) => (l.level as number) >= 60)).toEqual([])

    await chmod(storeDir, 0o755)
    await waitFor(async () => (await b.api<Status>('GET', '/api/status')).objects === OBJECTS, { what: 'B completes once it may write again', timeout: 90_000, interval: 50 })
    await b.api('PUT', '/api/objects/local-1', { type: 'Client', id: 'L-1', data: { written: 'after the fault' } })
    expect(await stop(b)).toEqual({ code: 0, signal: null })

    b = await spawn(file, B, asNobody)
    const after = await allObjects(b)
    expect(after.size).toBe(OBJECTS + 1)
    expect(after.get('local-1')?.data).toEqual({ written: 'after the fault' })
    const fromA = new Map((await allStored(agentInternals(a).store)).map((o) => [o.uid, o]))
    for (const [uid, o] of after) {
      if (uid === 'local-1') continue
      expect({ data: o.data, vector: o.vector }, uid).toEqual({ data: fromA.get(uid)!.data, vector: fromA.get(uid)!.vector })
    }
    await stop(b)
    await withOfflineStore(B.dir, 'lab-b', async (store) => { expect(await auditStore(store)).toEqual([]) })
  }, 180_000)

  it('a store held by a live or hung process is refused with StoreLockedError; a SIGKILLed holder leaves a LOCK file that locks nothing', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    await seedStore(A, clientDocs(100))
    const file = await writeNodeConfig(A, [{ node: B }])
    const holder = await spawn(file, A, false)

    // a second process on the same dataDir: refused before it starts anything, naming the store and the fix
    const second = await runCli(['start', '--config', file])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain('STORE_LOCKED')
    expect(second.stderr).toContain(join(A.dir, 'data', 'store'))
    expect(second.stderr).toMatch(new RegExp(`process ${holder.proc.pid}\\b`))
    expect(second.stdout).not.toContain('labmesh ready')
    expect((await holder.api<Status>('GET', '/api/status')).objects).toBe(100)

    // a hung holder (stopped, not dead) still holds it
    holder.proc.kill('SIGSTOP')
    const whileHung = await runCli(['start', '--config', file])
    expect(whileHung.code).toBe(1)
    expect(whileHung.stderr).toContain('STORE_LOCKED')
    holder.proc.kill('SIGCONT')

    // killed: LevelDB's LOCK file stays behind, but the lock (fcntl) died with the process
    expect(await stop(holder, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' })
    expect((await stat(join(A.dir, 'data', 'store', 'LOCK'))).isFile()).toBe(true)
    const next = await spawn(file, A, false)
    expect((await next.api<Status>('GET', '/api/status')).objects).toBe(100)
    await stop(next)
    await withOfflineStore(A.dir, 'lab-a', async (store) => { expect(await auditStore(store)).toEqual([]) })

    // in one process too: the second agent on a dataDir fails to start, the first carries on
    const config = meshConfig(A, [{ node: B }])
    const first = await mesh.start(config)
    const twin = createAgent(meshConfig(A, [{ node: B }], { http: { listen: '127.0.0.1:0' }, listen: ['/ip4/127.0.0.1/tcp/0'] }), { logger: silentLogger() })
    const error = await twin.start().then(() => undefined, (err: unknown) => err)
    expect(error).toBeInstanceOf(StoreLockedError)
    expect(twin.state).toBe('stopped')
    expect((error as StoreLockedError).holder).toBe(process.pid)
    expect(first.status().objects).toBe(100)
    // and the failed attempt left the first agent's lock in place: another process is still refused
    // (LevelDB closes its own descriptor of LOCK when it refuses, and POSIX then drops every fcntl lock of the process on that file)
    const elsewhere = await writeNodeConfig({ ...A, addr: '/ip4/127.0.0.1/tcp/0', httpPort: 0 }, [{ node: B }])
    const outsider = await runCli(['start', '--config', elsewhere], { timeout: 15_000 }).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }))
    expect(outsider.code, outsider.stderr.slice(-500)).toBe(1)
    expect(outsider.stderr).toContain('STORE_LOCKED')
    expect(await readFile(join(A.dir, 'data', 'store', 'CURRENT'), 'utf8')).toMatch(/MANIFEST/)
  }, 60_000)
})
