/**
 * Upgrade step to schema 4: the blob reference index.
 *
 * Schema 4 adds the `b` rows (which objects reference which blob, keys.ts)
 * that putObject keeps from then on. A store of schema 3 may already hold
 * objects whose data reference blobs (written before the index existed);
 * this step indexes them, walking the objects in uid order, CHUNK records
 * per batch with the last uid as the resume point. Only puts: a chunk
 * written again after a crash leaves the same rows. No orphan marks (`g`):
 * a blob that no object references was never indexed, and garbage
 * collection measures its grace from the file's own time.
 */
import { recordBlobHashes } from '../blob-index.js'
import { META_KEYS, blobRefKey } from '../keys.js'
import type { StoredObject } from '../types.js'
import type { BatchOp } from '../sublevels.js'
import type { UpgradeStep } from './step.js'

/** records per committed chunk: a batch of at most a few hundred KiB of index rows */
export const BLOB_REFERENCES_CHUNK = 1000

export const blobReferencesStep: UpgradeStep = {
  to: 4,
  name: 'blob-references',
  description: 'indexes which objects reference which blob (new `b` rows), so that blobs are served only to peers that may see a referencing object and unreferenced ones can be collected',

  async estimate (subs) {
    return (await subs.meta.get(META_KEYS.objects) as number | undefined) ?? 0
  },

  async run (ctx) {
    const { subs } = ctx
    let done = 0
    let ops: BatchOp[] = []
    let inChunk = 0
    let last = ctx.resumeFrom
    // the records' text: most hold no blob key and are never parsed
    const range = ctx.resumeFrom !== undefined ? { gt: ctx.resumeFrom } : {}
    for await (const [uid, text] of subs.objects.iterator({ ...range, valueEncoding: 'utf8' }) as AsyncIterable<[string, string]>) {
      const hashes = text.includes('"blob":') ? recordBlobHashes(JSON.parse(text) as StoredObject) : []
      for (const hash of hashes) ops.push({ type: 'put', sublevel: subs.blobRefs, key: blobRefKey(hash, uid), value: '' })
      last = uid
      done++
      if (++inChunk === BLOB_REFERENCES_CHUNK) {
        await ctx.commit(ops, last)
        ctx.progress(done)
        ops = []
        inChunk = 0
      }
    }
    if (inChunk > 0 && last !== undefined) await ctx.commit(ops, last)
  }
}
