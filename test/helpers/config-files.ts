/**
 * Config files as an admin writes them — comments, aligned trailing
 * comments, a flow `peers: []` — for the tests of what labmesh changes in
 * them (invitations, joins) and reloads from them. `editConfig` rewrites one
 * the way an admin would, keeping the text around the change.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { TestNode } from './nodes.js'

export interface FilePeer {
  readonly node: TestNode
  readonly pull?: boolean
  /** more keys of the entry (prefix, types, autoSync …) */
  readonly extra?: Record<string, unknown>
}

/** The lines every commented test config has: each must still be there after labmesh wrote the file. */
export const ADMIN_COMMENTS = [
  '# Written by hand by the lab admin: labmesh must keep every comment.',
  'dataDir: ./data          # store, identity key, admin token',
  '# ----- end of the admin\'s file -----'
]

export function peerEntry (p: FilePeer): Record<string, unknown> {
  return { name: p.node.domain, peerId: p.node.peerId, addrs: [p.node.addr], pull: p.pull ?? false, autoSync: { interval: '1h', live: true }, ...p.extra }
}

/** The text of `node`'s config listing `peers` (a flow `[]` when there are none). */
export function commentedConfigText (node: TestNode, peers: readonly FilePeer[] = [], top: Record<string, unknown> = {}): string {
  const list = peers.length === 0
    ? 'peers: []                # none yet: `labmesh join` or `labmesh invite` adds them\n'
    : `peers:\n${stringify(peers.map(peerEntry)).replace(/^/gm, '  ').trimEnd()}\n`
  const extra = Object.keys(top).length > 0 ? stringify(top) : ''
  return `${ADMIN_COMMENTS[0]}
domain: ${node.domain}
${ADMIN_COMMENTS[1]}
listen: [${node.addr}]
http:
  listen: 127.0.0.1:${node.httpPort}   # admin API and status page
log: { level: warn }
${extra}${list}${ADMIN_COMMENTS[2]}
`
}

export async function writeCommentedConfig (node: TestNode, peers: readonly FilePeer[] = [], top: Record<string, unknown> = {}): Promise<string> {
  const file = join(node.dir, 'labmesh.yaml')
  await writeFile(file, commentedConfigText(node, peers, top))
  return file
}

/** Rewrite a config file through `change` (an admin's edit). */
export async function editConfig (file: string, change: (text: string) => string): Promise<void> {
  await writeFile(file, change(await readFile(file, 'utf8')))
}

/** Whether every line of `before` is in `after`, in the same order (only lines were added). */
export function keepsEveryLine (before: string, after: string): boolean {
  const lines = after.split('\n')
  let at = 0
  for (const line of before.split('\n')) {
    const found = lines.indexOf(line, at)
    if (found < 0) return false
    at = found + 1
  }
  return true
}
