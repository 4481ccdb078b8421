/**
 * Stores seeded for verify tests: the same versions written straight into
 * several agents' stores through the store's own write path (so every
 * derived row — feed, type index with its digest leaf, history — is as a
 * write leaves it), in big transactions, before the agents start.
 */
import { join } from 'node:path'
import type { ObjectVersion } from '../../protocol/object.js'
import { createLevelStore } from '../../store/level-store.js'
import type { TestNode } from './nodes.js'

/** One holding: the current version and any conflict siblings. */
export interface Holding { readonly current: ObjectVersion, readonly conflicts?: readonly ObjectVersion[] }

/** `count` Samples from lab-a, numbered from `from`; uids sort in number order. */
export function* samples (from: number, count: number): Generator<Holding> {
  for (let i = from; i < from + count; i++) {
    const n = String(i).padStart(7, '0')
    yield { current: { uid: `uid-${n}`, type: 'Sample', id: `S-${n}`, parent: null, refs: [], data: { n: i, title: `sample ${n}`, result: (i * 7) % 101 }, vector: { 'lab-a': 1 }, origin: 'lab-a', deleted: false, at: 1_700_000_000_000 + i } }
  }
}

/** Write the holdings into each node's store (stopped agents), `chunk` per transaction. */
export async function seedHoldings (nodes: readonly TestNode[], holdings: Iterable<Holding>, chunk = 5000): Promise<void> {
  const stores = nodes.map((node) => createLevelStore({ location: join(node.dir, 'data', 'store'), domain: node.domain }))
  await Promise.all(stores.map(async (s) => await s.open()))
  try {
    let batch: Holding[] = []
    const flush = async (): Promise<void> => {
      const page = batch
      batch = []
      await Promise.all(stores.map(async (store) => await store.write(async (tx) => {
        await tx.getMany(page.map((h) => h.current.uid))
        for (const h of page) tx.putObject({ ...h.current, conflicts: h.conflicts ?? [], via: null })
      })))
    }
    for (const h of holdings) {
      batch.push(h)
      if (batch.length >= chunk) await flush()
    }
    if (batch.length > 0) await flush()
  } finally {
    await Promise.all(stores.map(async (s) => await s.close()))
  }
}
