/**
 * After a pull has caught up: finish what a bulk load left out (the store's
 * type index, store/type-index.ts), in the background, with progress in the
 * log. Nothing to do (the usual case) costs one check.
 */
import { describeError } from '../../protocol/errors.js'
import type { Store } from '../../store/types.js'
import type { Logger } from '../runtime/logger.js'

/** how often a long build logs its progress */
const PROGRESS_LOG_MS = 3000

export function finishBulkLoad (store: Store, log: Logger, now: () => number): void {
  const started = now()
  let logged = started
  const progress = (done: number, total: number): void => {
    const t = now()
    if (t - logged < PROGRESS_LOG_MS) return
    logged = t
    const percent = total > 0 ? Math.min(100, Math.round(done / total * 100)) : 100
    const etaSeconds = done > 0 && total > done ? Math.round((t - started) / done * (total - done) / 1000) : 0
    log.info({ done, total, percent, etaSeconds }, `building the type index after an initial sync: ${percent}% (${done} of ${total} objects, about ${etaSeconds} s left)`)
  }
  store.finishBulkLoad(progress).then((indexed) => {
    if (indexed > 0) log.info({ indexed, ms: now() - started }, `type index built after an initial sync: ${indexed} objects in ${now() - started} ms`)
  }, (err: unknown) => {
    log.warn({ err: describeError(err) }, 'building the type index after an initial sync failed: it resumes after the next pull; until then listing by type scans every object')
  })
}
