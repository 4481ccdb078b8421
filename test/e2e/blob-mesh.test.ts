/**
 * A large file through a hub, agents as processes (`labmesh start`): a file
 * attached on A appears byte-identical on B through M, every agent's peak
 * RSS (VmHWM, from /proc) stays under 200 MiB while it moves, and B,
 * SIGKILLed in the middle of its transfer, resumes where it was — the bytes
 * M sends it twice stay under a tenth of the file. Two objects reference the
 * file; every agent stores it once.
 *
 * The default suite moves 128 MiB; LABMESH_SOAK=1 moves 500 MiB. What a kill
 * costs again is bounded in bytes, not in percent — the window in flight
 * (4 MiB), two checkpoint intervals not yet durable (4 MiB) and one write
 * batch (1 MiB) — so the file must be large enough for that to be under a
 * tenth of it.
 */
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { BlobPeerStatus } from '../../agent/blobs/blob-status.js'
import { blobFiles, blobRef, hashStream, putBlobFile, writeSeededFile } from '../helpers/blobs.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { waitFor } from '../helpers/nodes.js'
import { logLines, writeNodeConfig, type AgentProcess } from '../helpers/processes.js'
import { soakMode } from '../helpers/seeded.js'
import { peakRss, sampleRss } from '../helpers/rss.js'

const MiB = 1024 * 1024
const SIZE = (soakMode() ? 500 : 128) * MiB
const RSS_LIMIT_MIB = 200

interface PeerJson { name: string, blobs: BlobPeerStatus }

async function objectHere (agent: AgentProcess, token: string, uid: string): Promise<boolean> {
  const response = await fetch(`${agent.httpUrl}/api/objects/${uid}`, { headers: { authorization: `Bearer ${token}` } })
  return response.status === 200
}

describe('a large file through a hub (agents as processes)', () => {
  const mesh = useTestMesh(['lab-a', 'lab-m', 'lab-b'], { prefix: 'labmesh-blob-mesh-' })

  it(`${SIZE / MiB} MiB attached on A reaches B through M byte-identical, under ${RSS_LIMIT_MIB} MiB RSS each, and B resumes after SIGKILL`, { timeout: soakMode() ? 900_000 : 180_000 }, async () => {
    const [A, M, B] = ['lab-a', 'lab-m', 'lab-b'].map((d) => mesh.node(d)) as [ReturnType<typeof mesh.node>, ReturnType<typeof mesh.node>, ReturnType<typeof mesh.node>]
    const files = join(mesh.root, 'files')
    await mkdir(files)
    const file = join(files, 'scan.tiff')
    const hash = await writeSeededFile(file, SIZE, 'blob-mesh')

    const aConfig = await writeNodeConfig(A, [{ node: M }])
    const mConfig = await writeNodeConfig(M, [{ node: A, pull: true }, { node: B }])
    const bConfig = await writeNodeConfig(B, [{ node: M, pull: true }])
    const a = await mesh.spawn(aConfig, A)
    const m = await mesh.spawn(mConfig, M)
    let b = await mesh.spawn(bConfig, B)
    const sampler = sampleRss(() => [a, m, b].map((p) => p.proc.pid!))

    try {
      const put = await putBlobFile(a.httpUrl, A.token, file)
      expect(put).toMatchObject({ hash, size: SIZE })
      const ref = blobRef(hash, SIZE, 'scan.tiff', 'image/tiff')
      await a.api('PUT', '/api/objects/att-1', { type: 'Attachment', id: 'ATT-1', data: { file: ref } })
      await a.api('PUT', '/api/objects/att-2', { type: 'Attachment', id: 'ATT-2', data: { pages: [{ scan: ref }] } })

      // B, a third into its transfer from M, is killed
      const third = await waitFor(async () => {
        const peer = await b.api<PeerJson>('GET', '/api/peers/lab-m')
        const t = peer.blobs.transfers.find((x) => x.hash === hash)
        return t !== undefined && t.done >= SIZE / 3 ? t : undefined
      }, { interval: 5, timeout: 120_000, what: 'B a third into the file' })
      const firstB = await peakRss(b.proc.pid!)
      b.proc.kill('SIGKILL')
      await b.exited
      expect(third.done).toBeLessThan(SIZE)

      b = await mesh.spawn(bConfig, B)
      await waitFor(async () => await objectHere(b, B.token, 'att-1') && await objectHere(b, B.token, 'att-2'), { timeout: 120_000, interval: 100, what: 'both objects applied on B after the restart' })
      const resumed = logLines(b).find((l) => String(l.msg).startsWith('resuming blob fetch at byte'))
      expect(resumed, 'the restarted B resumed its partial fetch').toBeDefined()
      expect(Number(resumed!.offset)).toBeGreaterThan(0)

      // byte-identical on B (and on M), stored once everywhere
      const download = await fetch(`${b.httpUrl}/api/blobs/${hash}`, { headers: { authorization: `Bearer ${B.token}` } })
      expect(await hashStream(download.body as unknown as AsyncIterable<Uint8Array>)).toEqual({ hash, size: SIZE })
      for (const node of [A, M, B]) expect(await blobFiles(join(node.dir, 'data'))).toEqual([hash])
      expect(await readdir(join(B.dir, 'data', 'blobs', 'partial'))).toEqual([])

      // what M sent B twice: what B had not made durable when it died, and what was in flight
      const servedToB = (await m.api<PeerJson>('GET', '/api/peers/lab-b')).blobs.bytesServed
      const servedToM = (await a.api<PeerJson>('GET', '/api/peers/lab-m')).blobs.bytesServed
      const refetched = servedToB - SIZE
      expect(servedToM, 'A sent the file to M once').toBe(SIZE)
      expect(refetched).toBeGreaterThanOrEqual(0)
      expect(refetched, 'bytes re-fetched after the kill').toBeLessThan(SIZE / 10)

      const peaks = { a: await peakRss(a.proc.pid!), m: await peakRss(m.proc.pid!), bBeforeKill: firstB, bAfterRestart: await peakRss(b.proc.pid!) }
      const sampled = sampler.stop()
      console.log(`blob mesh: ${SIZE / MiB} MiB; B killed at ${(third.done / MiB).toFixed(1)} MiB, resumed at ${(Number(resumed!.offset) / MiB).toFixed(1)} MiB; re-fetched ${(refetched / MiB).toFixed(2)} MiB (${(refetched / SIZE * 100).toFixed(1)} %); peak RSS MiB (VmHWM) ${JSON.stringify(peaks)}; sampled max ${JSON.stringify(sampled)}`)
      for (const [who, mib] of Object.entries(peaks)) expect(mib, `peak RSS of ${who}`).toBeLessThan(RSS_LIMIT_MIB)
    } finally {
      sampler.stop()
    }
  })
})
