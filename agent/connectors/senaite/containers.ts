/**
 * Where a new object goes in this site: inside its parent's object when the
 * type lives in its parent (samples in clients, analyses in samples), else
 * in its type's fixed container on the site's layout (portal-types.ts).
 *
 * A fixed container is found by listing its folder's own portal type (the
 * `<folder type>` resource: the type's catalog on ≤2.4, uid_catalog on 2.5+,
 * both with a `portal_type` index on every layout) and then taking only the
 * item whose path AND portal type are the ones expected — never the first
 * item of an answer, and never a plain `search` (a path term that catalog
 * lacks is ignored: 2.5's uid_catalog). A site without it is refused with
 * the container named (SENAITE_CONTAINER_MISSING), not written elsewhere.
 * Found containers are remembered for the connector's life; a missing one
 * is asked again after a minute.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { SenaiteClient } from './client.js'
import type { SiteLayout } from './layouts.js'
import type { Mapping } from './mapping.js'
import { portalType, resourceOf, type ContainerSpec } from './portal-types.js'
import type { Listing } from './reads.js'
import { WriteRefusal } from './write-errors.js'

/** How long a container found missing is taken as missing before the site is asked again. */
const MISSING_TTL_MS = 60_000

export interface ContainerDeps {
  readonly client: SenaiteClient
  readonly mapping: Pick<Mapping, 'local'>
  readonly layout: SiteLayout
  /** the portal path, e.g. /senaite */
  readonly portalPath: string
  readonly now?: () => number
}

/** A folder or object of this site that objects are created in. */
export interface Container {
  readonly uid: string
  readonly path: string
}

export interface Containers {
  /** the container `version` is to be created in; a WriteRefusal when the site has none (yet) */
  containerOf (version: ObjectVersion): Promise<Container>
  /** the fixed container of a type on this layout (undefined: the type lives inside its parent); a WriteRefusal when missing */
  fixed (type: string): Promise<Container | undefined>
  /** the physical path of an object of this site */
  pathOf (uid: string): Promise<string>
}

export function createContainers (deps: ContainerDeps): Containers {
  const { client, mapping } = deps
  const now = deps.now ?? Date.now
  const found = new Map<string, Container>()
  const missing = new Map<string, { at: number, error: WriteRefusal }>()

  async function lookup (type: string, spec: ContainerSpec): Promise<Container> {
    const full = `${deps.portalPath}/${spec.path}`
    const known = found.get(full)
    if (known !== undefined) return known
    const gone = missing.get(full)
    if (gone !== undefined && now() - gone.at < MISSING_TTL_MS) throw gone.error
    const listing = await client.get<Listing>(resourceOf(spec.folderType), { path: full, depth: 0, limit: 100 })
    const match = (listing.items ?? []).find((i) => i.path === full && i.portal_type === spec.folderType && typeof i.uid === 'string')
    if (match === undefined) {
      const error = new WriteRefusal('SENAITE_CONTAINER_MISSING', `this SENAITE site has no ${spec.folderType} folder at ${full}, where ${type} objects go on a SENAITE ${deps.layout} site: create it in SENAITE (or check instance.url and instance.layout); the object waits in the failed queue until then`, false)
      missing.set(full, { at: now(), error })
      throw error
    }
    const container = { uid: match.uid as string, path: full }
    found.set(full, container)
    missing.delete(full)
    return container
  }

  async function fixed (type: string): Promise<Container | undefined> {
    const spec = portalType(type)?.container?.(deps.layout)
    return spec === undefined ? undefined : await lookup(type, spec)
  }

  return {
    fixed,

    async containerOf (version) {
      const info = portalType(version.type)
      if (info?.container === undefined && version.parent !== null) {
        const parent = mapping.local(version.parent)
        if (parent !== undefined) return { uid: parent.uid, path: parent.path !== '' ? parent.path : await this.pathOf(parent.uid) }
        throw new WriteRefusal('MISSING_DEPENDENCY', `${version.type} ${version.id} goes inside ${version.parent}, which is not in this SENAITE site yet: it is written as soon as that arrives`, true, [version.parent])
      }
      const container = await fixed(version.type)
      if (container !== undefined) return container
      throw new WriteRefusal('SENAITE_CONTAINER_MISSING', `${version.type} ${version.id} has no parent and its type no fixed container in SENAITE: the connector cannot place it`, false)
    },

    async pathOf (uid) {
      const item = await client.get<Record<string, unknown>>(uid)
      return String(item.path ?? '')
    }
  }
}
