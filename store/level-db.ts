/**
 * The LevelDB database under the store: opening it with its sublevels and
 * tuning, writing a transaction's operations as one batch, and telling who
 * holds its lock. Key layout in keys.ts; the store itself in level-store.ts.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { SUBLEVELS } from './keys.js'
import type { BatchOp, Sublevels } from './sublevels.js'
import type { UpgradeProgress, UpgradeStep } from './upgrades/step.js'

export interface LevelStoreOptions {
  /** directory of the LevelDB database */
  location: string
  /** this agent's domain; a store made for another domain refuses to open */
  domain: string
  /** LevelDB memtable size in bytes (default DEFAULT_WRITE_BUFFER_BYTES) */
  writeBufferSize?: number
  /** other classic-level options (tuning experiments) */
  leveldb?: Readonly<Record<string, unknown>>
  /** the upgrade steps to bring an older store to (default: store/upgrades UPGRADE_STEPS; tests pass their own) */
  upgradeSteps?: readonly UpgradeStep[]
  /** progress of an upgrade at open (long on a large store: percent and ETA) */
  onUpgradeProgress?: (progress: UpgradeProgress) => void
  /** entries of history kept per object (config `history.versions`; default DEFAULT_HISTORY_VERSIONS; 0 keeps none) */
  historyVersions?: number
  /** past versions kept per object as merge bases (default PAST_VERSIONS_KEPT; 0, or history off, keeps none) */
  pastVersions?: number
  /** the clock history entries are stamped with (default Date.now) */
  now?: () => number
  /**
   * an initial sync into an empty store would leave the type index to
   * finishBulkLoad (type-index.ts). Off, and refused if asked for: the
   * type-index rows carry the anti-entropy digest's leaves (digest-rows.ts),
   * which a deferred build does not write; and measured, the deferral cost
   * more CPU than it saved (bench/README.md, round two).
   */
  bulkLoad?: false
  /** objects per batch of the type index build (default TYPE_INDEX_CHUNK; tests make it small) */
  typeIndexChunk?: number
}

/**
 * LevelDB's memtable. Its 4 MiB default makes a bulk pull flush an L0 table
 * every ~3,000 objects and compact them over and over: on a 2-core machine
 * that background work costs as much CPU as the apply itself. 16 MiB cuts
 * the store's CPU during an initial sync by about a tenth, for at most
 * 2 × 16 MiB of memory (the memtable and the one being flushed).
 */
export const DEFAULT_WRITE_BUFFER_BYTES = 16 * 1024 * 1024

export type { Sublevels } from './sublevels.js'

/** A `Level` starts opening (and takes the lock) as soon as it is constructed: call this from open(). */
export function openLevel (options: LevelStoreOptions): { db: Level<string, unknown>, subs: Sublevels } {
  // utf8 at the root: only writeBatch writes there, with values its sublevels
  // already encoded; every sublevel names its own encoding
  const db = new Level<string, unknown>(options.location, {
    valueEncoding: 'utf8',
    writeBufferSize: options.writeBufferSize ?? DEFAULT_WRITE_BUFFER_BYTES,
    ...options.leveldb
  })
  const json = { valueEncoding: 'json' }
  const utf8 = { valueEncoding: 'utf8' }
  return {
    db,
    subs: {
      objects: db.sublevel(SUBLEVELS.objects, json),
      feed: db.sublevel(SUBLEVELS.feed, utf8),
      types: db.sublevel(SUBLEVELS.types, utf8),
      checkpoints: db.sublevel(SUBLEVELS.checkpoints, json),
      conflicts: db.sublevel(SUBLEVELS.conflicts, json),
      failed: db.sublevel(SUBLEVELS.failed, json),
      aux: db.sublevel(SUBLEVELS.aux, json),
      blobRefs: db.sublevel(SUBLEVELS.blobRefs, utf8),
      blobOrphans: db.sublevel(SUBLEVELS.blobOrphans, json),
      history: db.sublevel(SUBLEVELS.history, json),
      past: db.sublevel(SUBLEVELS.past, json),
      meta: db.sublevel(SUBLEVELS.meta, json),
      digest: db.sublevel(SUBLEVELS.digest, utf8)
    }
  }
}

/**
 * Write a transaction's operations as ONE LevelDB batch. Built as a
 * chained batch on the root database with each key already prefixed by its
 * sublevel and each value already encoded by its sublevel's encoding — the
 * very bytes an array `batch()` of sublevel operations writes — because
 * abstract-level's per-operation preparation of such an array cost ~8 µs per
 * pulled object against ~5 µs this way.
 */
export async function writeBatch (db: Level<string, unknown>, ops: readonly BatchOp[]): Promise<void> {
  const batch = db.batch()
  try {
    for (const op of ops) {
      const sub = op.sublevel as { prefix: string, valueEncoding: () => { encode: (v: unknown) => string } }
      if (op.type === 'put') batch.put(sub.prefix + op.key, op.text ?? sub.valueEncoding().encode(op.value))
      else batch.del(sub.prefix + op.key)
    }
  } catch (err) {
    await batch.close()
    throw err
  }
  await batch.write()
}

/**
 * The process holding LevelDB's lock on `location`, from /proc/locks (Linux;
 * undefined elsewhere or when it cannot be told). LevelDB locks its LOCK
 * file with fcntl, so the kernel lists the holder by the file's inode.
 */
export async function lockHolder (location: string): Promise<number | undefined> {
  try {
    const file = await stat(join(location, 'LOCK'))
    const dev = BigInt(file.dev)
    const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn))
    const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn))
    for (const line of (await readFile('/proc/locks', 'utf8')).split('\n')) {
      const fields = line.trim().split(/\s+/)
      const [maj, min, ino] = (fields[5] ?? '').split(':')
      if (ino === String(file.ino) && Number.parseInt(maj ?? '', 16) === major && Number.parseInt(min ?? '', 16) === minor) return Number(fields[4])
    }
  } catch {
    // not Linux, or no /proc: the message goes without the pid
  }
  return undefined
}
