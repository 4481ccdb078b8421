/**
 * Liveness of the pull loop: a connection lost in the middle of an initial
 * pull must end that session and start another that resumes from the
 * checkpoint, until the puller holds everything — never a puller that stops.
 *
 * A real pair of agents; B dials A through a TCP proxy (test/helpers/
 * link-proxy.ts) that the test cuts while B is pulling. Destroying the
 * sockets ends B's stream as a clean end of stream (libp2p closes the
 * streams of a connection whose transport closed without an error), which
 * is what B saw in the bench when A's side dropped the connection: "peer
 * lab-a closed the session". Two set-ups: A dials B too (its own
 * connection, as in the bench: B's next session may run over it), and B is
 * the only one that dials (the link stays down for a while: the loop must
 * keep trying, then resume).
 */
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import type { AppliedBatch } from '../../agent/sync/pull-pipeline.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { clientDocs } from '../helpers/documents.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { createLinkProxy } from '../helpers/link-proxy.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'

const OBJECTS = 6000
/** small windows and batches: the pull takes many round trips, so the cut lands in the middle of it */
const SYNC = { window: 300, batchSize: 100 }

describe('pull loop: a connection lost mid-pull', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-pull-resume-' })

  async function seeded (aDialsB: boolean): Promise<Agent> {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const a = await mesh.start(meshConfig(A, [{ node: B, ...(aDialsB ? {} : { extra: { addrs: [] } }) }]))
    const docs = clientDocs(OBJECTS)
    for (let i = 0; i < docs.length; i += 1000) await a.documents.putMany(docs.slice(i, i + 1000))
    return a
  }

  for (const aDialsB of [true, false]) {
    it(`B resumes from its checkpoint and gets everything (${aDialsB ? 'A dials B too' : 'only B dials; the link stays down 2 s'})`, async () => {
      const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
      const a = await seeded(aDialsB)
      const proxy = await createLinkProxy(A.p2pPort)
      try {
        const { logger, lines } = capturingLogger('lab-b')
        const batches: AppliedBatch[] = []
        const b = await mesh.start(meshConfig(B, [{ node: { ...A, addr: proxy.addr }, pull: true }], { sync: SYNC }), {
          logger,
          events: { onBatchApplied: (_peer, _stats, batch) => { batches.push(batch) } }
        })
        await waitFor(() => b.status().objects >= 1000, { what: 'B part-way through its pull', interval: 5 })
        const atCut = b.status().objects
        proxy.cut()
        if (!aDialsB) {
          await new Promise((resolve) => setTimeout(resolve, 2000))
          proxy.heal()
        }
        await waitFor(() => b.status().objects === OBJECTS, { what: `B holding all ${OBJECTS} objects after the cut`, timeout: 45_000 })

        // the cut really was mid-pull, and it ended that session
        expect(atCut).toBeLessThan(OBJECTS)
        const ended = lines.filter((l) => l.msg === 'pull session ended with an error')
        expect(ended.length).toBeGreaterThanOrEqual(1)
        expect(String(ended[0]!.err)).toMatch(/closed the session|reset|closed|aborted/)
        // a remote that went away is not a bad message, and is not answered with an error frame
        expect(lines.filter((l) => String(l.msg).includes('bad message from peer'))).toEqual([])
        // a second session started, from the checkpoint: every batch B applied continues the one before
        expect(lines.filter((l) => l.msg === 'pull session started').length).toBeGreaterThanOrEqual(2)
        let at = 0
        for (const batch of batches) {
          expect(batch.from).toBe(at)
          at = batch.lastSeq
        }
        expect(at).toBe(a.status().feedHead)
        const checkpoint = await agentInternals(b).store.getCheckpoint(A.peerId)
        expect(checkpoint).toMatchObject({ seq: a.status().feedHead, pulled: OBJECTS })
      } finally {
        await proxy.close()
      }
    }, 90_000)
  }
})
