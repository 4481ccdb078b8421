/**
 * Upgrade step: build the anti-entropy digest (digest-rows.ts) for a store
 * written before it existed: each record's leaf as the value of its
 * type-index row (older stores hold '' there), and one aggregate row per
 * group (sublevel `v`).
 *
 * Phase 1 walks the records in uid order and writes their type-index rows,
 * a chunk per batch with the last uid as the resume point: plain puts, so a
 * chunk written again after a crash leaves the same rows. Phase 2 sums the
 * leaves into the aggregate rows in one batch, after deleting any there
 * were: also the same however often it runs. A store that crashes in either
 * phase resumes there at its next open.
 */
import { emptyAggregate, xorLeaf, aggregateHash, type DigestAggregate } from '../../protocol/digest.js'
import { DigestKeys, GROUP_PREFIX, aggregateText, groupOfTypeRow, groupRowKey, leafHashOf, recordDigest } from '../digest-rows.js'
import { META_KEYS } from '../keys.js'
import type { BatchOp } from '../sublevels.js'
import type { StoredObject } from '../types.js'
import type { UpgradeContext, UpgradeStep } from './step.js'

/** records per batch */
const CHUNK = 2000
/** the resume point once every leaf is written */
const AGGREGATES = 'aggregates'
/** resume points of phase 1 carry the last uid written */
const AFTER = 'after:'

export const digestStep: UpgradeStep = {
  to: 7,
  name: 'digest',
  description: 'adds the anti-entropy digest (labmesh verify): each object\'s leaf on its type-index row, and a count and hash per type and origin',
  // the meta counter, not a count of the rows: the estimate must be cheap on a large store
  estimate: async (subs) => Number(await subs.meta.get(META_KEYS.objects) ?? 0),
  async run (context) {
    if (context.resumeFrom !== AGGREGATES) await writeLeaves(context)
    await writeAggregates(context)
  }
}

async function writeLeaves (context: UpgradeContext): Promise<void> {
  const { subs } = context
  const keys = new DigestKeys()
  const after = context.resumeFrom?.startsWith(AFTER) === true ? context.resumeFrom.slice(AFTER.length) : undefined
  const iterator = subs.objects.iterator({ ...(after !== undefined ? { gt: after } : {}), valueEncoding: 'utf8' })
  let done = 0
  try {
    while (true) {
      const rows = await iterator.nextv(CHUNK) as Array<[string, string]>
      if (rows.length === 0) break
      const ops: BatchOp[] = rows.map(([, text]) => {
        const d = recordDigest(JSON.parse(text) as StoredObject, text, keys)
        return { type: 'put', sublevel: subs.types, key: d.typeRowKey, value: d.value, text: d.value }
      })
      await context.commit(ops, AFTER + rows[rows.length - 1]![0])
      done += rows.length
      context.progress(done)
    }
  } finally {
    await iterator.close()
  }
  await context.commit([], AGGREGATES)
}

async function writeAggregates (context: UpgradeContext): Promise<void> {
  const { subs } = context
  const keys = new DigestKeys()
  const groups = new Map<string, DigestAggregate>()
  for await (const [key, value] of subs.types.iterator({ valueEncoding: 'utf8' })) {
    const group = groupOfTypeRow(key as string, value as string, keys)
    if (group === undefined) continue
    let agg = groups.get(group)
    if (agg === undefined) groups.set(group, agg = emptyAggregate())
    xorLeaf(agg, leafHashOf(value as string), 1)
  }
  const stale: string[] = await subs.digest.keys({ gte: GROUP_PREFIX, lt: String.fromCharCode(GROUP_PREFIX.charCodeAt(0) + 1) }).all()
  const ops: BatchOp[] = stale.map((key) => ({ type: 'del', sublevel: subs.digest, key }))
  for (const [group, agg] of groups) {
    const text = aggregateText(agg.count, aggregateHash(agg))
    ops.push({ type: 'put', sublevel: subs.digest, key: groupRowKey(group), value: text, text })
  }
  await context.commit(ops, AGGREGATES)
}

