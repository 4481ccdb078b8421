/**
 * Schema 9: a restored store remembers the vector entry its agent raises.
 * A restore (store/backup/restore.ts) writes the meta row `entry`,
 * `<domain>~<tag>`: from then on the agent's local writes raise that entry
 * instead of its domain's, whose counters the restore may have lost track of
 * (docs/architecture/backup-restore.md, "A vector entry per restore"). A
 * store from before has no such row and raises its domain, as before, so
 * nothing is converted; the step exists so that code from before — which
 * would ignore the row and raise the domain's entry again, reusing the
 * counters of the writes the restore lost — refuses the store instead of
 * opening it (STORE_SCHEMA_TOO_NEW).
 */
import type { UpgradeStep } from './step.js'

export const restoreEntryStep: UpgradeStep = {
  to: 9,
  name: 'restore-entry',
  description: 'adds the meta row entry (the vector entry a restored agent raises instead of its domain); a store that was never restored has none and raises its domain as before, so no row changes',
  estimate: async () => 0,
  async run () {
    // nothing to convert: only a restore writes the row
  }
}
