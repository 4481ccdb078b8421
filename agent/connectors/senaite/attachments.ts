/**
 * A SENAITE site's files (attachments, method documents) through the
 * agent's blob store, both ways.
 *
 * Reading: a file field shows as `{download, filename, content_type}`; its
 * bytes are streamed from the download URL into the blob store, and the
 * object's data carries the reference `{blob, size, name, mediaType}`
 * instead (convert.ts puts it in). Download once: a row per download URL
 * (aux space FILE_SPACE) remembers which blob the file was when the object
 * showed a `modified` date, filename and content type; while the object
 * shows the same three and the blob is still here, the file is not
 * downloaded again. The row is a memo, never the only record of anything:
 * written in a transaction of its own, checked against the blob store
 * before use, and a lost or stale row costs one download.
 *
 * What `modified` cannot tell: a file replaced within the same second under
 * the same name and content type (SENAITE dates have whole seconds). A
 * change of any other field of the object costs one download of its files
 * (stored once: the blob store deduplicates by hash).
 *
 * Writing: a reference becomes what the JSON API takes — the base64 text
 * with `filename` and `mimetype` (payload.ts) — read from the blob store;
 * a file over `maxFileBytes` is refused (SENAITE_FILE_TOO_LARGE) before
 * anything is read. After a write, the read-back knows which blob each
 * written file field holds (`hints`): the site's new download URL is
 * remembered without downloading what was just uploaded, so neither the
 * echo hash nor the next poll fetches it again.
 */
import { createHash } from 'node:crypto'
import { blobRefsOf, MAX_BLOB_NAME_LENGTH, MAX_MEDIA_TYPE_LENGTH, type BlobRef } from '../../../protocol/blob-ref.js'
import { BlobTooLargeError } from '../../../store/errors.js'
import type { Store } from '../../../store/types.js'
import type { ConnectorBlobs, ConnectorRows } from '../connector.js'
import type { Logger } from '../../runtime/logger.js'
import type { SenaiteClient } from './client.js'
import { WriteRefusal } from './write-errors.js'
import { FileBody } from './file-body.js'
import type { FileTransfers } from '../file-transfers.js'
import { ConnectorError } from '../../errors.js'

/** download URL → FileRow: which blob a site's file was, as of the object's `modified` */
export const FILE_SPACE = 'senaite:file'

export interface FileRow {
  readonly modified: string
  readonly filename: string | null
  readonly contentType: string | null
  readonly blob: string
  readonly size: number
}

/** A file field's value as the JSON API shows it (`api.get_file_info`). */
export interface SiteFile {
  readonly download: string
  readonly filename?: unknown
  readonly content_type?: unknown
}

/** Whether a value of a complete item is a file field's value. */
export function isSiteFile (value: unknown): value is SiteFile {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { download?: unknown }).download === 'string' && 'filename' in value
}

/** A file the connector will not take into the mesh (over the limit, or the site does not let the account read it). */
export class SiteFileRefused extends ConnectorError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, false, options)
  }
}

