import { describe, expect, it } from 'vitest'
import type { DocumentInput } from '../../agent/apply/local-writes.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { waitFor } from '../helpers/nodes.js'
import { allObjects, seedStore, writeNodeConfig } from '../helpers/processes.js'

const OBJECTS = 20_000
/**
 * Measured 11–12 s at load 2 in CI, 30 s at load 2 with another file, 47 s at
 * load 14, and over the 60 s default at load 17: two agent starts and a
 * restart (judged by CPU time, test/helpers/processes.ts), pulling 20,000
 * objects of ~900 bytes twice over, and reading them back from both. Each
 * wait has its own deadline, which catches a hang and names it; this is the
 * last resort above them (the default fired first, and its teardown killed
 * the agents mid-read).
 */
const TEST_TIMEOUT_MS = 300_000
/** B's pull may run at a twelfth of a core on a loaded machine: 12,000 objects take more than waitFor's default 15 s */
const PULL_WAIT_MS = 90_000

function* samples (count: number): Generator<DocumentInput> {
  const pad = 'lorem ipsum '.repeat(60)
  for (let i = 0; i < count; i++) {
    yield { uid: `s${String(i).padStart(31, '0')}`, type: 'AnalysisRequest', id: `W-${String(i).padStart(5, '0')}`, data: { ClientSampleID: `HH-${i}`, Result: i % 97, Remarks: pad } }
  }
}

interface PeerStatusJson { name: string, pulled: number, served: number, progress: { done: number, state: string } }

describe('crash during an initial pull', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-crash-' })

  it('SIGKILL mid-pull of 20,000 objects: after restart B equals A exactly and resumes from its checkpoint', async () => {
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    await seedStore(A, samples(OBJECTS))
    const aFile = await writeNodeConfig(A, [{ node: B }])
    // small windows make the pull long enough to kill it in the middle
    const bFile = await writeNodeConfig(B, [{ node: A, pull: true }], { sync: { batchSize: 100, window: 400 } })
    const a = await mesh.spawn(aFile, A)

    let b = await mesh.spawn(bFile, B)
    const killAt = 4000 + Math.floor(Math.random() * 8000)
    const before = await waitFor(async () => {
      const s = await b.api<{ objects: number }>('GET', '/api/status')
      return s.objects >= killAt ? s.objects : undefined
    }, { interval: 2, timeout: PULL_WAIT_MS, what: `B past ${killAt} objects` })
    b.proc.kill('SIGKILL')
    await b.exited
    expect(before).toBeLessThan(OBJECTS) // killed in the middle, not after the end

    b = await mesh.spawn(bFile, B)
    await waitFor(async () => (await b.api<{ objects: number }>('GET', '/api/status')).objects === OBJECTS, { timeout: PULL_WAIT_MS, what: 'B complete after restart' })
    const restartedProgress = await waitFor(async () => {
      const p = await b.api<PeerStatusJson>('GET', '/api/peers/lab-a')
      return p.progress.state === 'idle' ? p : undefined
    })

    // exactly the source: same uids, same versions, nothing duplicated or lost
    const [fromA, fromB] = await Promise.all([allObjects(a), allObjects(b)])
    expect(fromB.size).toBe(OBJECTS)
    for (const [uid, objA] of fromA) {
      const objB = fromB.get(uid)
      expect(objB, uid).toBeDefined()
      expect({ ...objB, seq: 0 }).toEqual({ ...objA, seq: 0 })
    }
    // resumed, not restarted: the second run pulled only what had not been committed
    const repulled = restartedProgress.progress.done - (OBJECTS - before)
    console.log(`killed at ${before} committed objects (target ${killAt}); second run pulled ${restartedProgress.progress.done}; re-pulled ${repulled}`)
    expect(restartedProgress.progress.done).toBeLessThan(OBJECTS - before + 2 * 400 + 1)
    expect((await b.api<PeerStatusJson>('GET', '/api/peers/lab-a')).pulled).toBeGreaterThanOrEqual(OBJECTS)
  }, TEST_TIMEOUT_MS)
})
