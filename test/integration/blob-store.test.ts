/**
 * The blob files (store/blobs/) and their garbage collection, on a real
 * disk and a real LevelDB store: a blob is visible only whole and
 * verified, stored once, refused with nothing left over when it is too
 * large or does not match; a partial fetch resumes after a reopen from its
 * durable progress; unreferenced blobs go after the grace period and not
 * before, referenced ones never.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createBlobGc } from '../../agent/blobs/blob-gc.js'
import { silentLogger } from '../../agent/runtime/logger.js'
import { createBlobStore } from '../../store/blobs/blob-store.js'
import { BlobMismatchError, BlobTooLargeError } from '../../store/errors.js'
import { blobRef, seededBytes, sha256Of } from '../helpers/blobs.js'
import { useTempStore } from '../helpers/temp-store.js'

async function * chunks (bytes: Uint8Array, size = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

async function readAll (stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of stream) parts.push(Buffer.from(c))
  return Buffer.concat(parts)
}

describe('blob store', () => {
  const temp = useTempStore('lab-a')

  it('stores verified bytes once, reads them whole or by range, and leaves nothing of a refused upload', async () => {
    const blobs = createBlobStore(join(temp.dir, 'blobs'))
    await blobs.open()
    const bytes = seededBytes(300_000, 'put')
    const first = await blobs.put(chunks(bytes))
    expect(first).toEqual({ hash: sha256Of(bytes), size: bytes.length, created: true })
    expect(await blobs.put(chunks(bytes, 7777), { hash: first.hash })).toMatchObject({ created: false })
    expect((await readAll((await blobs.read(first.hash)).stream)).equals(bytes)).toBe(true)
    expect((await readAll((await blobs.read(first.hash, { start: 10, end: 19 })).stream)).equals(bytes.subarray(10, 20))).toBe(true)
    expect(await blobs.stat(first.hash)).toMatchObject({ size: bytes.length })

    await expect(blobs.put(chunks(bytes), { maxBytes: 1000 })).rejects.toBeInstanceOf(BlobTooLargeError)
    await expect(blobs.put(chunks(seededBytes(10, 'other')), { hash: first.hash })).rejects.toBeInstanceOf(BlobMismatchError)
    expect(await readdir(join(temp.dir, 'blobs', 'tmp'))).toEqual([])
    const listed = []
    for await (const b of blobs.list()) listed.push(b.hash)
    expect(listed).toEqual([first.hash])
    expect(await blobs.has(`sha256:${'0'.repeat(64)}`)).toBe(false)
    expect(await blobs.has('../../etc/passwd')).toBe(false)
  })

  it('a partial fetch resumes after a reopen from its durable progress, and becomes visible only when it matches', async () => {
    const dir = join(temp.dir, 'blobs')
    const bytes = seededBytes(1_000_000, 'partial')
    const hash = sha256Of(bytes)
    let blobs = createBlobStore(dir)
    await blobs.open()
    let partial = await blobs.partial(hash, bytes.length, { peer: 'lab-b' })
    await partial.append(bytes.subarray(0, 400_000))
    await partial.checkpoint()
    // written, never made durable: a crash may lose it, so a resume does not count it
    await partial.append(bytes.subarray(400_000, 500_000))
    expect(await blobs.has(hash)).toBe(false)

    blobs = createBlobStore(dir) // a restart (the handle above is simply abandoned, as by a crash)
    await blobs.open()
    expect(await blobs.partials()).toMatchObject([{ hash, size: bytes.length, have: 400_000, meta: { peer: 'lab-b' } }])
    partial = await blobs.partial(hash, bytes.length)
    expect(partial.have).toBe(400_000)
    expect(partial.meta).toEqual({ peer: 'lab-b' })
    await partial.append(bytes.subarray(400_000))
    expect(await partial.finish('test bytes')).toEqual({ created: true })
    expect((await readAll((await blobs.read(hash)).stream)).equals(bytes)).toBe(true)
    expect(await blobs.partials()).toEqual([])

    // bytes that do not hash to their name: refused, nothing left
    const other = sha256Of(seededBytes(10, 'x'))
    const wrong = await blobs.partial(other, 10)
    await wrong.append(seededBytes(10, 'y'))
    await expect(wrong.finish('bytes from peer lab-z')).rejects.toThrow(/bytes from peer lab-z hash to sha256:/)
    expect(await blobs.has(other)).toBe(false)
    expect(await readdir(join(dir, 'partial'))).toEqual([])
  })

  it('a progress file that promises more than its partial file holds starts that blob over', async () => {
    const dir = join(temp.dir, 'blobs')
    const bytes = seededBytes(10_000, 'short')
    const hash = sha256Of(bytes)
    const blobs = createBlobStore(dir)
    await blobs.open()
    const partial = await blobs.partial(hash, bytes.length)
    await partial.append(bytes.subarray(0, 5000))
    await partial.close()
    const progressFile = join(dir, 'partial', `${hash.slice(7)}.json`)
    await writeFile(progressFile, JSON.stringify({ ...JSON.parse(await readFile(progressFile, 'utf8')), have: 9000 }))
    const again = await blobs.partial(hash, bytes.length)
    expect(again.have).toBe(0)
    await again.append(bytes)
    await again.finish('test')
    expect(await blobs.has(hash)).toBe(true)
  })

  it('garbage collection removes blobs unreferenced for the grace period, never a referenced one, and counts from the last reference lost', async () => {
    let now = 1_000_000_000_000
    const blobs = createBlobStore(join(temp.dir, 'blobs'), { now: () => now })
    await blobs.open()
    const store = temp.store
    const put = async (seed: string): Promise<string> => (await blobs.put(chunks(seededBytes(1000, seed)))).hash
    const kept = await put('kept')
    const dropped = await put('dropped')
    const never = await put('never')
    const write = async (uid: string, data: Record<string, unknown>): Promise<void> => {
      await store.write(async (tx) => {
        const prev = await tx.get(uid)
        tx.putObject({ uid, type: 'Attachment', id: uid, parent: null, refs: [], data, vector: { 'lab-a': (prev?.vector['lab-a'] ?? 0) + 1 }, origin: 'lab-a', deleted: false, at: 0, conflicts: [], via: null })
      })
    }
    await write('keeps', { f: blobRef(kept, 1000) })
    await write('drops', { f: blobRef(dropped, 1000) })
    const grace = 60_000
    // the store's orphan marks use the same clock as the files'
    const gc = createBlobGc({ store, blobs, graceMs: grace, intervalMs: 0, busy: () => false, log: silentLogger(), now: () => now })
    const files = async (): Promise<string[]> => { const out = []; for await (const b of blobs.list()) out.push(b.hash); return out.sort() }

    now = Date.now() + 2 * grace // files carry the real time: long after it
    expect(await gc.collect()).toMatchObject({ collected: 1 })
    expect(await files()).toEqual([dropped, kept].sort())
    expect(await blobs.has(never)).toBe(false)

    // the last reference to `dropped` goes now: it stays for the grace period
    await write('drops', { f: null })
    expect(await store.blobReferrers(dropped)).toEqual([])
    // (orphan marks carry the store's clock: Date.now here)
    now = Date.now() + grace / 2
    expect(await gc.collect()).toMatchObject({ collected: 0 })
    now = Date.now() + grace + 1000
    expect(await gc.collect()).toMatchObject({ collected: 1 })
    expect(await files()).toEqual([kept])
  })
})
