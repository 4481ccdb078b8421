/**
 * Users (with the roles and groups granted them — not the Authenticated
 * role and group every logged-in user has), registry records and settings
 * of a SENAITE site, as mesh objects of the reserved types `@user`,
 * `@registry` and `@settings` (agent/rules/types.ts), read from
 * senaite.jsonapi's batched envelopes. The JSON API can read them but has no
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
/** roles and groups Plone gives every logged-in user: not granted, so not replicated (notes §1.3) */
const IMPLICIT = new Set(['Authenticated', 'AuthenticatedUsers', 'Anonymous'])
/** keys of senaite.jsonapi's batched envelope (notes §1.11) */
const ENVELOPE_KEYS = new Set(['url', '_runtime', 'count', 'pagesize', 'page', 'pages', 'next', 'previous', 'items'])

interface Envelope { items?: Array<Record<string, unknown>>, next?: string | null }

export async function readSiteRecords (client: SenaiteClient, pageSize: number): Promise<SiteRecord[]> {
  return [...await readUsers(client, pageSize), ...await readRegistry(client), ...await readSettings(client)]
}

async function readUsers (client: SenaiteClient, pageSize: number): Promise<SiteRecord[]> {
  const out: SiteRecord[] = []
  for (let start = 0; ; start += pageSize) {
    const page = await client.get<Envelope>('users', { limit: pageSize, b_start: start })
    for (const user of page.items ?? []) {
      if (typeof user.username !== 'string' || user.username === 'Anonymous User') continue
      const data = Object.fromEntries(Object.entries(user).filter(([k]) => !VOLATILE_USER_KEYS.has(k)).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, k === 'roles' || k === 'groups' ? explicit(v) : v]))
      out.push({ uid: siteRecordUid('@user:', user.username), type: SPECIAL_TYPES.user, id: user.username, data })
    }
    if ((page.items ?? []).length < pageSize || page.next === null || page.next === undefined) break
  }
  return out
}

/** `registry`: a batched envelope whose one item holds every record (notes §8); older answers were the records themselves */
async function readRegistry (client: SenaiteClient): Promise<SiteRecord[]> {
  const answer = await client.get<Envelope & Record<string, unknown>>('registry')
  const records = Array.isArray(answer.items) ? Object.assign({}, ...answer.items) as Record<string, unknown> : answer
  return Object.entries(records).filter(([key]) => Array.isArray(answer.items) || !ENVELOPE_KEYS.has(key))
    .map(([key, value]) => ({ uid: siteRecordUid('@registry:', key), type: SPECIAL_TYPES.registry, id: key, data: { value } }))
}

/** `settings`: a batched envelope, one item per control panel `{<key>: {...}, api_url}` (notes §8) */
async function readSettings (client: SenaiteClient): Promise<SiteRecord[]> {
  const answer = await client.get<Envelope & Record<string, unknown>>('settings')
  const groups: Array<[string, unknown]> = Array.isArray(answer.items)
    ? answer.items.flatMap((item) => Object.entries(item).filter(([k]) => k !== 'api_url'))
    : Object.entries(answer).filter(([k]) => !ENVELOPE_KEYS.has(k))
  return groups.filter((entry): entry is [string, Record<string, unknown>] => typeof entry[1] === 'object' && entry[1] !== null && !Array.isArray(entry[1]))
    .map(([key, value]) => ({ uid: siteRecordUid('@settings:', key), type: SPECIAL_TYPES.settings, id: key, data: value }))
}

function explicit (value: unknown): unknown {
  return Array.isArray(value) ? value.filter((v) => typeof v !== 'string' || !IMPLICIT.has(v)) : value
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
