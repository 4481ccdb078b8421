/**
 * Schema 6: sublevel `p`, past versions (store/past-versions.ts): the
 * versions an object had before its current one, kept as candidates for a
 * conflict's common ancestor (the three-way merge). A store from before has
 * none to convert — what it replaced is gone — so its open conflicts show no
 * base until new writes add past versions; the step exists so that code from
 * before it, which would write objects without their past versions, refuses
 * the store (STORE_SCHEMA_TOO_NEW) instead of leaving rows that miss them.
 */
import type { UpgradeStep } from './step.js'

export const pastVersionsStep: UpgradeStep = {
  to: 6,
  name: 'past-versions',
  description: 'adds sublevel p (past versions kept as merge bases); a store from before has none, so no row changes',
  estimate: async () => 0,
  async run () {
    // nothing to convert: the sublevel starts empty
  }
}
