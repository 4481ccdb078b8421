/**
 * Run the shipped example configs (config/examples/<topology>/) on real
 * agents: each file's rules are kept as written; only identities, addresses
 * and directories are swapped for test ones.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import { validateConfig, type LoadedConfig } from '../../config/load.js'
import { prepareNodes, type TestNode } from './nodes.js'

export const EXAMPLES_DIR = resolve(import.meta.dirname, '../../config/examples')

export async function exampleFiles (topology: string): Promise<string[]> {
  return (await readdir(join(EXAMPLES_DIR, topology))).filter((f) => f.endsWith('.yaml')).map((f) => join(EXAMPLES_DIR, topology, f))
}

/** Configs of every agent in an example, rewired onto test nodes under `root`. */
export async function instantiateExample (topology: string, root: string): Promise<{ configs: Record<string, LoadedConfig>, nodes: Record<string, TestNode> }> {
  const raws: Array<Record<string, unknown>> = []
  for (const file of await exampleFiles(topology)) raws.push(parse(await readFile(file, 'utf8')) as Record<string, unknown>)
  const nodes = await prepareNodes(raws.map((r) => r.domain as string), root)
  const configs: Record<string, LoadedConfig> = {}
  for (const raw of raws) {
    const node = nodes[raw.domain as string]!
    const peers = (raw.peers as Array<Record<string, unknown>>).map((p) => {
      const other = nodes[p.name as string]
      if (other === undefined) throw new Error(`example ${topology}: peer ${String(p.name)} has no config of its own`)
      return { ...p, peerId: other.peerId, addrs: [other.addr] }
    })
    configs[node.domain] = validateConfig({
      ...raw,
      dataDir: join(node.dir, 'data'),
      listen: [node.addr],
      http: { ...(raw.http as object), listen: `127.0.0.1:${node.httpPort}` },
      log: { level: 'warn' },
      peers
    }, undefined, node.dir)
  }
  return { configs, nodes }
}
