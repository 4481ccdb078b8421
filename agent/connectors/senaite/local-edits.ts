/**
 * Recording an edit made in the site as a local change of the mesh. An edit
 * that cannot be replicated (ObjectTooLargeError or InvalidObjectError from
 * the local write) is logged once per content and skipped, never retried as
 * it is: the rest of the poll goes on, and a later, corrected edit of it is
 * recorded.
 */
import { InvalidObjectError, ObjectTooLargeError } from '../../../protocol/errors.js'
import type { ConnectorContext, ConnectorRow, LocalChange } from '../connector.js'
import type { Logger } from '../../runtime/logger.js'

export type RecordOutcome = Awaited<ReturnType<ConnectorContext['recordLocalChange']>> | 'too-large'

export interface LocalEdits {
  /** recordLocalChange, or 'too-large' (logged) when the object is over the size limit or invalid */
  record (change: LocalChange, hash: string, rows: readonly ConnectorRow[], precondition: () => boolean): Promise<RecordOutcome>
  /** whether this content of the object was refused already (skipped until it changes) */
  refused (meshUid: string, hash: string): boolean
  /** skip this content of the object from now on (a file refused: `hash` names the version, e.g. by its date) */
  skip (meshUid: string, hash: string): void
}

export function createLocalEdits (context: ConnectorContext, log: Logger): LocalEdits {
  /** content hash of each object whose edit was too large to record */
  const tooLarge = new Map<string, string>()

  return {
    async record (change, hash, rows, precondition) {
      try {
        const stored = await context.recordLocalChange(change, rows, precondition)
        tooLarge.delete(change.uid)
        return stored
      } catch (err) {
        if (!(err instanceof ObjectTooLargeError) && !(err instanceof InvalidObjectError)) throw err
        tooLarge.set(change.uid, hash)
        const detail = err instanceof ObjectTooLargeError ? { bytes: err.bytes, limit: err.limit } : { problems: err.problems }
        log.warn({ uid: change.uid, type: change.type, id: change.id, ...detail }, `SENAITE ${change.type} ${change.id} was not recorded: ${err.message}`)
        return 'too-large'
      }
    },

    refused: (meshUid, hash) => tooLarge.get(meshUid) === hash,
    skip: (meshUid, hash) => { tooLarge.set(meshUid, hash) }
  }
}
