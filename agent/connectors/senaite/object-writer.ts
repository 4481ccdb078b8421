/**
 * Writing one version into the site: a delete retires the object
 * (retire.ts), an object already here is updated with the fields that can be
 * set now, a new one goes through the create path (create.ts) once what it
 * cannot be created without is in the site (dependencies.ts); then its
 * Dexterity references and further files are posted (payload.ts) and its
 * review state is reached by replaying transitions (workflow-replay.ts).
 *
 * Each object's outcome is its own: a refusal by the site becomes a failed
 * result (SENAITE_REFUSED, retryable when the error says so; the
 * connector's own refusals carry their code and what they wait for), never
 * an exception for the batch. Before anything is sent, what the write may
 * change in the site — the object and its parent, whose workflow cascades
 * reach — is noted in the batch log for the poller.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { Store } from '../../../store/types.js'
import type { ConnectorRows, RemoteWrite, RemoteWriteResult } from '../connector.js'
import type { ConnectorError } from '../../errors.js'
import type { Logger } from '../../runtime/logger.js'
import type { BatchLog } from './batch-log.js'
import type { SenaiteClient } from './client.js'
import type { BlobRef } from '../../../protocol/blob-ref.js'
import { isBlobRef, type Attachments } from './attachments.js'
import { versionToFields } from './convert.js'
import type { CreateContext, Creator } from './create.js'
import { missingDependencies } from './dependencies.js'
import type { EchoHashes } from './echo-hashes.js'
import { unreadableOnDexterity } from './field-names.js'
import type { SiteLayout } from './layouts.js'
import { isOwn, siteUidOf, type LocalRef, type Mapping } from './mapping.js'
import { sitePayload, type SitePayload } from './payload.js'
import { isDexterity } from './portal-types.js'
import { readItem, type Listing } from './reads.js'
import { retire } from './retire.js'
import { isSiteRecordType, unwritableReason } from './site-records.js'
import { planWorkflow, replayWorkflow } from './workflow-replay.js'
import { WriteRefusal } from './write-errors.js'

export interface ObjectWriterDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly store: Store
  readonly layout: SiteLayout
  readonly log: Logger
  readonly batch: Pick<BatchLog, 'touch'>
  readonly echoes: Pick<EchoHashes, 'sent'>
  readonly creator: Creator
  /** blob references → files as the JSON API takes them */
  readonly attachments: Pick<Attachments, 'materialize'>
}

/** one version's result; `deferred` when some reference could not be set yet */
export interface WriteOutcome {
  readonly result: RemoteWriteResult
  readonly deferred: boolean
}

/** What one write needs from its batch (the create path's context, less the rows given per write). */
export type BatchContext = Omit<CreateContext, 'rows'>

export interface ObjectWriter {
  write (w: RemoteWrite, rows: ConnectorRows | undefined, batch?: BatchContext): Promise<WriteOutcome>
  /** versions whose content was written into the site so far (patches again included, deletes not) */
  readonly written: number
}

const noBatch = (): BatchContext => ({ versionOf: async () => undefined, childrenInBatch: () => [], analysesListed: new Map() })

