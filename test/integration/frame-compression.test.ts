/**
 * Frame compression of protocol 2, negotiated per session in the hello: the
 * puller offers codecs (sync.compression), the server picks the first it
 * accepts. Checked between real agents over loopback: who offers, who
 * accepts, `auto` on loopback (off), a version-1 session (never), and that a
 * compressed session really moves fewer bytes and leaves the same records.
 */
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import type { AgentConfigInput } from '../../config/schema.js'
import { availableCodecs } from '../../protocol/frame-compression.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, waitFor } from '../helpers/nodes.js'
import { allStored } from '../helpers/store-audit.js'

type Setting = NonNullable<NonNullable<AgentConfigInput['sync']>['compression']>

/** 120 objects of ~2 KiB of repetitive LIMS-like text each: frames well over the size worth compressing */
const docs = Array.from({ length: 120 }, (_, i) => ({
  uid: `s-${i}`, type: 'AnalysisRequest', id: `WB-${String(i).padStart(5, '0')}`,
  data: { title: `Sample ${i}`, remarks: Array.from({ length: 20 }, (_, k) => `analysis ${k} of sample ${i}: result pending review`), n: i }
}))

async function records (agent: Agent): Promise<unknown[]> {
  const all = await allStored(agentInternals(agent).store)
  return all.map(({ uid, type, id, data, vector, deleted }) => ({ uid, type, id, data, vector, deleted })).sort((x, y) => x.uid.localeCompare(y.uid))
}

describe('frame compression negotiated per session', () => {
  // a fresh pair of stores for every case of a test
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c', 'lab-d', 'lab-e', 'lab-f'])
  const pairs: Array<[string, string]> = [['lab-a', 'lab-b'], ['lab-c', 'lab-d'], ['lab-e', 'lab-f']]

  /** B pulls A's objects with these settings; returns what B's pull session and A's serve session logged */
  async function pull (settings: { a: Setting, b: Setting, aVersions?: number[] }, pair = 0): Promise<{ codec: unknown, served: unknown, protocol: unknown, bytesIn: number, frameBytesIn: number }> {
    const domains = pairs[pair]!
    const aLog = capturingLogger(domains[0])
    const bLog = capturingLogger(domains[1])
    const { a, b } = await mesh.startPair({
      domains,
      seed: docs,
      aConfig: { sync: { compression: settings.a } },
      bConfig: { sync: { compression: settings.b } },
      aDeps: { logger: aLog.logger, ...(settings.aVersions !== undefined ? { protocolVersions: settings.aVersions } : {}) },
      bDeps: { logger: bLog.logger }
    })
    await waitFor(() => b.status().objects === docs.length, { what: `B holds A's ${docs.length} objects` })
    expect(await records(b)).toEqual(await records(a))
    const session = b.peerStatus(domains[0]).session
    await mesh.stop(b)
    const started = bLog.lines.find((l) => l.msg === 'pull session started')!
    const ended = bLog.lines.find((l) => l.msg === 'pull session ended')!
    const served = aLog.lines.find((l) => l.msg === 'serve session: hello')?.codec
    expect(ended.codec).toBe(started.codec)
    // what the log says is what the peer's status shows
    expect(session).toMatchObject({ protocol: started.protocol, codec: started.codec })
    await mesh.stop(a)
    return { codec: started.codec, served, protocol: started.protocol, bytesIn: ended.bytesIn as number, frameBytesIn: ended.frameBytesIn as number }
  }

  it('compresses when the puller asks and the server accepts: fewer bytes, the same records', async () => {
    const on = await pull({ a: 'auto', b: 'brotli' })
    expect(on).toMatchObject({ codec: 'brotli', served: 'brotli', protocol: 2 })
    // the batches are repetitive text: well under half their size on the wire
    expect(on.bytesIn).toBeLessThan(on.frameBytesIn / 2)
  })

  it('does not compress when the server is off, or the puller is, or auto sees a loopback link', async () => {
    const cases: Array<[Setting, Setting]> = [['off', 'brotli'], ['brotli', 'off'], ['auto', 'auto']]
    for (const [i, [a, b]] of cases.entries()) {
      const r = await pull({ a, b }, i)
      expect({ a, b, codec: r.codec, served: r.served, protocol: r.protocol }).toEqual({ a, b, codec: 'none', served: 'none', protocol: 2 })
      // uncompressed: the stream's bytes are the frames' bodies plus their length prefixes
      expect(r.bytesIn).toBeGreaterThan(r.frameBytesIn)
      expect(r.bytesIn).toBeLessThan(r.frameBytesIn * 1.01)
    }
  })

  it('never compresses a version-1 session', async () => {
    const r = await pull({ a: 'brotli', b: 'brotli', aVersions: [1] })
    expect({ codec: r.codec, protocol: r.protocol }).toEqual({ codec: 'none', protocol: 1 })
  })

  it('a preferred codec this node lacks gives way to one it has (zstd before Node 22.15)', async () => {
    const r = await pull({ a: 'auto', b: 'zstd' })
    expect(r.codec).toBe(availableCodecs().includes('zstd') ? 'zstd' : 'brotli')
  })
})
