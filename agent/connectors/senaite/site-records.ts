/**
 * Users (with roles and groups), registry records and settings of a SENAITE
 * site, as mesh objects of the reserved types `@user`, `@registry` and
 * `@settings` (agent/rules/types.ts). The JSON API can read them but has no
 * route to write them (reference §2.1, §2.7): the connector exports them, and
 * an import into a SENAITE site is refused with that explanation, so the
 * object waits in the failed queue instead of being silently dropped.
 */
import { createHash } from 'node:crypto'
import { MAX_UID_LENGTH } from '../../../protocol/constants.js'
import { SPECIAL_TYPES } from '../../rules/types.js'
import type { SenaiteClient } from './client.js'

export interface SiteRecord {
  readonly uid: string
  readonly type: string
  readonly id: string
  readonly data: Record<string, unknown>
}

const VOLATILE_USER_KEYS = new Set(['authenticated', 'api_url', 'login_time', 'last_login_time', 'url', '_runtime'])

export async function readSiteRecords (client: SenaiteClient, pageSize: number): Promise<SiteRecord[]> {
  const out: SiteRecord[] = []
  for (let start = 0; ; start += pageSize) {
    const page = await client.get<{ items?: Array<Record<string, unknown>> }>('users', { limit: pageSize, b_start: start })
    for (const user of page.items ?? []) {
      if (typeof user.username !== 'string' || user.username === 'Anonymous User') continue
      const data = Object.fromEntries(Object.entries(user).filter(([k]) => !VOLATILE_USER_KEYS.has(k)).sort(([a], [b]) => a.localeCompare(b)))
      out.push({ uid: siteRecordUid('@user:', user.username), type: SPECIAL_TYPES.user, id: user.username, data })
    }
    if ((page.items ?? []).length < pageSize) break
  }
  const registry = await client.get<Record<string, unknown>>('registry')
  for (const [key, value] of Object.entries(registry)) {
    if (key === 'url' || key === '_runtime') continue
    out.push({ uid: siteRecordUid('@registry:', key), type: SPECIAL_TYPES.registry, id: key, data: { value } })
  }
  const settings = await client.get<Record<string, unknown>>('settings')
  for (const [key, value] of Object.entries(settings)) {
    if (key === 'url' || key === '_runtime' || typeof value !== 'object' || value === null) continue
    out.push({ uid: siteRecordUid('@settings:', key), type: SPECIAL_TYPES.settings, id: key, data: value as Record<string, unknown> })
  }
  return out
}

/**
 * The mesh uid of a user, registry record or settings group: the prefix and
 * its name, or — when that would pass the uid limit (Plone registry keys can
 * be long) — the prefix and a digest of the name. The name itself is the id.
 */
export function siteRecordUid (prefix: string, name: string): string {
  const plain = prefix + name
  return plain.length <= MAX_UID_LENGTH ? plain : `${prefix}sha256:${createHash('sha256').update(name).digest('hex')}`
}

export function isSiteRecordType (type: string): boolean {
  return type === SPECIAL_TYPES.user || type === SPECIAL_TYPES.registry || type === SPECIAL_TYPES.settings
}

export function unwritableReason (type: string): string {
  const what = type === SPECIAL_TYPES.user ? 'users' : type === SPECIAL_TYPES.registry ? 'registry records' : 'settings'
  return `the SENAITE JSON API cannot write ${what} (it only reads them): create them in the SENAITE site by hand, or turn import.${what === 'users' ? 'users' : what === 'settings' ? 'settings' : 'registry'} off for this peer`
}