// Long because it is a factory: its closure holds the per-connector state its short inner functions share.
export function createObjectWriter (deps: ObjectWriterDeps): ObjectWriter {
  const { client, mapping, batch, layout } = deps
  let written = 0
  const localUidOf = (m: string): string | undefined => siteUidOf(mapping, m)

  async function update (uid: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (Object.keys(body).length === 0) return await readItem(client, uid)
    return (await client.post<Listing>(`update/${uid}`, body)).items?.[0] ?? await readItem(client, uid)
  }

  /** what does not go in the main record: Dexterity references (form-encoded) and further files */
  async function sendRest (uid: string, shaped: SitePayload): Promise<void> {
    if (shaped.formRefs.length > 0) await client.postForm(`update/${uid}`, shaped.formRefs.flatMap(([name, uids]) => uids.map((u) => [`${name}:list`, u] as const)))
    for (const file of shaped.files) await client.post(`update/${uid}`, file)
  }

  /**
   * The site's object for a version not here yet, created (or adopted) with its fields written, and
   * the transitions still to replay on it.
   */
  async function create (version: ObjectVersion, shaped: SitePayload, fields: Record<string, unknown>, target: string | undefined, rows: ConnectorRows | undefined, ctx: BatchContext): Promise<{ item: Record<string, unknown>, actions: string[] }> {
    const waiting = await missingDependencies(version, mapping, deps.store)
    if (waiting !== undefined) throw waiting
    const made = await deps.creator.create(version, shaped.body, fields, { ...ctx, rows })
    batch.touch(made.item.uid as string)
    const actions = await planWorkflow(client, deps.log, version, made.item, target)
    if (!made.adopted) return { item: made.item, actions }
    // made by an attempt that failed or went unanswered, or by the sample factory: the fields may not all be set;
    // the first transition goes in the same request (senaite.jsonapi sets the fields, then transitions)
    const [first, ...rest] = actions
    const item = await update(made.item.uid as string, first !== undefined ? { ...shaped.body, transition: first } : shaped.body)
    return { item, actions: rest }
  }

  /** the object's fields and review state, on the object here (`existing`) or a new one */
  async function writeContent (w: RemoteWrite, existing: LocalRef | undefined, rows: ConnectorRows | undefined, ctx: BatchContext): Promise<WriteOutcome> {
    const version = w.next
    const payload = versionToFields(version, { localUidOf }, existing !== undefined ? w.previous : undefined)
    const dexterity = isDexterity(version.type, layout)
    // a file the site holds already (the previous version's blob) is not sent again: an edit of an attachment's other fields costs no upload
    const toSend = existing !== undefined && w.previous !== undefined && !w.previous.deleted ? withoutUnchangedFiles(payload.fields, w.previous.data) : payload.fields
    const shaped = sitePayload(version.type, await deps.attachments.materialize(version.type, toSend), dexterity)
    const uncleared = [...payload.uncleared, ...shaped.uncleared]
    if (uncleared.length > 0) {
      deps.log.warn({ uid: version.uid, type: version.type, id: version.id, fields: uncleared }, 'fields emptied on another site cannot be emptied here: SENAITE\'s JSON API cannot clear a single reference (nor a Dexterity one); clear them in SENAITE by hand')
    }
    // what the read-back after the batch must show (a Dexterity site never shows its multi-valued references)
    const unreadable = dexterity ? unreadableOnDexterity(version.type) : []
    deps.echoes.sent(version.uid, Object.keys(toSend).filter((k) => !unreadable.includes(k)), filesOf(toSend))
    if (existing === undefined) {
      const made = await create(version, shaped, payload.fields, payload.reviewState, rows, ctx)
      await sendRest(made.item.uid as string, shaped)
      for (const action of made.actions) await client.post(`update/${made.item.uid as string}`, { transition: action })
    } else {
      const item = await update(existing.uid, shaped.body)
      await sendRest(item.uid as string, shaped)
      // the state the site was brought to with the previous version needs no look (a read more per write on ≤2.4)
      const moved = w.previous === undefined || w.previous.deleted || w.previous.data.review_state !== payload.reviewState
      if (moved) await replayWorkflow(client, deps.log, version, item, payload.reviewState, { revive: w.previous?.deleted === true })
    }
    written++
    return { result: { ok: true }, deferred: payload.deferred.length > 0 }
  }

  /** the object of this site a version is (undefined: not here yet) */
  function existingOf (version: ObjectVersion): LocalRef | undefined {
    return mapping.local(version.uid) ?? (isOwn(mapping, version.uid) ? { uid: version.uid, path: '', id: version.id } : undefined)
  }

  return {
    get written () { return written },

    async write (w, rows, ctx = noBatch()) {
      const version = w.next
      if (isSiteRecordType(version.type)) return { result: { ok: false, code: 'SENAITE_UNSUPPORTED', reason: unwritableReason(version.type), retryable: false }, deferred: false }
      const existing = existingOf(version)
      // what this write may change in the site, workflow cascades included (parent ↔ children; the poller checks children by their parent)
      batch.touch(existing?.uid)
      if (version.parent !== null) batch.touch(localUidOf(version.parent), 'parents')
      try {
        if (!version.deleted) return await writeContent(w, existing, rows, ctx)
        if (existing !== undefined) await retire(client, existing.uid, version.type)
        return { result: { ok: true }, deferred: false }
      } catch (err) {
        if (err instanceof WriteRefusal) return { result: { ok: false, code: err.result, reason: err.message, retryable: err.retryable, missing: err.missing }, deferred: false }
        const e = err as ConnectorError
        return { result: { ok: false, code: 'SENAITE_REFUSED', reason: e.message, retryable: e.retryable === true }, deferred: false }
      }
    }
  }
}

/** `fields` less the files (blob references) that are the same blob in `previous` */
function withoutUnchangedFiles (fields: Readonly<Record<string, unknown>>, previous: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    const before = previous[key]
    if (isBlobRef(value) && isBlobRef(before) && before.blob === value.blob) continue
    out[key] = value
  }
  return out
}

/**
 * The file fields sent as blob references: the read-back knows them by these blobs. A file not sent
 * (held already) gets no hint: the site's copy is read as it is, since someone may have replaced it there.
 */
function filesOf (fields: Readonly<Record<string, unknown>>): Map<string, BlobRef> {
  const out = new Map<string, BlobRef>()
  for (const [key, value] of Object.entries(fields)) if (isBlobRef(value)) out.set(key, value)
  return out
}
