/**
 * Where the creates of a dry run (`labmesh plan`) would go in this site, in
 * the order the writer would write them: a type's fixed container,
 * looked up as a write would look it up (containers.ts: reads only) — or,
 * when the site lacks it, refused with the reason a write would give; the
 * parent object for types that live in one, whether the site has it
 * already or the same pull creates it; analyses are made by the sample
 * factory with their sample; users, registry records and settings cannot
 * be written at all.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { Store } from '../../../store/types.js'
import type { PlacedVersion, Placement } from '../connector.js'
import type { Containers } from './containers.js'
import { MAP_SPACE, type LocalRef } from './mapping.js'
import { portalType } from './portal-types.js'
import { isSiteRecordType, unwritableReason } from './site-records.js'
import { WriteRefusal } from './write-errors.js'
import { writeOrder } from './writer.js'

export interface PlacementDeps {
  readonly store: Store
  readonly containers: Pick<Containers, 'fixed'>
}

/** Where each version would go, in the order the writer would write them (writer.ts `writeOrder`). */
export async function placements (versions: readonly ObjectVersion[], deps: PlacementDeps): Promise<PlacedVersion[]> {
  /** where an object of this plan will be: its container's path and a stand-in for the id the site will give it */
  const planned = new Map<string, string>()
  const out: PlacedVersion[] = []
  for (const v of writeOrder(versions).map((i) => versions[i]!)) {
    const placement = await placementOf(v, deps, planned)
    if (placement.action !== 'refuse') planned.set(v.uid, `${placement.where}/<new ${v.type} ${v.id}>`)
    out.push({ uid: v.uid, ...placement })
  }
  return out
}

async function placementOf (v: ObjectVersion, deps: PlacementDeps, planned: ReadonlyMap<string, string>): Promise<Placement> {
  if (isSiteRecordType(v.type)) return { where: '-', action: 'refuse', note: unwritableReason(v.type) }
  const info = portalType(v.type)
  if (info?.container !== undefined || v.parent === null) {
    try {
      const container = await deps.containers.fixed(v.type)
      if (container !== undefined) return { where: container.path, action: 'create' }
      return { where: '-', action: 'refuse', note: `${v.type} has no parent and no fixed container in SENAITE` }
    } catch (err) {
      if (!(err instanceof WriteRefusal)) throw err
      return { where: '-', action: 'refuse', note: err.message }
    }
  }
  const parent = (await deps.store.getAux<LocalRef>(MAP_SPACE, v.parent))?.path ?? planned.get(v.parent)
  if (parent === undefined) return { where: '-', action: 'refuse', note: `goes inside ${v.parent}, which is neither in this site nor created by this pull` }
  return info?.factoryMade === true
    ? { where: parent, action: 'adopt', note: 'made by the sample factory with its sample' }
    : { where: parent, action: 'create' }
}
