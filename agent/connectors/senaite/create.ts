/**
 * The create path: a mesh object not yet in this site becomes a new SENAITE
 * object in its container (containers.ts) — or, for a type SENAITE makes
 * itself with its parent (a sample's analyses), the one already there is
 * adopted. What a create made is journalled (fsync) as soon as the site
 * has answered, before the mapping and its store row: a crash before the
 * store commits cannot make the next attempt create it twice (mapping.ts
 * replays the journal). Not covered: a create the site failed after making
 * part of the object, or a crash before its answer is journalled — the next
 * attempt creates anew.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { ConnectorRows } from '../connector.js'
import { ConnectorError } from '../../errors.js'
import type { SenaiteClient } from './client.js'
import type { Containers } from './containers.js'
import { MAP_SPACE, type LocalRef, type Mapping } from './mapping.js'
import { portalType, resourceOf } from './portal-types.js'
import type { Listing } from './reads.js'

export interface CreateDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly containers: Containers
}

export interface Creator {
  /** the site's new (or adopted) object for `version`, as the API answered it */
  create (version: ObjectVersion, fields: Record<string, unknown>): Promise<Record<string, unknown>>
  /** remember that `meshUid` is `item` in this site: journalled first, then the mapping and its row in the batch's transaction */
  remember (meshUid: string, item: Record<string, unknown>, rows: ConnectorRows | undefined): Promise<void>
}

export function createCreator (deps: CreateDeps): Creator {
  const { client, mapping, containers } = deps

  /** the object SENAITE made with the parent, matched by id or keyword; undefined when there is none */
  async function adoptable (version: ObjectVersion, container: string): Promise<Record<string, unknown> | undefined> {
    const siblings = await client.get<Listing>(resourceOf(version.type), { path: `${await containers.pathOf(container)}`, depth: 1, limit: 1000 })
    return siblings.items?.find((i) => i.id === version.id || i.getKeyword === version.data.Keyword)
  }

  return {
    async create (version, fields) {
      const container = await containers.containerOf(version)
      if (portalType(version.type)?.adoptById === true) {
        const match = await adoptable(version, container)
        if (match !== undefined) return match
      }
      const created = await client.post<Listing>(`${resourceOf(version.type)}/create/${container}`, { portal_type: version.type, ...fields })
      const item = created.items?.[0]
      if (item === undefined || typeof item.uid !== 'string') throw new ConnectorError(`SENAITE created no ${version.type} for ${version.id}`, false)
      return item
    },

    async remember (meshUid, item, rows) {
      const ref: LocalRef = { uid: item.uid as string, path: String(item.path ?? ''), id: String(item.id ?? '') }
      await mapping.journal(meshUid, ref)
      mapping.set(meshUid, ref)
      rows?.put(MAP_SPACE, meshUid, ref)
    }
  }
}
