/**
 * Opening the LevelDB store (level-store.ts): taking the database's lock
 * with errors that say what to do, and reading the meta rows — writing them
 * for a new store, refusing another domain's or a newer schema's store, and
 * running the upgrade steps (upgrades/) for an older one — before the store
 * serves anything. Invariant: nothing is read from a store of another
 * domain or of a schema this build does not know; a store opened here is at
 * `schema` once loadMeta has returned.
 */
import { randomBytes } from 'node:crypto'
import type { Level } from 'level'
import { StoreLockedError, StoreSchemaTooNewError, StoreWriteError } from './errors.js'
import { META_KEYS } from './keys.js'
import type { FailedEntry } from './types.js'
import { lockHolder, openLevel, type LevelStoreOptions } from './level-db.js'
import type { Sublevels } from './sublevels.js'
import type { CommittedState } from './level-memory.js'
import { UPGRADE_STEPS, runUpgrades } from './upgrades/index.js'
import { domainOfEntry } from '../protocol/version-vector.js'

/** Construct the database (which takes the lock) and open it; a lock held elsewhere is a StoreLockedError. */
export async function openDatabase (options: LevelStoreOptions): Promise<{ db: Level<string, unknown>, subs: Sublevels }> {
  // Already open in this very process: refuse before LevelDB does. LevelDB's
  // refusal closes its own descriptor of LOCK, and POSIX then drops every
  // fcntl lock this process holds on that file: the store that is open here
  // would lose its protection against other processes.
  const holder = await lockHolder(options.location)
  if (holder === process.pid) throw new StoreLockedError(options.location, { holder })
  const { db, subs } = openLevel(options)
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(options.location, { cause: err, holder: await lockHolder(options.location) })
    throw new StoreWriteError(`cannot open the store at ${options.location}: ${(err as Error).message}${cause !== undefined ? ` (${String((cause as Error).message ?? cause.code)})` : ''}: check that the directory exists and is writable (it is <dataDir>/store; dataDir is set in the config)`, { cause: err })
  }
  return { db, subs }
}

/**
 * Read the meta rows into `into` (the store's memory, its indexes cleared
 * by the caller before a reload), each at the point it is read: a load that
 * fails half-way leaves what it had set. A new store sets only its epoch.
 */
export async function loadMeta (db: Level<string, unknown>, subs: Sublevels, options: LevelStoreOptions, schemaWanted: number, into: CommittedState): Promise<void> {
  const [epoch, domain, schema, head, objects, typeIndex, ownEntry] = await subs.meta.getMany([
    META_KEYS.epoch, META_KEYS.domain, META_KEYS.schema, META_KEYS.head, META_KEYS.objects, META_KEYS.typeIndex, META_KEYS.entry
  ]) as [string | undefined, string | undefined, number | undefined, number | undefined, number | undefined, { cursor: string } | undefined, string | undefined]
  into.typeIndex = { cursor: typeIndex?.cursor }
  if (epoch === undefined) {
    // A new store: a fresh random epoch tells every remote that any
    // checkpoint it holds for us belongs to a feed that no longer exists.
    const fresh = randomBytes(8).toString('hex')
    into.epoch = fresh
    into.entry = undefined
    await subs.meta.batch([
      { type: 'put', key: META_KEYS.epoch, value: fresh },
      { type: 'put', key: META_KEYS.domain, value: options.domain },
      { type: 'put', key: META_KEYS.schema, value: schemaWanted },
      { type: 'put', key: META_KEYS.head, value: 0 },
      { type: 'put', key: META_KEYS.objects, value: 0 }
    ])
    await into.digestMirror.load(subs.digest)
    return
  }
  if (domain !== options.domain) {
    throw new StoreWriteError(`the store at ${options.location} belongs to domain "${String(domain)}", not "${options.domain}": use that domain in the config, or point dataDir at a new directory`)
  }
  if (ownEntry !== undefined && domainOfEntry(ownEntry) !== domain) {
    throw new StoreWriteError(`the store at ${options.location} raises vector entry "${ownEntry}", which is not domain "${domain}"'s: the store is damaged; restore it from a backup`)
  }
  // a store without the row predates schema versions: schema 1
  const stored = schema ?? 1
  if (stored > schemaWanted) throw new StoreSchemaTooNewError(options.location, stored, schemaWanted)
  if (stored < schemaWanted) {
    await runUpgrades({
      db,
      subs,
      location: options.location,
      steps: options.upgradeSteps ?? UPGRADE_STEPS,
      schema: stored,
      onProgress: options.onUpgradeProgress
    })
  }
  into.epoch = epoch
  into.entry = ownEntry
  into.head = head ?? 0
  into.objectCount = objects ?? 0
  for await (const [uid, via] of subs.conflicts.iterator()) into.conflictVia.set(uid as string, Array.isArray(via) ? via as string[] : [])
  for await (const [uid, entry] of subs.failed.iterator()) into.failedPeer.set(uid as string, (entry as FailedEntry).peer)
  await into.digestMirror.load(subs.digest)
}
