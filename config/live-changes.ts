/**
 * What a reload may change in a running agent, and what it would change:
 * a pure comparison of the running config with the file's new one.
 *
 * Live (applied by a reload): `peers` (every key of every entry),
 * `localPrefix` and `prefixSeparator` (they enter every peer's import rules).
 * Everything else is read once at start — where the agent listens and keeps
 * its data, who it is, its instance, its network key, its batch sizes, its
 * logger — so a reload that changes any of it is refused, naming each key.
 */
import type { ConfigIssue } from './errors.js'
import type { LoadedConfig } from './load.js'

/** The top-level keys a reload applies; every other key needs a restart. */
export const LIVE_KEYS = ['peers', 'localPrefix', 'prefixSeparator'] as const

/** The top-level keys that need a restart (documented in README and config/examples/README.md). */
export const RESTART_KEYS = ['domain', 'dataDir', 'listen', 'http', 'identity', 'instance', 'privateNetwork', 'sync', 'log'] as const

export interface LiveChanges {
  /** one issue per key that changed but needs a restart; a reload with any is refused */
  readonly restart: readonly ConfigIssue[]
  /** peer names, in the new config's order (removed: the old config's) */
  readonly added: readonly string[]
  readonly removed: readonly string[]
  /** entries that changed in any key (a renamed peer is removed and added) */
  readonly changed: readonly string[]
  /** localPrefix or prefixSeparator changed: every peer's import rules with it */
  readonly agentRules: boolean
}

export function liveChanges (running: LoadedConfig, next: LoadedConfig): LiveChanges {
  const restart = RESTART_KEYS.flatMap((key) => differingPaths(running[key], next[key], key))
    .map(({ path, from, to }): ConfigIssue => ({
      path,
      message: `changed (${show(from)} → ${show(to)}), but it is read only when the agent starts`,
      fix: `restart the agent (labmesh start) to apply it, or put its old value back to reload the rest; keys a reload applies: ${LIVE_KEYS.join(', ')}`
    }))
  const before = new Map(running.peers.map((p) => [p.name, p]))
  const after = new Map(next.peers.map((p) => [p.name, p]))
  const agentRules = running.localPrefix !== next.localPrefix || running.prefixSeparator !== next.prefixSeparator
  const changed: string[] = []
  const added: string[] = []
  for (const [name, peer] of after) {
    const old = before.get(name)
    if (old === undefined || old.peerId !== peer.peerId) added.push(name)
    else if (agentRules || canonical(old) !== canonical(peer)) changed.push(name)
  }
  const removed = [...before].filter(([name, peer]) => after.get(name)?.peerId !== peer.peerId).map(([name]) => name)
  return { restart, added, removed, changed, agentRules }
}

/** Whether a reload would change nothing at all. */
export function nothingChanged (changes: LiveChanges): boolean {
  return changes.restart.length === 0 && changes.added.length + changes.removed.length + changes.changed.length === 0 && !changes.agentRules
}

/** Dotted paths where two JSON values differ, with both values; lists compare whole. */
function differingPaths (a: unknown, b: unknown, path: string): Array<{ path: string, from: unknown, to: unknown }> {
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    return keys.flatMap((k) => differingPaths(a[k], b[k], `${path}.${k}`))
  }
  return canonical(a) === canonical(b) ? [] : [{ path, from: a, to: b }]
}

function show (value: unknown): string {
  const text = value === undefined ? 'unset' : JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** JSON with object keys sorted, so that key order never counts as a change */
function canonical (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => isRecord(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v) ?? 'undefined'
}

/** What a reload did (`POST /api/config/reload`, `labmesh reload`, SIGHUP, a join). */
export interface ReloadReport {
  /** the file read */
  readonly file: string
  /** when the running config was (re)loaded, ms since the epoch */
  readonly loadedAt: number
  readonly added: readonly string[]
  readonly removed: readonly string[]
  readonly changed: readonly string[]
  /** localPrefix or prefixSeparator changed */
  readonly agentRules: boolean
}
