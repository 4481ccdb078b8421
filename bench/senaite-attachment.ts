/**
 * One large SENAITE attachment, site A → site B (issue 14): an Attachment
 * with a `--mib` MiB file made in simulated site A, read by A's agent into
 * its blob store (streamed from the download URL), pulled by B's agent over
 * libp2p (blob protocol), written into site B as base64 in one JSON body.
 * Time from A's poll to the file in site B, and peak RSS above the level
 * before (everything runs in this process: both agents AND both simulated
 * sites, which hold the file as base64 and parse the JSON body whole).
 *
 * Baselines in the same run, same bytes:
 * - raw blob store: `put` of the bytes and a `read` back (what the agent's
 *   disk side costs at least);
 * - direct copy: download from site A and create the attachment in site B
 *   with the base64 body, no agent (what any tool must do through the JSON
 *   API; the simulated sites' own cost is in it too).
 *
 *   node dist/bench/senaite-attachment.js [--mib 50] [--layout 2.6]
 */
import { join } from 'node:path'
import { createAgent, type Agent } from '../agent/agent.js'
import { createSenaiteClient } from '../agent/connectors/senaite/client.js'
import { createBlobStore } from '../store/blobs/blob-store.js'
import { seededBytes } from '../test/helpers/blobs.js'
import { senaiteConnectorFor } from '../test/helpers/senaite-migration.js'
import { meshConfig, prepareNode, testLogger, waitFor } from '../test/helpers/nodes.js'
import { seedSimulator } from '../test/senaite-sim/dataset.js'
import type { RealLayout } from '../test/senaite-sim/layouts.js'
import { createSenaiteSimulator, type SenaiteSimulator } from '../test/senaite-sim/simulator.js'
import { isMainModule, parseBenchArgs } from './lib/args.js'
import { machineInfo } from './lib/report.js'
import { createRssSampler } from './lib/rss.js'
import { renderTable, type Cell } from './lib/table.js'
import { createTempDir } from './lib/tmp.js'

const MiB = 1024 * 1024
const AUTH = `Basic ${Buffer.from('labman:labman').toString('base64')}`

interface Figure { readonly seconds: number, readonly peakDeltaMiB: number }

/** run `work`, sampling RSS: seconds and peak RSS above the level just before */
async function measure (work: () => Promise<void>): Promise<Figure> {
  const sampler = createRssSampler({ intervalMs: 10 })
  const before = process.memoryUsage.rss()
  sampler.start()
  sampler.reset()
  const started = performance.now()
  await work()
  const seconds = (performance.now() - started) / 1000
  sampler.stop()
  return { seconds, peakDeltaMiB: Math.max(0, sampler.report().peakBytes - before) / MiB }
}

