/**
 * The SENAITE connector's files through blobs (attachments.ts), against a
 * simulated site over HTTP, a real blob store and a real LevelDB store:
 * a file streams from its download URL into the blob store once, and again
 * only when the object changed or the blob went; a file over the limit or
 * one the account may not read is refused with a coded error; writing reads
 * the blob back as the JSON API takes it, refusing one over the limit.
 */
import { createFileTransfers } from '../../agent/connectors/file-transfers.js'
import { base64Text, FileBody } from '../../agent/connectors/senaite/file-body.js'
import { join } from 'node:path'
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { createAttachments, SiteFileRefused } from '../../agent/connectors/senaite/attachments.js'
import { createSenaiteClient, type SenaiteClient } from '../../agent/connectors/senaite/client.js'
import { WriteRefusal } from '../../agent/connectors/senaite/write-errors.js'
import { silentLogger } from '../../agent/runtime/logger.js'
import { capturingLogger } from '../helpers/nodes.js'
import { createBlobStore, type BlobStore } from '../../store/blobs/blob-store.js'
import { blobPath, seededBytes, sha256Of } from '../helpers/blobs.js'
import { labPost, startSimulator } from '../helpers/senaite.js'
import { useTempStore } from '../helpers/temp-store.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'

const BYTES = seededBytes(700 * 1024, 'files')

