/**
 * A LevelDB store in a fresh temporary directory for each test of a describe
 * block: opened before, closed and removed after.
 */
import { join } from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import { createLevelStore } from '../../store/level-store.js'
import type { Store } from '../../store/types.js'
import { makeTempDir, removeDir } from './nodes.js'

export interface TempStore {
  readonly store: Store
  /** the test's temporary directory (the store lives in its `store` folder) */
  readonly dir: string
}

export function useTempStore (domain: string): TempStore {
  const state: { store?: Store, dir?: string } = {}
  beforeEach(async () => {
    state.dir = await makeTempDir()
    state.store = createLevelStore({ location: join(state.dir, 'store'), domain })
    await state.store.open()
  })
  afterEach(async () => {
    await state.store?.close()
    if (state.dir !== undefined) await removeDir(state.dir)
  })
  return {
    get store () { return state.store! },
    get dir () { return state.dir! }
  }
}
