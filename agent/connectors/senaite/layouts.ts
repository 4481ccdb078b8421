/**
 * Which SENAITE a site is: its layout, as far as the connector's work
 * depends on it (/work/scratch/senaite-notes.md §2–§3):
 *
 * | layout    | setup content                        | create/update answers     |
 * | --------- | ------------------------------------ | ------------------------- |
 * | `1.3`     | AT, `bika_setup/bika_*`              | no review_state (≤2.4)    |
 * | `2.0-2.4` | AT, `bika_setup/bika_*`              | no review_state           |
 * | `2.5`     | AT, `bika_setup/bika_*`              | review_state              |
 * | `2.6`     | DX, `setup/*` (snake-case fields)    | review_state              |
 *
 * Detected at start from the `version` route (senaite.jsonapi's release:
 * 1.x → 1.3) and from where the site keeps its Departments folder — the
 * one setup folder every release has, moved to `/setup` in 2.6 — read
 * through a listing of that folder type, which is exact on every layout
 * (the type's own catalog, the answer's path checked). The connector never
 * relies on a plain `search` (portal_catalog before 2.5, a uid_catalog
 * without a path index in 2.5) or on an item being the one it asked for.
 *
 * `instance.layout` may name the layout, its family (`1.x`, `2.x`) or
 * `auto`; a site that answers otherwise is refused at start.
 */
import { ConnectorError } from '../../errors.js'
import { SenaiteApiError } from './api-errors.js'
import type { Listing, SenaiteClient } from './client.js'

export type SiteLayout = '1.3' | '2.0-2.4' | '2.5' | '2.6'
export const SITE_LAYOUTS: readonly SiteLayout[] = ['1.3', '2.0-2.4', '2.5', '2.6']

/** What `instance.layout` may say: a layout, a family, or detect it. */
export type LayoutSetting = 'auto' | '1.x' | '2.x' | SiteLayout

export interface DetectedSite {
  readonly layout: SiteLayout
  /** senaite.jsonapi's release, as its `version` route says */
  readonly jsonapi: string
  /** where the Departments folder was found (the evidence for setup under /setup) */
  readonly departments: string | undefined
}

/** The layout of the site `client` talks to; `portalPath` is e.g. /senaite. */
export async function detectLayout (client: SenaiteClient, portalPath: string): Promise<DetectedSite> {
  const answer = await client.get<{ version?: unknown }>('version')
  const jsonapi = typeof answer.version === 'string' ? answer.version : ''
  const [major, minor] = jsonapi.split('.').map((n) => Number.parseInt(n, 10))
  if (major === 1) return { layout: '1.3', jsonapi, departments: undefined }
  const departments = await departmentsFolder(client, portalPath)
  if (departments === `${portalPath}/setup/departments`) return { layout: '2.6', jsonapi, departments }
  return { layout: (minor ?? 0) >= 5 || (major ?? 2) > 2 ? '2.5' : '2.0-2.4', jsonapi, departments }
}

/** Where the site's Departments folder is (/setup/departments on 2.6, bika_setup/bika_departments before). */
async function departmentsFolder (client: SenaiteClient, portalPath: string): Promise<string | undefined> {
  let listing: Listing
  try {
    listing = await client.get<Listing>('departments', { limit: 50 })
  } catch (err) {
    // a site without the folder type: not a 2.6 site
    if (err instanceof SenaiteApiError && !err.retryable) return undefined
    throw err
  }
  const paths = (listing.items ?? []).filter((i) => i.portal_type === 'Departments').map((i) => String(i.path ?? ''))
  return paths.find((p) => p === `${portalPath}/setup/departments`) ?? paths.find((p) => p === `${portalPath}/bika_setup/bika_departments`)
}

/** Refuse a site that is not what `instance.layout` says it is. */
export function checkLayout (setting: LayoutSetting, site: DetectedSite, url: string): SiteLayout {
  const fits = setting === 'auto' ||
    (setting === '1.x' && site.layout === '1.3') ||
    (setting === '2.x' && site.layout !== '1.3') ||
    setting === site.layout
  if (fits) return site.layout
  const evidence = `senaite.jsonapi ${site.jsonapi === '' ? '(no version)' : site.jsonapi}${site.departments !== undefined ? `, Departments folder at ${site.departments}` : ''}`
  throw new ConnectorError(`instance.layout is ${setting}, but the site at ${url} answers as a SENAITE ${site.layout} site (${evidence}): set instance.layout to ${site.layout} (or auto), or point instance.url at the site you meant`, false)
}
