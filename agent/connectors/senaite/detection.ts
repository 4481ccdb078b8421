/**
 * How a site can be asked, per type, what changed since a cursor (§2.3 and
 * the corrections): `modified_since` (newer jsonapi, second precise), else a
 * range query on the catalog's `modified` index (minute precise), else a
 * full scan compared against stored content hashes. Never the day-level
 * `recent_modified` literals. A query asks from a little before the cursor
 * (OVERLAP_MS), so an object saved during the last poll is not missed.
 */
import { SenaiteApiError } from './api-errors.js'
import type { SenaiteClient } from './client.js'
import { countItems } from './reads.js'

export type DetectionMode = 'modified-since' | 'modified-range' | 'scan' | 'absent'

/** Overlap of consecutive polls, so an object saved during a poll is not missed. */
const OVERLAP_MS: Record<DetectionMode, number> = { 'modified-since': 5_000, 'modified-range': 120_000, scan: 0, absent: 0 }

/** A date no object was modified after: a filter the site honours answers it with nothing. */
const FUTURE = '2999-01-01T00:00:00'

/** Which query finds this type's changes in this site; 'absent' when the site does not have the type. */
export async function detectMode (client: SenaiteClient, type: string): Promise<DetectionMode> {
  let all: number
  try {
    all = await countItems(client, type, {})
  } catch (err) {
    // a type this site does not have (an add-on's, or an older version): not replicated here
    if (err instanceof SenaiteApiError && !err.retryable) return 'absent'
    throw err
  }
  // nothing to tell a filter that works from one that is ignored
  if (all === 0) return 'scan'
  if (await countItems(client, type, { modified_since: FUTURE }) === 0) return 'modified-since'
  if (await countItems(client, type, { 'modified.query:record:date': FUTURE, 'modified.range:record': 'min' }) === 0) return 'modified-range'
  return 'scan'
}

/** The listing query for a type's changes since `cursor` (the newest `modified` the site reported); {} lists all. */
export function changesQuery (mode: DetectionMode | undefined, cursor: string | undefined): Record<string, string | undefined> {
  const m = mode ?? 'scan'
  if (cursor === undefined || m === 'scan') return {}
  const since = new Date(Date.parse(cursor) - OVERLAP_MS[m]).toISOString().replace(/\.\d+Z$/, 'Z')
  if (m === 'modified-since') return { modified_since: since, sort_on: 'modified' }
  return { 'modified.query:record:date': since, 'modified.range:record': 'min' }
}