async function labPost (sim: SenaiteSimulator, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await sim.app.request(`/${sim.site.portalId}/@@API/senaite/v1/${path}`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return await r.json() as Record<string, unknown>
}

/** an Attachment in the first client of `sim` holding `base64`; its uid */
async function attach (sim: SenaiteSimulator, base64: string, filename: string): Promise<string> {
  const client = sim.site.content().find((o) => o.portalType === 'Client')!
  const made = await labPost(sim, `attachment/create/${client.uid}`, { AttachmentFile: base64, filename, mimetype: 'application/pdf' })
  const uid = (made.items as Array<{ uid: string }> | undefined)?.[0]?.uid
  if (uid === undefined) throw new Error(`attachment not made: ${JSON.stringify(made).slice(0, 300)}`)
  return uid
}

const holds = (sim: SenaiteSimulator, filename: string, size: number): boolean =>
  sim.site.content().some((o) => (o.fields.AttachmentFile as { filename?: string, size?: number } | undefined)?.filename === filename && (o.fields.AttachmentFile as { size?: number }).size === size)

async function main (): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), { mib: 50, layout: '2.6' })
  const layout = args.layout as RealLayout
  const size = args.mib * MiB
  const m = machineInfo()
  console.log(`SENAITE attachment of ${args.mib} MiB, site A → site B (layout ${layout}), ${m.cpus} × ${m.cpuModel}, node ${m.node}, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  const dir = await createTempDir('senaite-attachment')
  const sims = [createSenaiteSimulator({ layout }), createSenaiteSimulator({ layout }), createSenaiteSimulator({ layout })]
  const agents: Agent[] = []
  try {
    for (const sim of sims) await sim.start()
    const [simA, simB, simC] = sims as [SenaiteSimulator, SenaiteSimulator, SenaiteSimulator]
    await seedSimulator(simA, { seed: 3, samples: 1, clients: 1 })
    await seedSimulator(simC, { seed: 3, samples: 1, clients: 1 })
    const [A, B] = [await prepareNode('lab-a', dir.path), await prepareNode('lab-b', dir.path)]
    const connectors = [senaiteConnectorFor(A, simA, '1h'), senaiteConnectorFor(B, simB, '1h')] as const
    const a = createAgent(meshConfig(A, [{ node: B }]), { logger: testLogger('lab-a'), connector: connectors[0] })
    agents.push(a)
    await a.start()
    const b = createAgent(meshConfig(B, [{ node: A, pull: true }]), { logger: testLogger('lab-b'), connector: connectors[1] })
    agents.push(b)
    await b.start()
    await waitFor(() => simB.site.content().length >= simA.site.content().length && b.peerStatus('lab-a').progress.state === 'idle', { what: 'site B filled with the seeded lab', timeout: 120_000 })

    const bytes = seededBytes(size, 'attachment')
    const base64 = bytes.toString('base64')
    await attach(simA, base64, 'big.pdf')
    await attach(simC, base64, 'big.pdf')

    // through the mesh: A's poll streams it into A's blobs, B fetches and writes it into site B
    const mesh = await measure(async () => {
      await connectors[0].pollNow()
      await waitFor(() => holds(simB, 'big.pdf', size), { what: 'the attachment in site B', timeout: 600_000, interval: 20 })
    })

    // baseline: the blob store alone, put and read back
    const blobs = createBlobStore(join(dir.path, 'raw-blobs'))
    await blobs.open()
    const raw = await measure(async () => {
      const put = await blobs.put((async function * () { for (let at = 0; at < size; at += MiB) yield bytes.subarray(at, Math.min(size, at + MiB)) })())
      const { stream } = await blobs.read(put.hash)
      for await (const chunk of stream) void chunk
    })

    // baseline: a direct copy through the JSON API (download whole, create in the other site), no agent
    const client = createSenaiteClient({ url: simC.url(), username: 'labman', password: 'labman', concurrency: 2 })
    const sourceUrl = `${simC.url().replace(/\/[^/]+$/, '')}${simC.site.content().find((o) => (o.fields.AttachmentFile as { filename?: string } | undefined)?.filename === 'big.pdf')!.path}/at_download/AttachmentFile`
    const direct = await measure(async () => {
      const got = await client.download(sourceUrl, async (body) => { const parts: Uint8Array[] = []; for await (const c of body) parts.push(c); return Buffer.concat(parts) })
      await attach(simB, got.toString('base64'), 'direct.pdf')
    })
    await client.close()

    const row = (name: string, f: Figure): Cell[] => [name, f.seconds.toFixed(2), (args.mib / f.seconds).toFixed(1), f.peakDeltaMiB.toFixed(0), (f.peakDeltaMiB / args.mib).toFixed(2)]
    console.log(renderTable([
      ['path', 's', 'MiB/s', 'peak RSS above start, MiB', 'peak RSS / file size'],
      row('site A → agent A → libp2p → agent B → site B', mesh),
      row('baseline: blob store put + read', raw),
      row('baseline: direct copy via JSON API (no agent)', direct)
    ]))
    console.log(`downloads from site A: ${simA.calls.get('GET download') ?? 0}, from site B: ${simB.calls.get('GET download') ?? 0}`)
  } finally {
    for (const agent of agents.splice(0)) await agent.stop()
    for (const sim of sims) await sim.stop()
    await dir.remove()
  }
}

if (isMainModule(import.meta.url)) {
  main().catch((err: unknown) => { console.error(err); process.exit(1) })
}
