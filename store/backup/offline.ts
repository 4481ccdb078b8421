/**
 * Backup of a stopped agent's store, read straight from its directory: the
 * same snapshot, frames and directory writer as a backup over the admin
 * API. Opening the database takes its lock, so a running agent's store is
 * refused (StoreLockedError names the process): back that up through its
 * admin API instead.
 */
import { Level } from 'level'
import { StoreLockedError, StoreWriteError } from '../errors.js'
import { lockHolder } from '../level-db.js'
import type { BackupManifest } from './format.js'
import type { BackupFilePart } from './file-parts.js'
import type { BackupProgress } from './progress.js'
import { openStoreSnapshot } from './snapshot.js'
import { backupFrames } from './source.js'
import { writeBackupDir } from './write-dir.js'

export interface OfflineBackupOptions {
  readonly location: string
  readonly out: string
  readonly peerId: string
  readonly parts: readonly BackupFilePart[]
  readonly now?: () => number
  readonly onProgress?: (progress: BackupProgress) => void
}

export async function backupStoppedStore (options: OfflineBackupOptions): Promise<BackupManifest> {
  const db = new Level<string, unknown>(options.location, { createIfMissing: false, valueEncoding: 'utf8' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(options.location, { cause: err, holder: await lockHolder(options.location) })
    throw new StoreWriteError(`cannot open the store at ${options.location} to back it up: ${(err as Error).message}${cause !== undefined ? ` (${String((cause as Error).message ?? cause.code)})` : ''}`, { cause: err })
  }
  try {
    const snapshot = await openStoreSnapshot(db)
    return await writeBackupDir(backupFrames(snapshot, options.parts, { peerId: options.peerId, ...(options.now !== undefined ? { now: options.now } : {}) }), {
      out: options.out,
      online: false,
      ...(options.now !== undefined ? { now: options.now } : {}),
      ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {})
    })
  } finally {
    await db.close()
  }
}
