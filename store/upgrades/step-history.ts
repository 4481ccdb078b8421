/**
 * Upgrade step: object history (store/history.ts). Stores from before it
 * have no `h` sublevel; this step seeds it with what each object holds —
 * its current version and any conflict siblings, as `seeded` entries
 * (unsigned, unless a record already carries a signature; applied-at
 * unknown) — so that an object's history never starts empty and always
 * agrees with the object. Chunks in uid order, each with its resume point;
 * writing a chunk again after a crash writes the same rows.
 */
import { META_KEYS } from '../keys.js'
import { seededEntries } from '../history.js'
import type { StoredObject } from '../types.js'
import type { BatchOp } from '../sublevels.js'
import type { UpgradeStep } from './step.js'

/** objects per committed chunk */
const CHUNK = 500

export const historyStep: UpgradeStep = {
  to: 3,
  name: 'history',
  description: 'adds object history (sublevel h): one row per object, seeded with its current version and conflict siblings',
  async estimate (subs) {
    return (await subs.meta.get(META_KEYS.objects) as number | undefined) ?? 0
  },
  async run (ctx) {
    const { subs } = ctx
    let ops: BatchOp[] = []
    let last: string | undefined
    let done = 0
    const range = ctx.resumeFrom !== undefined ? { gt: ctx.resumeFrom } : {}
    for await (const [uid, record] of subs.objects.iterator(range)) {
      ops.push({ type: 'put', sublevel: subs.history, key: uid as string, value: seededEntries(record as StoredObject) })
      last = uid as string
      done++
      if (ops.length === CHUNK) {
        await ctx.commit(ops, last)
        ctx.progress(done)
        ops = []
      }
    }
    if (ops.length > 0 && last !== undefined) await ctx.commit(ops, last)
    ctx.progress(done)
  }
}
