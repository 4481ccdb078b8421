/** Reading a store's digest whole, for tests: every leaf of every group, in group order. */
import type { DigestLeafRow, Store } from '../../store/types.js'

export async function allDigestLeaves (store: Store): Promise<Array<{ type: string, origin: string, rows: DigestLeafRow[] }>> {
  const view = await store.digest.view()
  try {
    const out: Array<{ type: string, origin: string, rows: DigestLeafRow[] }> = []
    for (const g of view.groups) {
      const rows: DigestLeafRow[] = []
      await view.scan(g, (page) => { rows.push(...page) })
      out.push({ type: g.type, origin: g.origin, rows })
    }
    return out
  } finally {
    await view.close()
  }
}
