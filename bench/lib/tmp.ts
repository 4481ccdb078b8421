/**
 * Temporary directories for benchmark databases: created under the OS temp
 * dir, removed by their owner (or left in place with --keep for inspection).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TempDir {
  readonly path: string
  remove: () => Promise<void>
}

export async function createTempDir (prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `labmesh-${prefix}-`))
  return { path, remove: async () => { await rm(path, { recursive: true, force: true }) } }
}
