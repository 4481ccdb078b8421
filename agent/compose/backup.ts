/**
 * Backup of the running agent (`POST /api/backup`, `labmesh backup`): one
 * store snapshot and the file parts listed right after it, as frames
 * (store/backup/). One backup at a time; its progress (percent, ETA) is in
 * the log, the status report and so on the status page, and the CLI
 * computes its own from the frames.
 *
 * The file parts are the seam for blobs: `backupFileParts` and
 * `restoreTargets` are the one place that says which directories beside
 * the store a backup holds and where a restore puts them.
 */
import type { LoadedConfig } from '../../config/load.js'
import { describeError } from '../../protocol/errors.js'
import { BackupConflictError } from '../../store/errors.js'
import { directoryPart, type BackupFilePart } from '../../store/backup/file-parts.js'
import type { Frame } from '../../store/backup/format.js'
import { formatBackupProgress, throttled, type BackupProgress } from '../../store/backup/progress.js'
import { backupFrames } from '../../store/backup/source.js'
import type { Logger } from '../runtime/logger.js'
import type { NeedPart } from './parts.js'

/** how often a running backup logs its progress */
const LOG_EVERY_MS = 2000
/** how long a backup waits for its pulls to catch up before it takes the snapshot anyway */
const CATCH_UP_MS = 10_000

/**
 * The immutable files beside the store that a backup holds: the blob
 * store's verified blobs (`sha256/…`), never its uploads (`tmp/`) or
 * partial downloads (`partial/`). A visible blob is never rewritten, and an
 * object is committed only once its blobs are visible, so every blob the
 * snapshot references is in the list taken right after it.
 */
export function backupFileParts (config: LoadedConfig): BackupFilePart[] {
  return [directoryPart('blobs', config.paths.blobsDir, (name) => name.startsWith('sha256/'))]
}

/** Where a restore puts each file part. */
export function restoreTargets (config: LoadedConfig): Record<string, string> {
  return { blobs: config.paths.blobsDir }
}

export interface BackupOperation {
  /** the backup as frames; refused (BACKUP_CONFLICT) while another runs */
  backup (): AsyncIterable<Frame>
  /** the running backup's progress; null when none runs */
  progress (): BackupProgress | null
}

export interface BackupOperationDeps {
  readonly need: NeedPart
  readonly peerId: () => string
  readonly parts: () => readonly BackupFilePart[]
  /** names of the remotes this agent pulls from */
  readonly remotes: () => readonly string[]
  readonly log: Logger
  readonly now: () => number
}

export function createBackupOperation (deps: BackupOperationDeps): BackupOperation {
  let running: BackupProgress | undefined
  const log = deps.log.child({ component: 'backup' })
  async function * run (): AsyncGenerator<Frame> {
    const store = deps.need('store', 'store')
    await catchUp(deps, log)
    const snapshot = await store.openSnapshot()
    const { info } = snapshot
    log.info({ epoch: info.epoch, head: info.head, objects: info.objects, rows: info.rows, schema: info.schema }, 'backup started: snapshot taken')
    const logProgress = throttled((p: BackupProgress) => log.info({ percent: p.percent, etaSeconds: p.etaSeconds, done: p.done, total: p.total }, formatBackupProgress(p)), LOG_EVERY_MS, deps.now)
    try {
      yield * backupFrames(snapshot, deps.parts(), {
        peerId: deps.peerId(),
        now: deps.now,
        onProgress: (p) => { running = p; logProgress(p) }
      })
    } catch (err) {
      log.warn({ err: describeError(err) }, 'backup failed')
      throw err
    }
  }
  return {
    backup: () => {
      // refused at the call, before any frame: the admin API answers 409
      if (running !== undefined) throw new BackupConflictError(`a backup is running already (${running.percent}%): wait for it to finish`)
      running = { phase: 'backup', done: 0, total: 0, percent: 0, etaSeconds: undefined, finished: false }
      const frames = run()
      // ends however the frames end: read to the end, failed, or abandoned by the reader (return())
      return {
        [Symbol.asyncIterator]: () => ({
          next: async () => await frames.next().then((r) => { if (r.done === true) running = undefined; return r }, (err: unknown) => { running = undefined; throw err }),
          return: async () => { running = undefined; return await frames.return(undefined) }
        })
      }
    },
    progress: () => running ?? null
  }
}

/**
 * Pull from every remote once before the snapshot, for at most CATCH_UP_MS:
 * a remote does not notify us of commits that only applied our own
 * batches, so our checkpoint of it can lag far behind its head (everything
 * after is an echo of ours). After a restore, that remote resends
 * everything after the checkpoint (its versions from us carry our old
 * epoch); a fresh checkpoint keeps that to what changed after the backup.
 * Best effort: a remote that is down or slow just keeps its older checkpoint.
 */
async function catchUp (deps: BackupOperationDeps, log: Logger): Promise<void> {
  const remotes = deps.remotes()
  if (remotes.length === 0) return
  const replicator = deps.need('replicator', 'replicator')
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, CATCH_UP_MS) })
  const pulls = Promise.all(remotes.map(async (name) => {
    await replicator.syncNow(name).catch((err: unknown) => { log.info({ peer: name, err: describeError(err) }, 'backup: could not catch up with this remote first; its checkpoint stays older') })
  }))
  await Promise.race([pulls, deadline])
  clearTimeout(timer)
}
