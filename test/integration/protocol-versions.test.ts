/**
 * Sync protocol negotiation: agents offer /labmesh/sync/2.0.0 before 1.0.0
 * and speak 2 with each other; an agent restricted to version 1 (standing
 * for an older agent) still syncs with a current one, whichever of the two
 * pulls; so does a version-2 agent without push (protocol 2's optional
 * feature, named in the hello). Both versions must leave the same records.
 */
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { syncVersionsFrom } from '../../protocol/versions.js'
import { clientDocs } from '../helpers/documents.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, waitFor } from '../helpers/nodes.js'
import { allStored } from '../helpers/store-audit.js'

/** the protocol version of every pull session `lines` logged as started */
const pulledWith = (lines: ReadonlyArray<Record<string, unknown>>): unknown[] =>
  lines.filter((l) => l.msg === 'pull session started').map((l) => l.protocol)

/** every stored record without the fields that differ by holder (via, seq) */
async function records (agent: Agent): Promise<unknown[]> {
  const all = await allStored(agentInternals(agent).store)
  return all.map(({ uid, type, id, parent, refs, data, vector, origin, deleted, sig }) => ({ uid, type, id, parent, refs, data, vector, origin, deleted, sig }))
    .sort((x, y) => x.uid.localeCompare(y.uid))
}

describe('sync protocol versions', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])

  async function syncBothWays (aVersions: number[] | undefined, bVersions: number[] | undefined, aPush = true): Promise<{ a: unknown[], b: unknown[], aLines: unknown[], bLines: unknown[], pushed: number[] }> {
    const aLog = capturingLogger('lab-a')
    const bLog = capturingLogger('lab-b')
    const { a, b } = await mesh.startPair({
      mutual: true,
      seed: [...clientDocs(40), { uid: 'nested', type: 'Client', id: 'n', data: { z: 1, a: [{ y: 'é\n"', b: null }], '10': 2, '9': 3 } }],
      aDeps: { logger: aLog.logger, ...(aVersions !== undefined ? { protocolVersions: aVersions } : {}), ...(aPush ? {} : { syncPush: false }) },
      bDeps: { logger: bLog.logger, ...(bVersions !== undefined ? { protocolVersions: bVersions } : {}) }
    })
    // both caught up (a pull finished each way), so what follows is live: pushed where both speak push
    await waitFor(() => a.peerStatus('lab-b').progress.finishedAt !== undefined && b.peerStatus('lab-a').progress.finishedAt !== undefined && b.status().objects === 41, { what: 'both pulled once' })
    await b.documents.putMany(clientDocs(10, 'from-b', 'b'))
    await a.documents.delete('o-3')
    await waitFor(async () => a.status().objects === 51 && b.status().objects === 51 && (await b.documents.get('o-3'))?.deleted === true, { what: 'both hold 51 objects, o-3 deleted' })
    await waitFor(async () => JSON.stringify(await records(a)) === JSON.stringify(await records(b)), { what: 'the same records on both' })
    // batches each pushed to the other and had applied: [A → B, B → A]
    const pushed = [b.peerStatus('lab-a').pushedIn, a.peerStatus('lab-b').pushedIn]
    expect(pushed).toEqual([a.peerStatus('lab-b').pushedOut, b.peerStatus('lab-a').pushedOut])
    return { a: await records(a), b: await records(b), aLines: pulledWith(aLog.lines), bLines: pulledWith(bLog.lines), pushed }
  }

  it('speaks version 2 between two current agents', async () => {
    const { a, b, aLines, bLines } = await syncBothWays(undefined, undefined)
    expect(b).toEqual(a)
    expect(aLines.length).toBeGreaterThan(0)
    expect(new Set([...aLines, ...bLines])).toEqual(new Set([2]))
  })

  it('falls back to version 1 with an agent that speaks only 1, both ways', async () => {
    // B (current) pulls from A (version 1 only): A handles only 1.0.0; A pulls from B offering only 1.0.0
    const { a, b, aLines, bLines, pushed } = await syncBothWays([1], undefined)
    expect(b).toEqual(a)
    expect(aLines.length).toBeGreaterThan(0)
    expect(bLines.length).toBeGreaterThan(0)
    expect(new Set([...aLines, ...bLines])).toEqual(new Set([1]))
    expect(pushed).toEqual([0, 0])
  })

  it('pushes between two current agents, and not with a version-2 agent without push, both ways', async () => {
    // B's 10 new objects reach A by push (A pulls live from B); A's delete reaches B by push
    const current = await syncBothWays(undefined, undefined)
    expect(current.pushed.every((n) => n > 0)).toBe(true)
  })

  it('syncs with a version-2 agent without push, both ways, by notify and pull', async () => {
    // A offers no push as a server and asks for none as a puller
    const { a, b, aLines, bLines, pushed } = await syncBothWays(undefined, undefined, false)
    expect(b).toEqual(a)
    expect(new Set([...aLines, ...bLines])).toEqual(new Set([2]))
    expect(pushed).toEqual([0, 0])
  })

  it('refuses a version list it cannot speak', () => {
    expect(syncVersionsFrom([1])).toEqual([1])
    expect(syncVersionsFrom([1, 2])).toEqual([2, 1])
    expect(() => syncVersionsFrom([])).toThrow(/speaks 2 and 1/)
    expect(() => syncVersionsFrom([3])).toThrow(/speaks 2 and 1/)
  })
})
