/**
 * The disk fills during a pull (a real tmpfs, too small; needs root to
 * mount). The agent must report the error (status and log), stop applying,
 * leave on disk only whole transactions, resume by itself once there is
 * space — and lose nothing it acknowledged after the fault, not even across
 * a restart (LevelDB keeps appending after a torn log record, and its
 * recovery then drops what follows: the store reopens itself after a
 * failed write for that reason).
 */
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { agentInternals } from '../../agent/test-hooks.js'
import type { LoadedConfig } from '../../config/load.js'
import { fillUntil, isRoot, mountTmpfs, removeFile, resizeTmpfs, unmount } from '../helpers/disk.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'
import { createLevelStore } from '../../store/level-store.js'
import { allStored, auditStore } from '../helpers/store-audit.js'

/**
 * Small on purpose: what is written after the fault must stay in the same
 * LevelDB log (under its 4 MiB memtable) until the restart — the place where
 * a torn record used to take later writes down with it. With more data a
 * memtable flush moves everything into tables first and hides the loss.
 */
const OBJECTS = 2500
const MiB = 1024 * 1024
const PAD = 'disk-full '.repeat(100)

describe.skipIf(!isRoot())('disk full during a pull (tmpfs; root only)', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-diskfull-' })
  let disk: string

  beforeEach(() => { disk = join(mesh.root, 'disk') })
  // B's store is on the tmpfs: every agent stops before it is unmounted
  afterEach(async () => {
    await mesh.stopAll()
    await unmount(disk)
  })

  it('reports ENOSPC, stops applying, keeps only whole transactions, resumes when space is back, and loses nothing after a restart', async (ctx) => {
    const mounted = await mountTmpfs(disk, 8 * MiB)
    if (!mounted.ok) {
      console.log(`skipped: cannot mount a tmpfs here (${mounted.reason})`)
      ctx.skip()
      return
    }
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    for (let i = 0; i < OBJECTS; i += 500) {
      await a.documents.putMany(Array.from({ length: 500 }, (_, j) => ({ uid: `s-${String(i + j).padStart(6, '0')}`, type: 'AnalysisRequest', id: `W-${i + j}`, data: { n: i + j, pad: PAD } })))
    }
    // B's store lives on the tiny disk; its key and token stay where they are
    const bConfig: LoadedConfig = meshConfig(B, [{ node: A, pull: true }], {
      dataDir: join(disk, 'data'),
      identity: { keyFile: join(B.dir, 'data', 'identity.key') },
      http: { listen: `127.0.0.1:${B.httpPort}`, tokenFile: join(B.dir, 'data', 'admin.token') },
      sync: { batchSize: 100, window: 500 }
    })
    const filler = await fillUntil(disk, 1.5 * MiB)
    const captured = capturingLogger('lab-b')
    let b = await mesh.start(bConfig, { logger: captured.logger })

    // 1. the error is reported, in status and in the log
    const noSpace = /no space left|could not commit|cannot recover/i
    await waitFor(() => noSpace.test(b.peerStatus('lab-a').lastError ?? ''), { what: 'B reports the full disk', timeout: 30_000 })
    const failures = (): number => captured.lines.filter((l) => l.msg === 'pull session ended with an error' && noSpace.test(String(l.err))).length
    expect(failures()).toBeGreaterThan(0)
    expect(b.status().peers[0]!.lastError).toMatch(noSpace)
    // 2. and it stops applying: two more failed attempts later, not one object more
    const stuckAt = b.status().objects
    const seenFailures = failures()
    await waitFor(() => failures() >= seenFailures + 2, { what: 'two more failed attempts', timeout: 30_000 })
    expect(b.status().objects).toBe(stuckAt)
    expect(stuckAt).toBeGreaterThan(0)
    expect(stuckAt).toBeLessThan(OBJECTS)

    // 3. on disk, only whole transactions: a copy of the store as it is now opens, passes the
    // audit, and holds exactly the objects its checkpoint says were applied (A's first `seq`)
    const image = join(mesh.root, 'image')
    await cp(join(disk, 'data'), image, { recursive: true })
    const copy = createLevelStore({ location: join(image, 'store'), domain: 'lab-b' })
    await copy.open()
    try {
      expect(await auditStore(copy)).toEqual([])
      const checkpoint = await copy.getCheckpoint(A.peerId)
      const held = await allStored(copy)
      expect(held.length).toBe(checkpoint?.seq ?? 0)
      const aSeqs = new Map((await allStored(agentInternals(a).store)).map((o) => [o.uid, o.seq]))
      for (const o of held) expect(aSeqs.get(o.uid)!).toBeLessThanOrEqual(checkpoint!.seq)
    } finally {
      await copy.close()
    }

    // 4. space comes back: B resumes by itself and completes
    await resizeTmpfs(disk, 64 * MiB)
    await removeFile(filler)
    await waitFor(() => b.status().objects === OBJECTS, { what: 'B completes once there is space', timeout: 60_000 })
    await waitFor(() => b.peerStatus('lab-a').progress.state === 'idle')

    // 5. what B acknowledges after the fault survives a restart
    await b.documents.putMany(Array.from({ length: 20 }, (_, i) => ({ uid: `local-${i}`, type: 'Client', id: `L-${i}`, data: { after: 'the fault' } })))
    const checkpointBefore = (await agentInternals(b).store.getCheckpoint(A.peerId))!
    await mesh.stop(b)
    b = await mesh.start(bConfig, { logger: captured.logger })
    expect(b.status().objects).toBe(OBJECTS + 20)
    for (let i = 0; i < 20; i++) expect(await b.documents.get(`local-${i}`), `local-${i}`).toBeDefined()
    expect((await agentInternals(b).store.getCheckpoint(A.peerId))!.seq).toBe(checkpointBefore.seq)
    expect(await auditStore(agentInternals(b).store)).toEqual([])
    // and equals A exactly (its own writes aside)
    const fromA = new Map((await allStored(agentInternals(a).store)).map((o) => [o.uid, o]))
    for (const o of await allStored(agentInternals(b).store)) {
      if (o.uid.startsWith('local-')) continue
      const src = fromA.get(o.uid)!
      expect({ data: o.data, vector: o.vector, deleted: o.deleted }).toEqual({ data: src.data, vector: src.vector, deleted: src.deleted })
    }
  }, 120_000)
})