export interface Attachments {
  /**
   * The blob reference of every file an item shows, by download URL
   * (empty, at once, for an item with none); undefined when `download` is
   * false and a file is not known yet.
   */
  resolve (item: Record<string, unknown>, options?: ResolveOptions): Promise<ReadonlyMap<string, BlobRef> | undefined>
  /** `fields` with each blob reference replaced by the file as the JSON API takes it (`{filename, content_type, data}`) */
  materialize (type: string, fields: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>>
  /** files downloaded so far */
  readonly downloads: number
}

export interface ResolveOptions {
  /** item key → the blob a write of ours just put in that field (no download) */
  readonly hints?: ReadonlyMap<string, BlobRef> | undefined
  /** false: answer undefined rather than download a file not known yet */
  readonly download?: boolean
  /**
   * Where the memo rows go. Undefined: a store transaction of their own
   * (the poller). Inside the apply path's transaction (the writer) they go
   * in its rows — a transaction of their own would wait for it, forever —
   * and null (no rows given) leaves them out: a later download instead.
   */
  readonly rows?: ConnectorRows | null
}

export interface AttachmentDeps {
  readonly client: Pick<SenaiteClient, 'download'>
  readonly store: Pick<Store, 'getAux' | 'write'>
  readonly blobs: ConnectorBlobs
  /** largest file taken from or written to the site */
  readonly maxFileBytes: number
  readonly log: Logger
  /** downloads and uploads under way, for the status and the log */
  readonly transfers: FileTransfers
}

const NONE: ReadonlyMap<string, BlobRef> = new Map()

export function createAttachments (deps: AttachmentDeps): Attachments {
  const { store, blobs } = deps
  let downloads = 0

  async function remember (url: string, row: FileRow, rows: ConnectorRows | null | undefined): Promise<void> {
    if (rows === null) return
    if (rows !== undefined) rows.put(FILE_SPACE, url, row)
    else await store.write((tx) => { tx.putAux(FILE_SPACE, url, row) })
  }

  /** the blob a site file is, downloading it unless the row says it is here already */
  async function one (file: SiteFile, modified: string, hint: BlobRef | undefined, options: ResolveOptions): Promise<BlobRef | undefined> {
    const filename = typeof file.filename === 'string' ? file.filename : null
    const contentType = typeof file.content_type === 'string' ? file.content_type : null
    const row = await store.getAux<FileRow>(FILE_SPACE, file.download)
    const same = row !== undefined && row.modified === modified && row.filename === filename && row.contentType === contentType
    if (hint !== undefined) {
      if (!same || row.blob !== hint.blob) await remember(file.download, { modified, filename, contentType, blob: hint.blob, size: hint.size }, options.rows)
      return refOf(hint.blob, hint.size, filename, contentType)
    }
    if (same && await blobs.stat(row.blob) !== undefined) return refOf(row.blob, row.size, filename, contentType)
    if (options.download === false) return undefined
    const what = `file ${filename ?? file.download} from SENAITE`
    let put
    try {
      const name = filename ?? file.download
      put = await deps.client.download(file.download, async (body, length) => await blobs.put(deps.transfers.track('download', name, length, body), { maxBytes: deps.maxFileBytes, what }))
    } catch (err) {
      if (err instanceof BlobTooLargeError) throw new SiteFileRefused(`${what} is larger than instance.maxFileBytes (${deps.maxFileBytes} bytes): raise the limit to replicate it`, { cause: err })
      if (err instanceof ConnectorError && !err.retryable) throw new SiteFileRefused(err.message, { cause: err })
      throw err
    }
    downloads++
    deps.log.debug({ url: file.download, blob: put.hash, size: put.size, created: put.created }, 'SENAITE file downloaded into the blob store')
    await remember(file.download, { modified, filename, contentType, blob: put.hash, size: put.size }, options.rows)
    return refOf(put.hash, put.size, filename, contentType)
  }

  return {
    get downloads () { return downloads },

    async resolve (item, options = {}) {
      let out: Map<string, BlobRef> | undefined
      const modified = typeof item.modified === 'string' ? item.modified : ''
      for (const key in item) {
        const value = item[key]
        if (!isSiteFile(value)) continue
        const ref = await one(value, modified, options.hints?.get(key), options)
        if (ref === undefined) return undefined
        out ??= new Map()
        out.set(value.download, ref)
      }
      return out ?? NONE
    },

    async materialize (type, fields) {
      let out: Record<string, unknown> | undefined
      for (const [key, value] of Object.entries(fields)) {
        const [ref] = isBlobRef(value) ? blobRefsOf(value) : []
        if (ref === undefined) continue
        out ??= { ...fields }
        out[key] = await fileForSite(deps, type, key, ref)
      }
      return out ?? { ...fields }
    }
  }
}

/** the file as the JSON API takes it; refused (parked) when over the limit or not here */
async function fileForSite (deps: Pick<AttachmentDeps, 'blobs' | 'maxFileBytes' | 'transfers'>, type: string, key: string, ref: BlobRef): Promise<Record<string, unknown>> {
  const { blobs } = deps
  if (ref.size > deps.maxFileBytes) {
    throw new WriteRefusal('SENAITE_FILE_TOO_LARGE', `${type} ${key}: file ${ref.name ?? ref.blob} has ${ref.size} bytes, more than instance.maxFileBytes (${deps.maxFileBytes}): raise the limit (the JSON API takes a file as base64 inside one JSON body) or keep the file out of SENAITE`, false)
  }
  if (await blobs.stat(ref.blob) === undefined) {
    // the apply path writes an object only once its blobs are here: this one went since (garbage collection)
    throw new WriteRefusal('SENAITE_BLOB_ABSENT', `${type} ${key}: blob ${ref.blob} is not stored here; retried later`, true)
  }
  // payload.ts knows a file by its `filename` key (null: the site names it); `data` becomes the base64 text
  // as the request is sent, read from the blob store then (file-body.ts), never held whole
  const name = ref.name ?? ref.blob
  const data = new FileBody(ref.size, async () => deps.transfers.track('upload', name, ref.size, (await blobs.read(ref.blob)).stream), name)
  return { filename: ref.name ?? null, content_type: ref.mediaType ?? null, data }
}

/** A reference built from what a site shows: name and media type only when it shows them (limits of protocol/blob-ref.ts). */
function refOf (blob: string, size: number, filename: string | null, contentType: string | null): BlobRef {
  return {
    blob,
    size,
    ...(filename !== null && filename !== '' ? { name: filename.slice(0, MAX_BLOB_NAME_LENGTH) } : {}),
    ...(contentType !== null && contentType !== '' ? { mediaType: contentType.slice(0, MAX_MEDIA_TYPE_LENGTH) } : {})
  }
}

/** whether a data value is a blob reference itself (a file field's value) */
export function isBlobRef (value: unknown): value is BlobRef {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, 'blob')
}

/**
 * Whether a file held (a blob reference, or the bytes inline as objects
 * from before blobs hold them) is the file a site shows (a blob
 * reference): the same bytes, whatever name the site gave it.
 */
export function sameFile (held: unknown, shown: unknown): boolean {
  if (!isBlobRef(shown)) return false
  if (isBlobRef(held)) return held.blob === shown.blob
  const data = (held as { data?: unknown } | null)?.data
  return typeof data === 'string' && `sha256:${createHash('sha256').update(Buffer.from(data, 'base64')).digest('hex')}` === shown.blob
}

/**
 * `held` with each file held inline that is the very file `shown` holds as
 * a blob replaced by that reference: objects stored before blobs compare
 * equal to what the site shows now, and are not taken for edits.
 */
export function withInlineFilesAsShown (held: Readonly<Record<string, unknown>>, shown: Readonly<Record<string, unknown>>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined
  for (const [key, value] of Object.entries(held)) {
    if (isBlobRef(value) || !isBlobRef(shown[key]) || !sameFile(value, shown[key])) continue
    out ??= { ...held }
    out[key] = shown[key]
  }
  return out ?? { ...held }
}
