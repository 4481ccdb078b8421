/**
 * Schema 8: the SENAITE connector moves a site's files through blobs. Its
 * aux space `senaite:file` (store/keys.ts) remembers which blob each
 * download URL was, and SENAITE objects' data may hold a file as a blob
 * reference instead of its base64 bytes. A store from before has no such
 * rows, and its objects keep their inline files (the connector reads and
 * writes both shapes), so nothing is converted; the step exists so that
 * code from before — which would send a blob reference to a site as if it
 * were a file, and have it refused — refuses the store instead of opening
 * it (STORE_SCHEMA_TOO_NEW).
 */
import type { UpgradeStep } from './step.js'

export const senaiteFilesStep: UpgradeStep = {
  to: 8,
  name: 'senaite-files',
  description: 'adds the aux space senaite:file (which blob a SENAITE file was) and lets SENAITE objects hold files as blob references; objects with inline files stay as they are, so no row changes',
  estimate: async () => 0,
  async run () {
    // nothing to convert: the space starts empty, inline files stay readable
  }
}
