/**
 * Finding what an earlier create attempt left in the site (journal.ts
 * `Attempt`). senaite.jsonapi removes a new object only when a jsonapi
 * APIError is raised while its fields are set; any other failure — and a
 * create whose answer was lost, or whose agent died before it journalled
 * the answer — leaves a named, catalogued object (notes §4.2).
 *
 * What survives on a real site to tell it by: its container and portal type
 * (exact: the listing is filtered by the type's own catalog and checked by
 * path and type here), that it was created after the attempt by the sync
 * account, that no mapping claims it, and the identifying fields the
 * attempt sent (its title first): a candidate showing a different value for
 * one of them is someone else's. Fields it does not show yet were not set
 * before the failure. Samples are the exception: the sample factory leaves
 * a temporary sample that no catalog holds — invisible here, and to every
 * listing of the site.
 */
import type { SenaiteClient } from './client.js'
import type { Attempt } from './journal.js'
import { resourceOf } from './portal-types.js'
import { READ_FLAGS, type Listing } from './reads.js'

/** Clock skew between this agent and the site we tolerate when comparing creation dates. */
const SKEW_MS = 5 * 60_000
const PAGE = 100
/** at most this many children of a container are looked through (a catalog that ignores the date filter) */
const MAX_PAGES = 50

export interface LeftoverDeps {
  readonly client: SenaiteClient
  /** the account the agent writes as (the candidate's creator) */
  readonly username: string
  /** whether a SENAITE uid already belongs to a mesh object (mapped, or a create's answer being journalled) */
  readonly claimed: (uid: string) => boolean
  /** the AT name of a field an item of this type shows (Dexterity items: field-names.ts) */
  readonly fieldName: (type: string, key: string) => string
}

/** The objects an attempt may have made, best match first (the marker's fields shown equal, oldest first). */
export async function findLeftovers (deps: LeftoverDeps, attempt: Attempt): Promise<Array<Record<string, unknown>>> {
  const since = Date.parse(attempt.at) - SKEW_MS
  const sinceIso = new Date(since).toISOString().replace(/\.\d+Z$/, 'Z')
  const scored: Array<{ item: Record<string, unknown>, score: number, created: number }> = []
  for (let page = 0; page < MAX_PAGES; page++) {
    const listing = await deps.client.get<Listing>(resourceOf(attempt.type), {
      path: attempt.container.path,
      depth: 1,
      'created.query:record:date': sinceIso,
      'created.range:record': 'min',
      ...READ_FLAGS,
      filedata: 'no',
      limit: PAGE,
      b_start: page * PAGE
    })
    for (const item of listing.items ?? []) {
      const score = scoreOf(deps, attempt, item, since)
      if (score !== undefined) scored.push({ item, score, created: Date.parse(String(item.created ?? '')) || 0 })
    }
    if ((listing.items ?? []).length < PAGE || listing.next === null || listing.next === undefined) break
  }
  return scored.sort((a, b) => b.score - a.score || a.created - b.created).map((s) => s.item)
}

/** how well an item matches the attempt (fields shown equal); undefined when it cannot be what the attempt made */
function scoreOf (deps: LeftoverDeps, attempt: Attempt, item: Record<string, unknown>, since: number): number | undefined {
  if (item.portal_type !== attempt.type || typeof item.uid !== 'string' || deps.claimed(item.uid)) return undefined
  const parentPath = typeof item.parent_path === 'string' ? item.parent_path : String(item.path ?? '').replace(/\/[^/]*$/, '')
  if (parentPath !== attempt.container.path) return undefined
  const created = Date.parse(String(item.created ?? ''))
  if (!Number.isNaN(created) && created < since) return undefined
  if (typeof item.author === 'string' && item.author !== '' && item.author !== deps.username) return undefined
  const shown = new Map(Object.entries(item).map(([k, v]) => [deps.fieldName(attempt.type, k), v]))
  let score = 0
  for (const [key, sent] of Object.entries(attempt.marker)) {
    const value = shown.get(key)
    // not set before the failure (AT shows an unset title as the id)
    if (value === undefined || value === null || value === '' || (key === 'title' && value === item.id)) continue
    if (String(value) !== String(sent)) return undefined
    score++
  }
  return score
}

/** The identifying fields of a create body: scalar fields, title first, at most a few. */
export function markerOf (fields: Readonly<Record<string, unknown>>, type: string): Record<string, string | number | boolean> {
  const marker: Record<string, string | number | boolean> = {}
  // Contact and LabContact compute their title from their names: a title sent to them is not kept
  const keys = Object.keys(fields).filter((k) => !(k === 'title' && (type === 'Contact' || type === 'LabContact')))
  for (const key of keys.sort((a, b) => (a === 'title' ? -1 : b === 'title' ? 1 : 0))) {
    const value = fields[key]
    if (typeof value === 'string' && (value === '' || value.length > 200 || /^[0-9a-f]{32}$/.test(value))) continue
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue
    marker[key] = value
    if (Object.keys(marker).length >= 6) break
  }
  return marker
}
