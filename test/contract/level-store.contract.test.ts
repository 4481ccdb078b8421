/**
 * The LevelDB store (store/level-store.ts) against the Store contract: real
 * LevelDB in a temporary directory per test.
 */
import { join } from 'node:path'
import { createLevelStore } from '../../store/level-store.js'
import { runStoreContract } from './store-contract.js'

runStoreContract({
  name: 'LevelDB (store/level-store.ts)',
  create: ({ dir, domain }) => createLevelStore({ location: join(dir, 'store'), domain }),
  // JSON, the encoding of aux rows, has no form for a BigInt: the batch fails when it is written
  unencodable: 1n
})
