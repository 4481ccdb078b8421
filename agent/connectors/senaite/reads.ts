/**
 * How the connector reads a SENAITE site: one complete item by uid, a type's
 * listing a page at a time, a type's count. The poller and the writer read
 * complete items with the same flags (READ_FLAGS): content hashes are
 * compared across the two, so both must see the same view of an object.
 */
import type { Listing, SenaiteClient } from './client.js'
import { resourceOf } from './portal-types.js'

/**
 * The flags the poller reads with: hashes must be computed on the same view.
 * Files come without their bytes (`filedata=no`): a listing page never
 * carries base64 files; attachments.ts streams each from its download URL.
 */
export const READ_FLAGS = { complete: 'yes', workflow: 'yes', filedata: 'no' } as const

/** The JSON API's answer to a listing, a search, a create or an update. */
export type { Listing } from './client.js'

/** The complete current record of an object, with workflow (for state and the echo hash). */
export async function readItem (client: SenaiteClient, uid: string): Promise<Record<string, unknown>> {
  return await client.get<Record<string, unknown>>(uid, READ_FLAGS)
}

/**
 * A type's items matching `query`, a page at a time (catalog metadata only
 * unless `complete`): a large site is never held whole. Items of other types
 * the catalog answers with are skipped.
 */
export async function * listItems (client: SenaiteClient, type: string, query: Record<string, string | number | undefined>, complete: boolean, pageSize: number): AsyncGenerator<Record<string, unknown>> {
  for (let start = 0; ; start += pageSize) {
    const page = await client.get<Listing>(resourceOf(type), { ...query, limit: pageSize, b_start: start, ...(complete ? READ_FLAGS : {}) })
    const items = (page.items ?? []).filter((i) => typeof i.uid === 'string' && i.portal_type === type)
    for (const item of items) yield item
    if ((page.items ?? []).length < pageSize || page.next === null || page.next === undefined) return
  }
}

/** How many items of a type match `query`. */
export async function countItems (client: SenaiteClient, type: string, query: Record<string, string | number>): Promise<number> {
  const page = await client.get<Listing>(resourceOf(type), { ...query, limit: 1 })
  return page.count ?? (page.items ?? []).length
}
