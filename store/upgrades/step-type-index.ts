/**
 * Schema 5: the meta row `typeIndex` (store/type-index.ts). While an initial
 * sync into an empty store runs, and until the type index is built after it,
 * that row says which objects the type index holds. A store of schema 3
 * never has the row and its index is complete, so nothing is converted; the
 * step exists so that the schema says the row may be there, and code from
 * before it — which would trust an incomplete type index and list too few
 * objects by type — refuses the store instead (STORE_SCHEMA_TOO_NEW).
 */
import type { UpgradeStep } from './step.js'

export const typeIndexStep: UpgradeStep = {
  to: 5,
  name: 'type-index-after-bulk-load',
  description: 'adds the meta row typeIndex (the type index is built after an initial sync); a store from before has a complete index, so no row changes',
  estimate: async () => 0,
  async run () {
    // nothing to convert: an older store's type index is complete
  }
}
