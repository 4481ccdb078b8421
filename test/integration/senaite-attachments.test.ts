/**
 * SENAITE files through blobs (issue 14), two sites and two agents over
 * real libp2p, poll cycles driven by hand:
 *
 * - attachments made in site A (a PDF-like file of some hundred KiB, one of
 *   a few MiB, and the first again under another name) reach site B byte
 *   for byte; each file is downloaded from A once across many poll cycles
 *   and never from B (the writer knows what it uploaded); every distinct
 *   content is one blob on each agent, referenced by both objects that
 *   hold it; nothing echoes (no write, no feed growth on either side);
 * - an object whose blob its sender lacks waits MISSING_BLOB and is written
 *   into the site once the blob arrives; a file over instance.maxFileBytes
 *   is parked SENAITE_FILE_TOO_LARGE, never sent.
 */
import { rm } from 'node:fs/promises'
import { expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { blobFiles, blobPath, blobRef, putBlob, seededBytes, sha256Of } from '../helpers/blobs.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { describeLayouts, labPost, senaiteInstance, startSimulator } from '../helpers/senaite.js'
import { converge, expectFlat, startSenaitePair } from '../helpers/senaite-pair.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'

const KiB = 1024
const MiB = 1024 * KiB
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'), seededBytes(300 * KiB, 'report'), Buffer.from('\n%%EOF\n')])
const EXPORT = seededBytes(3 * MiB + 17, 'instrument export')

const downloads = (sim: SenaiteSimulator): number => sim.calls.get('GET download') ?? 0

/** every file an object of the site holds: `<type>:<filename>` and its bytes */
function fileList (sim: SenaiteSimulator): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = []
  for (const o of sim.site.content()) {
    for (const value of Object.values(o.fields)) {
      const file = value as { data?: unknown, filename?: unknown } | null
      if (typeof file === 'object' && file !== null && typeof file.data === 'string' && typeof file.filename === 'string') out.push([`${o.portalType}:${file.filename}`, Buffer.from(file.data, 'base64')])
    }
  }
  return out
}
const filesOf = (sim: SenaiteSimulator): Map<string, Buffer> => new Map(fileList(sim))

/** the distinct contents of a site's files, as blob hashes */
const contentsOf = (sim: SenaiteSimulator): string[] => [...new Set([...filesOf(sim).values()].map((b) => sha256Of(b)))].sort()

/** the objects an agent recorded edits of in its own site: its own edited again, or another lab's with an entry of ours */
async function ownEdits (agent: Agent, domain: string): Promise<string[]> {
  return (await agent.documents.list({ limit: 10_000 })).items
    .filter((o) => o.origin === domain ? (o.vector[domain] ?? 0) > 1 : (o.vector[domain] ?? 0) > 0)
    .map((o) => `${o.type} ${o.id} ${JSON.stringify(o.vector)}`)
}

