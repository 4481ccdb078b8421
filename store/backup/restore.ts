/**
 * Rebuild a store from a backup directory (format.ts).
 *
 * Checked before anything is written: the manifest (format, domain), the
 * schema against this code's (a newer one is refused naming both; an older
 * one is restored as it is and upgraded by the store's upgrade steps at its
 * next open), and that the target holds no store (unless it is to be moved
 * aside). The rows go into `<storeDir>.restoring`, checked against the
 * manifest's count and sha-256 as they are read, then the store gets a NEW
 * feed epoch (docs/architecture/backup-restore.md: a restored feed
 * may lack writes peers saw, so they must not trust their checkpoints of
 * it) and a new vector entry for its local writes, `<domain>~<tag>` (meta
 * `entry`: the writes the restore lost raised the domain's entry past what
 * the snapshot holds, and the restored agent must not raise it to the same
 * counters with other content), and only then is it renamed into place. A
 * crash at any point leaves either no store or the whole restored one.
 */
import { createReadStream } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises'
import { createHash, randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { Level } from 'level'
import { BackupConflictError, BackupIncompatibleError, BackupInvalidError } from '../errors.js'
import { META_KEYS, SUBLEVELS } from '../keys.js'
import { BACKUP_FORMAT, MANIFEST_FILE, ROWS_PER_FRAME, STORE_FILE, checkFileName, type BackupManifest } from './format.js'
import { directoryPart } from './file-parts.js'
import { restoreEntry } from '../../protocol/version-vector.js'
import { fileUnits, progressMeter, type BackupProgress } from './progress.js'

export interface RestoreOptions {
  /** the backup directory */
  readonly from: string
  /** where the store goes (<dataDir>/store) */
  readonly storeDir: string
  /** the config's domain: a backup of another domain is refused */
  readonly domain: string
  /** the schema this code writes (store/upgrades SCHEMA_VERSION) */
  readonly codeSchema: number
  /** where each file part goes (e.g. blobs → <dataDir>/blobs); a part without a target is refused */
  readonly fileTargets: Readonly<Record<string, string>>
  /** move an existing store aside (to `<storeDir>.before-restore-<time>`) instead of refusing */
  readonly replace?: boolean
  readonly now?: () => number
  readonly onProgress?: (progress: BackupProgress) => void
}

export interface RestoreResult {
  readonly manifest: BackupManifest
  /** the restored store's new feed epoch */
  readonly epoch: string
  /**
   * the vector entry the restored agent raises from now on (meta `entry`),
   * undefined when the domain is too long for one (it then raises its domain)
   */
  readonly entry: string | undefined
  /** where a store that was there was moved */
  readonly movedAside: string | undefined
}

export async function readManifest (from: string): Promise<BackupManifest> {
  let manifest: BackupManifest
  try {
    manifest = JSON.parse(await readFile(join(from, MANIFEST_FILE), 'utf8')) as BackupManifest
  } catch (err) {
    throw new BackupInvalidError(`${from} is not a labmesh backup (no readable ${MANIFEST_FILE}: ${(err as Error).message}); a backup that did not finish has none`, { cause: err })
  }
  if (manifest.kind !== 'labmesh-backup' || typeof manifest.rows !== 'number' || typeof manifest.schema !== 'number') throw new BackupInvalidError(`${join(from, MANIFEST_FILE)} is not a labmesh backup manifest`)
  if (manifest.format !== BACKUP_FORMAT) throw new BackupIncompatibleError(`${from} is a backup of format ${String(manifest.format)}; this labmesh reads format ${BACKUP_FORMAT}: restore it with the labmesh that made it`)
  return manifest
}

/** The checks a restore makes before writing anything. */
export function checkCompatible (manifest: BackupManifest, options: Pick<RestoreOptions, 'from' | 'domain' | 'codeSchema' | 'fileTargets'>): void {
  if (manifest.schema > options.codeSchema) {
    throw new BackupIncompatibleError(`the backup at ${options.from} has store schema ${manifest.schema}, written by a newer labmesh; this labmesh reads schema ${options.codeSchema} and older: restore it with a labmesh of schema ${manifest.schema} or newer (nothing was changed)`)
  }
  if (manifest.domain !== options.domain) {
    throw new BackupIncompatibleError(`the backup at ${options.from} is of domain "${manifest.domain}", the config's domain is "${options.domain}": restore it with that agent's config`)
  }
  for (const part of manifest.files) {
    if (part.count > 0 && options.fileTargets[part.part] === undefined) throw new BackupIncompatibleError(`the backup holds ${part.count} files of part "${part.part}", which this labmesh does not know: restore it with the labmesh that made it`)
  }
}

export async function restoreBackup (options: RestoreOptions): Promise<RestoreResult> {
  const manifest = await readManifest(options.from)
  checkCompatible(manifest, options)
  const movedAside = await clearTarget(options)
  const building = `${options.storeDir}.restoring`
  await rm(building, { recursive: true, force: true })
  await mkdir(dirname(options.storeDir), { recursive: true })
  const meter = progressMeter('restore', manifest.rows + manifest.files.reduce((n, f) => n + fileUnits(f.bytes), 0), options.now)
  const report = (finished = false): void => options.onProgress?.(meter.report(finished))
  const epoch = randomBytes(8).toString('hex')
  const entry = restoreEntry(manifest.domain, epoch)
  const db = new Level<string, string>(building, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  try {
    await db.open()
    await copyRows(db, manifest, options.from, meter, report)
    // the new epoch, over the snapshot's: see the module header
    await db.put(`!${SUBLEVELS.meta}!${META_KEYS.epoch}`, JSON.stringify(epoch))
    // and a vector entry of its own, over any an earlier restore stored: see the module header
    if (entry !== undefined) await db.put(`!${SUBLEVELS.meta}!${META_KEYS.entry}`, JSON.stringify(entry))
  } finally {
    await db.close()
  }
  for (const part of manifest.files) await copyPart(part.part, options.from, options.fileTargets[part.part]!, meter, report)
  await rm(options.storeDir, { recursive: true, force: true }) // empty, or moved aside: see clearTarget
  await rename(building, options.storeDir)
  report(true)
  return { manifest, epoch, entry, movedAside }
}

async function clearTarget (options: RestoreOptions): Promise<string | undefined> {
  // anything there may be a store (a damaged one may lack CURRENT): never deleted, only moved aside on request
  const entries: string[] = await readdir(options.storeDir).catch(() => [])
  if (entries.length === 0) return undefined
  if (options.replace !== true) throw new BackupConflictError(`there is a store at ${options.storeDir} already: stop that agent and pass --replace (the store is moved aside, not deleted), or restore with a config whose dataDir is a new directory`)
  const aside = `${options.storeDir}.before-restore-${new Date((options.now ?? Date.now)()).toISOString().replace(/[:.]/g, '-')}`
  // an agent running on it holds its lock; renaming under it would split it from its files
  if (entries.includes('CURRENT')) {
    const probe = new Level(options.storeDir, { createIfMissing: false })
    try {
      await probe.open()
    } catch (err) {
      throw new BackupConflictError(`the store at ${options.storeDir} cannot be opened (${(err as Error).message}): stop the agent that runs on it first`)
    }
    await probe.close()
  }
  await rename(options.storeDir, aside)
  return aside
}

async function copyRows (db: Level<string, string>, manifest: BackupManifest, from: string, meter: ReturnType<typeof progressMeter>, report: () => void): Promise<void> {
  const hash = createHash('sha256')
  const input = createReadStream(join(from, STORE_FILE))
  input.on('data', (chunk) => hash.update(chunk))
  let rows = 0
  let batch = db.batch()
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    let row: unknown
    try {
      row = JSON.parse(line)
    } catch (err) {
      throw new BackupInvalidError(`${join(from, STORE_FILE)} line ${rows + 1} is not JSON: the backup is damaged`, { cause: err })
    }
    if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string' || typeof row[1] !== 'string') throw new BackupInvalidError(`${join(from, STORE_FILE)} line ${rows + 1} is not a [key, value] row: the backup is damaged`)
    batch.put(row[0], row[1])
    rows++
    if (batch.length >= ROWS_PER_FRAME) {
      await batch.write()
      batch = db.batch()
      meter.add(ROWS_PER_FRAME)
      report()
    }
  }
  await batch.write()
  const sha = hash.digest('hex')
  if (rows !== manifest.rows || sha !== manifest.storeSha256) {
    throw new BackupInvalidError(`${join(from, STORE_FILE)} has ${rows} rows (sha-256 ${sha}); its manifest says ${manifest.rows} (sha-256 ${manifest.storeSha256}): the backup is damaged or incomplete, nothing was restored`)
  }
}

async function copyPart (part: string, from: string, target: string, meter: ReturnType<typeof progressMeter>, report: () => void): Promise<void> {
  for (const file of await directoryPart(part, join(from, part)).list()) {
    checkFileName(part, file.name)
    const dest = join(target, ...file.name.split('/'))
    await mkdir(dirname(dest), { recursive: true })
    // content-addressed and immutable: a file already there is the same file
    await copyFile(join(from, part, ...file.name.split('/')), dest)
    meter.add(fileUnits(file.size))
    report()
  }
}