describe('SENAITE files through blobs', () => {
  const temp = useTempStore('lab-a')
  const running: Array<{ stop: () => Promise<void> }> = []
  afterEach(async () => { for (const r of running.splice(0)) await r.stop() })

  async function setup (maxFileBytes = 1024 * 1024, transfers = createFileTransfers(silentLogger())): Promise<{ sim: SenaiteSimulator, client: SenaiteClient, blobs: BlobStore, files: ReturnType<typeof createAttachments>, item: () => Promise<Record<string, unknown>>, uid: string }> {
    const sim = await startSimulator({ layout: '2.6' })
    const client = createSenaiteClient({ url: sim.url(), username: 'labman', password: 'labman', concurrency: 2, retries: 0 })
    running.push({ stop: async () => { await client.close(); await sim.stop() } })
    const blobs = createBlobStore(join(temp.dir, 'blobs'))
    await blobs.open()
    const files = createAttachments({ client, store: temp.store, blobs, maxFileBytes, log: silentLogger(), transfers })
    const made = await labPost(sim, `method/create/${sim.site.atPath(`/${sim.site.portalId}/methods`)!.uid}`, { title: 'ICP-OES', MethodDocument: BYTES.toString('base64'), filename: 'sop.pdf', mimetype: 'application/pdf' })
    const uid = (made.items as Array<{ uid: string }>)[0]!.uid
    const item = async (): Promise<Record<string, unknown>> => await client.get(uid, { complete: 'yes', filedata: 'no' })
    return { sim, client, blobs, files, item, uid }
  }

  it('downloads a file once into the blob store, again only when the object changed or its blob went', async () => {
    const { sim, blobs, files, item, uid } = await setup()
    const first = await item()
    const url = (first.MethodDocument as { download: string }).download
    const resolved = (await files.resolve(first))!
    expect(resolved.get(url)).toEqual({ blob: sha256Of(BYTES), size: BYTES.length, name: 'sop.pdf', mediaType: 'application/pdf' })
    expect(await blobs.stat(sha256Of(BYTES))).toMatchObject({ size: BYTES.length })
    // unchanged: no download, whatever the number of reads
    for (let i = 0; i < 3; i++) expect((await files.resolve(await item()))!.get(url)).toEqual(resolved.get(url))
    expect(sim.calls.get('GET download')).toBe(1)
    expect(await files.resolve({ uid, title: 'no files' })).toEqual(new Map())
    // told not to download: known files only
    sim.site.get(uid)!.modified += 1000
    expect(await files.resolve(await item(), { download: false })).toBeUndefined()
    expect(sim.calls.get('GET download')).toBe(1)

    // the object changed (a new modified date): downloaded again, stored once
    sim.site.get(uid)!.modified += 1000
    expect((await files.resolve(await item()))!.get(url)?.blob).toBe(sha256Of(BYTES))
    expect(sim.calls.get('GET download')).toBe(2)
    // its blob went (garbage collection): downloaded again
    await rm(blobPath(temp.dir, sha256Of(BYTES)))
    await files.resolve(await item())
    expect(sim.calls.get('GET download')).toBe(3)
    expect(files.downloads).toBe(3)
  })

  it('shows a download\'s progress against the size the site announces, in the log, and forgets it once stored', async () => {
    // a clock 4 s further on at every look: every chunk is worth a progress line
    let clock = 0
    const log = capturingLogger('lab-a')
    const transfers = createFileTransfers(log.logger, () => (clock += 4000))
    const { files, item } = await setup(1024 * 1024, transfers)
    await files.resolve(await item())
    const lines = log.lines.filter((l) => String(l.msg).startsWith('download sop.pdf from the instance'))
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.at(-1)).toMatchObject({ direction: 'download', file: 'sop.pdf', done: BYTES.length, size: BYTES.length, percent: 100 })
    expect(transfers.list()).toEqual([])
  })

  it('refuses a file over maxFileBytes, and one the account may not read, with SiteFileRefused; nothing is left in the blob store', async () => {
    const { sim, blobs, files, item } = await setup(100 * 1024)
    const err = await files.resolve(await item()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SiteFileRefused)
    expect((err as Error).message).toContain('instance.maxFileBytes')
    const visible: string[] = []
    for await (const b of blobs.list()) visible.push(b.hash)
    expect(visible).toEqual([])
    // a wrong password is anonymous to SENAITE: a download goes to the login form (302)
    const stranger = createSenaiteClient({ url: sim.url(), username: 'labman', password: 'wrong', concurrency: 1, retries: 0 })
    running.push({ stop: async () => { await stranger.close() } })
    const refused = await createAttachments({ client: stranger, store: temp.store, blobs, maxFileBytes: 1024 * 1024, log: silentLogger(), transfers: createFileTransfers(silentLogger()) }).resolve(await item()).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(SiteFileRefused)
    expect((refused as Error).message).toContain('login form')
  })

  it('writes a blob reference as the JSON API takes a file; refuses one over maxFileBytes before reading it', async () => {
    const { client, blobs, files } = await setup(1024 * 1024)
    const put = await blobs.put((async function * () { yield BYTES })())
    const ref = { blob: put.hash, size: put.size, name: 'sop.pdf', mediaType: 'application/pdf' }
    const fields = await files.materialize('Method', { title: 'ICP-OES', MethodDocument: ref })
    // the base64 text is made from the blob as the request is sent (file-body.ts)
    const data = (fields.MethodDocument as { data: unknown }).data
    expect(data).toBeInstanceOf(FileBody)
    expect(fields).toEqual({ title: 'ICP-OES', MethodDocument: { filename: 'sop.pdf', content_type: 'application/pdf', data } })
    let text = ''
    for await (const part of base64Text(await (data as FileBody).open())) text += part
    expect(text).toBe(BYTES.toString('base64'))
    const small = createAttachments({ client, store: temp.store, blobs, maxFileBytes: 1024, log: silentLogger(), transfers: createFileTransfers(silentLogger()) })
    const err = await small.materialize('Method', { MethodDocument: ref }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WriteRefusal)
    expect(err).toMatchObject({ result: 'SENAITE_FILE_TOO_LARGE', retryable: false })
    const absent = await files.materialize('Method', { MethodDocument: { ...ref, blob: `sha256:${'0'.repeat(64)}` } }).catch((e: unknown) => e)
    expect(absent).toMatchObject({ result: 'SENAITE_BLOB_ABSENT', retryable: true })
  })
})