describeLayouts('SENAITE attachments through blobs', (layout) => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'master'])

  it('attachments made in site A reach site B byte-identical: downloaded once, stored once, no echo', async () => {
    const pair = await startSenaitePair(mesh, { layouts: [layout, layout], pollInterval: '1h', samples: 2 })
    const [simA, simB] = pair.sims
    const [a, b] = pair.agents
    await converge(pair)
    const seededFiles = fileList(simA).length
    expect(seededFiles).toBeGreaterThan(0)
    expect(downloads(simA)).toBe(seededFiles)

    // in site A: three attachments (the PDF twice, under two names) linked from a sample
    const sample = simA.site.content().find((o) => o.portalType === 'AnalysisRequest')!
    const attach = async (bytes: Buffer, filename: string, mimetype: string): Promise<string> => {
      const made = await labPost(simA, `attachment/create/${sample.parentUid!}`, { AttachmentFile: bytes.toString('base64'), filename, mimetype })
      return (made.items as Array<{ uid: string }>)[0]!.uid
    }
    const uids = [await attach(PDF, 'report.pdf', 'application/pdf'), await attach(EXPORT, 'export.bin', 'application/octet-stream'), await attach(PDF, 'report-copy.pdf', 'application/pdf')]
    expect((await labPost(simA, `update/${sample.uid}`, { Attachment: uids })).success).not.toBe(false)
    await converge(pair)

    const onB = filesOf(simB)
    expect(onB.get('Attachment:report.pdf')?.equals(PDF)).toBe(true)
    expect(onB.get('Attachment:report-copy.pdf')?.equals(PDF)).toBe(true)
    expect(onB.get('Attachment:export.bin')?.equals(EXPORT)).toBe(true)
    expect(fileList(simB).map(([name]) => name).sort()).toEqual(fileList(simA).map(([name]) => name).sort())
    // the sample on B lists its three attachments
    const sampleB = simB.site.content().find((o) => o.portalType === 'AnalysisRequest' && o.fields.ClientSampleID === sample.fields.ClientSampleID)!
    expect((sampleB.fields.Attachment as string[]).map((u) => (simB.site.get(u)!.fields.AttachmentFile as { filename: string }).filename).sort()).toEqual(['export.bin', 'report-copy.pdf', 'report.pdf'])

    // each of A's files downloaded once, however many polls; none from B: what the agent wrote there, it knows
    await expectFlat(pair, 5)
    expect(downloads(simA)).toBe(seededFiles + 3)
    expect(downloads(simB)).toBe(0)

    // one blob per distinct content on each agent; the PDF's blob referenced by both objects holding it
    for (const agent of [a, b]) expect(await blobFiles(agent.config.paths.dataDir)).toEqual(contentsOf(simA))
    const pdfHolders = (await b.documents.list({ type: 'Attachment', limit: 1000 })).items.filter((o) => (o.data.AttachmentFile as { blob?: string } | null)?.blob === sha256Of(PDF))
    expect(pdfHolders.map((o) => (o.data.AttachmentFile as { name: string }).name).sort()).toEqual(['report-copy.pdf', 'report.pdf'])
    expect(pdfHolders.find((o) => (o.data.AttachmentFile as { name: string }).name === 'report.pdf')!.data.AttachmentFile).toEqual({ blob: sha256Of(PDF), size: PDF.length, name: 'report.pdf', mediaType: 'application/pdf' })
    expect(await agentInternals(b).store.blobReferrers(sha256Of(PDF))).toEqual(pdfHolders.map((o) => o.uid).sort())

    // no echo: B never recorded its writes into site B as edits of its own (A's only edit is the sample's new attachments)
    expect(await ownEdits(b, 'lab-b')).toEqual([])
  })

  it('an object whose sender lacks its blob waits MISSING_BLOB and reaches the site with it; a file over maxFileBytes is parked, not sent', async () => {
    const [M, A] = [mesh.node('master'), mesh.node('lab-a')]
    const site = mesh.track(await startSimulator({ layout }))
    const master = await mesh.start(meshConfig(M, [{ node: A, pull: true }]))
    const sop = seededBytes(40 * KiB, 'sop')
    const big = seededBytes(200 * KiB, 'big manual')
    const put = (await putBlob(master, sop)).json
    await putBlob(master, big)
    await master.documents.putMany([
      { uid: 'method-icp', type: 'Method', id: 'method-1', data: { title: 'ICP-OES', MethodDocument: blobRef(put.hash, sop.length, 'sop.pdf') } },
      { uid: 'method-gc', type: 'Method', id: 'method-2', data: { title: 'GC-MS', MethodDocument: blobRef(sha256Of(big), big.length, 'manual.pdf') } }
    ])
    // the master loses the SOP's file: the object is there, its blob is not
    await rm(blobPath(master.config.paths.dataDir, put.hash))

    const a = await mesh.start(meshConfig(A, [{ node: M, pull: true }], { instance: await senaiteInstance(A, site, { maxFileBytes: 100 * KiB }) as never }))
    const parked = await waitFor(async () => await agentInternals(a).store.getFailed('method-icp'), { what: 'the ICP method parked' })
    expect(parked).toMatchObject({ code: 'MISSING_BLOB', missing: [put.hash], peer: 'master' })
    // parked MISSING_BLOB until its blob is fetched, then refused by the connector
    const tooLarge = await waitFor(async () => { const f = await agentInternals(a).store.getFailed('method-gc'); return f?.code === 'SENAITE_FILE_TOO_LARGE' ? f : undefined }, { what: 'the GC method parked as too large', timeout: 20_000 })
    expect(tooLarge.reason).toContain('instance.maxFileBytes')
    const methods = (): Array<{ title: unknown, file: { data?: string, filename?: string } | undefined }> => site.site.content().filter((o) => o.portalType === 'Method').map((o) => ({ title: o.fields.title, file: o.fields.MethodDocument as { data?: string } | undefined }))
    expect(methods()).toEqual([])

    // the blob arrives at the master: lab-a's retry fetches it and writes the method, file and all
    expect((await putBlob(master, sop)).json.created).toBe(true)
    await waitFor(() => methods().some((m) => m.title === 'ICP-OES'), { what: 'the ICP method in the site', timeout: 30_000 })
    const icp = methods().find((m) => m.title === 'ICP-OES')!
    expect(Buffer.from(icp.file!.data!, 'base64').equals(sop)).toBe(true)
    expect(icp.file!.filename).toBe('sop.pdf')
    await waitFor(async () => await agentInternals(a).store.getFailed('method-icp') === undefined, { what: 'the ICP method no longer parked' })
    expect(methods().map((m) => m.title)).toEqual(['ICP-OES'])
  })
})
