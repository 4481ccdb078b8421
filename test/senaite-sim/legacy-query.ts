/**
 * LEGACY (2.x-legacy-kind / 1.x-legacy-kind only; removed with them):
 * searching today's kind simulated site (§2.3 and corrections): catalog choice by
 * portal type, only indexes of the chosen catalog filter (others silently
 * ignored), `uid_catalog` holding no Dexterity objects, `path` + `depth`,
 * the midnight-based `recent_modified` literals, `modified_since` (when the
 * site has it, second precision) and Zope range records on `modified`
 * (minute precision, only where the catalog indexes `modified`).
 */
import type { Site, SimObject } from './site.js'
import { SIM_TYPE_BY_NAME, type Layout } from './site-model.js'

export interface QueryOptions {
  readonly modifiedSince: boolean
  readonly indexes: Record<string, string[]>
  readonly now: number
  readonly layout: Layout
}

const TRUE = new Set(['y', 'yes', '1', 'true', 'True'])
export const isTrue = (v: string | undefined): boolean => v !== undefined && TRUE.has(v)

export function runLegacyQuery (site: Site, params: URLSearchParams, forcedTypes: string[] | undefined, options: QueryOptions): SimObject[] {
  const types = forcedTypes ?? params.getAll('portal_type')
  const catalogs = new Set(types.map((t) => SIM_TYPE_BY_NAME.get(t)?.catalog ?? 'portal_catalog'))
  let catalog = params.get('catalog') ?? (types.length > 0 && catalogs.size === 1 ? [...catalogs][0]! : 'uid_catalog')
  if (options.indexes[catalog] === undefined) catalog = 'uid_catalog'
  const indexes = new Set(options.indexes[catalog])

  let items = site.content()
  if (catalog === 'uid_catalog') items = items.filter((o) => SIM_TYPE_BY_NAME.get(o.portalType)?.dexterity[options.layout] !== true)
  else items = items.filter((o) => SIM_TYPE_BY_NAME.get(o.portalType)?.catalog === catalog)
  if (types.length > 0) items = items.filter((o) => types.includes(o.portalType))

  const path = params.get('path')
  if (path !== null) {
    const depth = params.get('depth')
    if (depth === null) items = items.filter((o) => o.path === path)
    else {
      const d = Number(depth)
      items = items.filter((o) => o.path.startsWith(`${path}/`) && (d < 0 || o.path.slice(path.length + 1).split('/').length <= Math.max(d, 1)))
      if (d === 0) items = site.content().filter((o) => o.path === path).concat(site.atPath(path)?.folder === true ? [site.atPath(path)!] : [])
    }
  }
  const uid = params.get('UID') ?? params.get('uid')
  if (uid !== null && indexes.has('UID')) items = items.filter((o) => o.uid === uid)
  const state = params.get('review_state')
  if (state !== null && indexes.has('review_state')) items = items.filter((o) => o.reviewState === state)
  const id = params.get('id')
  if (id !== null && indexes.has('id')) items = items.filter((o) => o.id === id)

  if (indexes.has('modified')) {
    const recent = params.get('recent_modified')
    if (recent !== null) {
      const days = { today: 0, yesterday: 1, 'this-week': 7, 'this-month': 30, 'this-year': 365 }[recent]
      if (days !== undefined) {
        const midnight = new Date(options.now)
        midnight.setUTCHours(0, 0, 0, 0)
        const min = midnight.getTime() - days * 86_400_000
        items = items.filter((o) => o.modified >= min)
      }
    }
    const rangeDate = params.get('modified.query:record:date')
    const range = params.get('modified.range:record')
    if (rangeDate !== null && range === 'min') {
      const min = floorToMinute(Date.parse(rangeDate))
      if (!Number.isNaN(min)) items = items.filter((o) => floorToMinute(o.modified) >= min)
    }
  }
  if (options.modifiedSince) {
    const since = params.get('modified_since')
    if (since !== null) {
      const min = parseSince(since, options.now)
      if (min !== undefined) items = items.filter((o) => Math.floor(o.modified / 1000) >= Math.floor(min / 1000))
    }
  }

  const sortOn = params.get('sort_on')
  const canSort = sortOn !== null && (indexes.has(sortOn) || (options.modifiedSince && (sortOn === 'modified' || sortOn === 'created')))
  if (canSort) {
    const key = (o: SimObject): string | number => sortOn === 'modified' ? o.modified : sortOn === 'created' ? o.created : sortOn === 'id' ? o.id : o.path
    items.sort((a, b) => { const x = key(a); const y = key(b); return x < y ? -1 : x > y ? 1 : 0 })
    const order = params.get('sort_order') ?? 'ascending'
    if (order.startsWith('desc') || order === 'reverse') items.reverse()
  } else {
    items.sort((a, b) => a.created - b.created || (a.path < b.path ? -1 : 1))
  }
  return items
}

function floorToMinute (ms: number): number {
  return Math.floor(ms / 60_000) * 60_000
}

/** ISO or compact datetimes, dates, or durations like `2d`, `1d6h`, `3m` back from now. */
export function parseSince (value: string, now: number): number | undefined {
  const duration = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(value)
  if (duration !== null && value !== '') {
    const [, d, h, m] = duration
    return now - ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(m ?? 0)) * 60_000
  }
  const compact = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$/.exec(value)
  if (compact !== null) {
    const [, y, mo, da, hh, mi, ss] = compact
    return Date.UTC(Number(y), Number(mo) - 1, Number(da), Number(hh ?? 0), Number(mi ?? 0), Number(ss ?? 0))
  }
  const parsed = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) || value.length <= 10 ? value : `${value}Z`)
  return Number.isNaN(parsed) ? undefined : parsed
}
