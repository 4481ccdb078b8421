/**
 * Restoring a test node on "a new machine": a new data directory holding
 * only what an operator keeps apart from backups (the identity key and the
 * admin token), and the node's config pointing at it.
 */
import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { LoadedConfig } from '../../config/load.js'
import { meshConfig, type PeerLink, type TestNode } from './nodes.js'

/** the config of `node` in a new data directory holding its identity key and admin token */
export async function newHome (node: TestNode, root: string, links: readonly PeerLink[]): Promise<LoadedConfig> {
  const dataDir = join(root, `${node.domain}-restored`, 'data')
  await mkdir(dataDir, { recursive: true })
  for (const f of ['identity.key', 'admin.token']) await copyFile(join(node.dir, 'data', f), join(dataDir, f))
  return meshConfig(node, links, { dataDir })
}
