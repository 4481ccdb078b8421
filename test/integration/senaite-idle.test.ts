/**
 * No echo storm from SENAITE: two sites replicating both ways, once
 * converged, stay flat — no write into either site, no growth of either
 * agent's feed — and the same after an attachment and a workflow
 * transition made in one of them. Per layout in simulated time (poll cycles
 * driven by hand: every cycle what the poll timer would do); once, across
 * layouts (a 1.3 site and a 2.6 site, both ways, the poll timers running),
 * for 30 s of real time, and again for 30 s after an attachment and a
 * workflow transition have crossed.
 */
import { expect, it } from 'vitest'
import { useTestMesh } from '../helpers/lifecycle.js'
import { waitFor } from '../helpers/nodes.js'
import { describeLayouts, labPost, type RealLayout } from '../helpers/senaite.js'
import { converge, expectFlat, sameContent, startSenaitePair, type SenaitePair } from '../helpers/senaite-pair.js'
import type { SimObject } from '../senaite-sim/site.js'

/** the file attached in the tests: bytes that are not text */
const ATTACHED = Buffer.from([0, 1, 2, 250, 251, 252, ...Buffer.from('\nfield photo')]).toString('base64')

/** In site A: a file attached to a sample still due, and the sample received (a workflow transition). */
async function attachAndReceive (pair: SenaitePair): Promise<SimObject> {
  const simA = pair.sims[0]
  const due = simA.site.content().find((o) => o.portalType === 'AnalysisRequest' && o.reviewState === 'sample_due')!
  const client = simA.site.get(due.parentUid!)!
  const attachment = await labPost(simA, `attachment/create/${client.uid}`, { AttachmentFile: ATTACHED, filename: 'photo.bin', mimetype: 'application/octet-stream' })
  const attachmentUid = (attachment.items as Array<{ uid: string }>)[0]!.uid
  expect((await labPost(simA, `update/${due.uid}`, { Attachment: [attachmentUid] })).success).not.toBe(false)
  expect((await labPost(simA, `update/${due.uid}`, { transition: 'receive' })).success).not.toBe(false)
  return due
}

/** Site B holds what attachAndReceive did in A: the sample received, its analyses alike, the file byte for byte. */
function expectCopied (pair: SenaitePair, due: SimObject): void {
  const [simA, simB] = pair.sims
  const onB = simB.site.content().find((o) => o.portalType === 'AnalysisRequest' && o.fields.ClientSampleID === due.fields.ClientSampleID)!
  expect(onB.reviewState).toBe('sample_received')
  expect(simB.site.children(onB.uid).map((x) => x.reviewState)).toEqual(simA.site.children(due.uid).map((x) => x.reviewState))
  const copied = (onB.fields.Attachment as string[]).map((uid) => simB.site.get(uid)!.fields.AttachmentFile as { data: string, filename: string })
  expect(copied.map((f) => [f.filename, f.data])).toEqual([['photo.bin', ATTACHED]])
}

describeLayouts('SENAITE sites replicating both ways stay flat once converged', (layout) => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])

  const startPair = async (layouts: [RealLayout, RealLayout], pollInterval: string): Promise<SenaitePair> => await startSenaitePair(mesh, { layouts, pollInterval })

  /** `ms` of real time with the poll timers running: nothing written, no feed growth, and the time spent polling */
  async function expectIdleFor (pair: SenaitePair, ms: number): Promise<void> {
    const before = pair.counters()
    const listings = (): number[] => pair.sims.map((s) => s.calls.get('GET AnalysisRequest') ?? 0)
    const listed = listings()
    await new Promise((resolve) => setTimeout(resolve, ms))
    expect(pair.counters()).toEqual(before)
    expect(before.conflicts).toBe(0)
    expect(before.failed).toBe(0)
    // each site was asked for its samples on a good share of the ms / 200 intervals
    expect(listings().map((n, i) => n - listed[i]!).every((n) => n > ms / 200 / 3)).toBe(true)
  }

  it('converged: flat; after an attachment and a workflow transition in one site: converged again, then flat', async () => {
    const pair = await startPair([layout, layout], '1h')
    await converge(pair)
    // a loop shows within a cycle or two; 10 cycles of the 200 ms a lab polls at are 2 s of idle sites
    await expectFlat(pair, 10)

    const due = await attachAndReceive(pair)
    await converge(pair)
    expectCopied(pair, due)
    await expectFlat(pair, 10)
  })

  if (layout === '2.6') {
    it('a 1.3 site and a 2.6 site both ways, polling every 200 ms: 30 s of real time idle write nothing and grow no feed; the same after an attachment and a workflow transition', async () => {
      const pair = await startPair(['1.3', '2.6'], '200ms')
      await waitFor(() => sameContent(...pair.sims) && pair.agents.every((x) => x.status().failed === 0), { what: 'the 2.6 site filled', timeout: 60_000 })
      await converge(pair)
      await expectIdleFor(pair, 30_000)

      const due = await attachAndReceive(pair)
      // the timers poll; nothing driven by hand here
      await waitFor(() => sameContent(...pair.sims), { what: 'the attachment and the transition in the 2.6 site', timeout: 30_000 })
      expectCopied(pair, due)
      await converge(pair)
      await expectIdleFor(pair, 30_000)
    }, 180_000)
  }
})

