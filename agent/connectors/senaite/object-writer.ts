/**
 * Writing one version into the site: a delete retires the object
 * (retire.ts), an object already here is updated with the fields that can be
 * set now, a new one goes through the create path (create.ts); then its
 * review state is reached by replaying transitions (workflow-replay.ts).
 *
 * Each object's outcome is its own: a refusal by the site becomes a failed
 * result (SENAITE_REFUSED, retryable when the error says so), never an
 * exception for the batch. Before anything is sent, what the write may
 * change in the site — the object and its parent, whose workflow cascades
 * reach — is noted in the batch log for the poller.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { ConnectorRows, RemoteWrite, RemoteWriteResult } from '../connector.js'
import type { ConnectorError } from '../../errors.js'
import type { Logger } from '../../runtime/logger.js'
import type { BatchLog } from './batch-log.js'
import type { SenaiteClient } from './client.js'
import { versionToFields } from './convert.js'
import type { Creator } from './create.js'
import type { EchoHashes } from './echo-hashes.js'
import { isOwn, siteUidOf, type LocalRef, type Mapping } from './mapping.js'
import { readItem, type Listing } from './reads.js'
import { retire } from './retire.js'
import { isSiteRecordType, unwritableReason } from './site-records.js'
import { replayWorkflow } from './workflow-replay.js'

export interface ObjectWriterDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly log: Logger
  readonly batch: Pick<BatchLog, 'touch'>
  readonly echoes: Pick<EchoHashes, 'sent'>
  readonly creator: Creator
}

/** one version's result; `deferred` when some reference could not be set yet */
export interface WriteOutcome {
  readonly result: RemoteWriteResult
  readonly deferred: boolean
}

export interface ObjectWriter {
  write (w: RemoteWrite, rows: ConnectorRows | undefined): Promise<WriteOutcome>
  /** versions whose content was written into the site so far (patches again included, deletes not) */
  readonly written: number
}

export function createObjectWriter (deps: ObjectWriterDeps): ObjectWriter {
  const { client, mapping, batch } = deps
  let written = 0
  const localUidOf = (m: string): string | undefined => siteUidOf(mapping, m)

  async function update (uid: string, fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (Object.keys(fields).length === 0) return await readItem(client, uid)
    return (await client.post<Listing>(`update/${uid}`, fields)).items?.[0] ?? await readItem(client, uid)
  }

  /** the object's fields and review state, on the object here (`existing`) or a new one */
  async function writeContent (w: RemoteWrite, existing: LocalRef | undefined, rows: ConnectorRows | undefined): Promise<WriteOutcome> {
    const version = w.next
    const payload = versionToFields(version, { localUidOf }, existing !== undefined ? w.previous : undefined)
    if (payload.uncleared.length > 0) {
      deps.log.warn({ uid: version.uid, type: version.type, id: version.id, fields: payload.uncleared }, 'fields emptied on another site cannot be emptied here: SENAITE\'s JSON API cannot clear a single reference; clear them in SENAITE by hand')
    }
    let item: Record<string, unknown>
    deps.echoes.sent(version.uid, Object.keys(payload.fields))
    if (existing !== undefined) {
      item = await update(existing.uid, payload.fields)
    } else {
      item = await deps.creator.create(version, payload.fields)
      batch.touch(item.uid as string)
      await deps.creator.remember(version.uid, item, rows)
    }
    await replayWorkflow(client, deps.log, version, item, payload.reviewState)
    written++
    return { result: { ok: true }, deferred: payload.deferred.length > 0 }
  }

  /** the object of this site a version is (undefined: not here yet) */
  function existingOf (version: ObjectVersion): LocalRef | undefined {
    return mapping.local(version.uid) ?? (isOwn(mapping, version.uid) ? { uid: version.uid, path: '', id: version.id } : undefined)
  }

  return {
    get written () { return written },

    async write (w, rows) {
      const version = w.next
      if (isSiteRecordType(version.type)) return { result: { ok: false, code: 'SENAITE_UNSUPPORTED', reason: unwritableReason(version.type), retryable: false }, deferred: false }
      const existing = existingOf(version)
      // what this write may change in the site, workflow cascades included (parent ↔ children; the poller checks children by their parent)
      batch.touch(existing?.uid)
      if (version.parent !== null) batch.touch(localUidOf(version.parent), 'parents')
      try {
        if (!version.deleted) return await writeContent(w, existing, rows)
        if (existing !== undefined) await retire(client, existing.uid, version.type)
        return { result: { ok: true }, deferred: false }
      } catch (err) {
        const e = err as ConnectorError
        return { result: { ok: false, code: 'SENAITE_REFUSED', reason: e.message, retryable: e.retryable === true }, deferred: false }
      }
    }
  }
}
