/**
 * The Store contract (store/types.ts), as a suite any store must pass, in the
 * style of automerge-repo's runStorageAdapterTests: `runStoreContract` takes
 * a factory for the implementation and registers the describe/it blocks.
 *
 * This file holds the harness: a fresh store in a temporary directory per
 * test, reopened at the same place on demand. The clauses are in files by
 * theme: reads and the feed (store-contract-feed.ts),
 * transactions and indexes (store-contract-transactions.ts, -indexes.ts),
 * durability and limits (store-contract-lifecycle.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe } from 'vitest'
import type { Store } from '../../store/types.js'
import { DOMAIN } from './store-fixtures.js'
import { describeFeedClauses } from './store-contract-feed.js'
import { describeIndexClauses } from './store-contract-indexes.js'
import { describeLifecycleClauses } from './store-contract-lifecycle.js'
import { describeTransactionClauses } from './store-contract-transactions.js'

export interface StoreImplementation {
  readonly name: string
  /**
   * A store (not opened yet) for `domain` kept in `dir`. Called again with
   * the same place after a close, it must give back what was committed.
   */
  create (place: { readonly dir: string, readonly domain: string }): Store
  /**
   * A value putAux accepts but the store cannot commit, so that a batch fails
   * after its function resolved, while the next transactions are already
   * built on it (LevelDB: a BigInt, which JSON cannot encode). Without one,
   * the clause about failed commits is skipped, with that reason.
   */
  readonly unencodable?: unknown
}

/** One test's store, with the means to reopen it where it lives. */
export interface ContractStore {
  readonly impl: StoreImplementation
  /** the test's store, opened for DOMAIN */
  readonly store: Store
  /** close the store and open the same place again (the new store becomes `store`) */
  reopen (): Promise<Store>
  /** a second, independent store of the implementation (closed after the test) */
  another (): Promise<Store>
}

export function runStoreContract (impl: StoreImplementation): void {
  describe(`Store contract: ${impl.name}`, () => {
    const s = useContractStore(impl)
    describeFeedClauses(s)
    describeTransactionClauses(s)
    describeIndexClauses(s)
    describeLifecycleClauses(s)
  })
}

// Temporary directories straight from node:fs, not test/helpers/nodes.ts: that
// module brings in the whole agent (libp2p: ~2 s per file), and a store
// suite has no business importing anything above store/.
const makeTempDir = async (): Promise<string> => await mkdtemp(join(tmpdir(), 'labmesh-store-contract-'))
const removeDir = async (dir: string): Promise<void> => { await rm(dir, { recursive: true, force: true, maxRetries: 3 }) }

function useContractStore (impl: StoreImplementation): ContractStore {
  const state: { dir: string, store?: Store, others: Array<{ dir: string, store: Store }> } = { dir: '', others: [] }
  const open = async (dir: string): Promise<Store> => {
    const store = impl.create({ dir, domain: DOMAIN })
    await store.open()
    return store
  }
  beforeEach(async () => {
    state.dir = await makeTempDir()
    state.store = await open(state.dir)
  })
  afterEach(async () => {
    await state.store?.close()
    state.store = undefined
    for (const other of state.others.splice(0)) {
      await other.store.close()
      await removeDir(other.dir)
    }
    await removeDir(state.dir)
  })
  return {
    impl,
    get store () { return state.store! },
    async reopen () {
      await state.store?.close()
      state.store = await open(state.dir)
      return state.store
    },
    async another () {
      const dir = await makeTempDir()
      const store = await open(dir)
      state.others.push({ dir, store })
      return store
    }
  }
}
