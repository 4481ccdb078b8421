/**
 * Where a new object goes in this site: inside its parent's object when the
 * parent is here (samples in clients, analyses in samples), else in its
 * type's fixed container for the site's layout (portal-types.ts), found by
 * its path under the portal and remembered per path for the connector's
 * life. Every answer the site gives about a container is read here, so
 * checking that answer (the path and portal type it reports) is one change.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import { ConnectorError } from '../../errors.js'
import type { SenaiteClient } from './client.js'
import type { Mapping } from './mapping.js'
import { portalType, type Layout } from './portal-types.js'
import type { Listing } from './reads.js'

export interface ContainerDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly layout: Layout
  /** the portal path, e.g. /senaite */
  readonly portalPath: string
}

export interface Containers {
  /** this site's uid of the object `version` is to be created in; a ConnectorError when there is none (yet) */
  containerOf (version: ObjectVersion): Promise<string>
  /** the physical path of an object of this site */
  pathOf (uid: string): Promise<string>
}

export function createContainers (deps: ContainerDeps): Containers {
  const { client, mapping } = deps
  /** fixed containers by their path under the portal: they do not move while the connector runs */
  const byPath = new Map<string, string>()

  async function fixedContainer (path: string): Promise<string> {
    const cached = byPath.get(path)
    if (cached !== undefined) return cached
    const full = `${deps.portalPath}/${path}`
    const found = await client.get<Listing>('search', { path: full, depth: 0, limit: 1 })
    const uid = found.items?.[0]?.uid
    if (typeof uid !== 'string') throw new ConnectorError(`container ${full} does not exist in this site: check instance.layout (${deps.layout})`, false)
    byPath.set(path, uid)
    return uid
  }

  return {
    async containerOf (version) {
      const parent = version.parent !== null ? mapping.local(version.parent)?.uid : undefined
      if (parent !== undefined) return parent
      const info = portalType(version.type)
      if (info?.container !== undefined) return await fixedContainer(info.container[deps.layout])
      throw new ConnectorError(`${version.type} ${version.id} needs its parent ${version.parent ?? '(none)'} in this site first`, true)
    },

    async pathOf (uid) {
      const item = await client.get<Record<string, unknown>>(uid)
      return String(item.path ?? '')
    }
  }
}
