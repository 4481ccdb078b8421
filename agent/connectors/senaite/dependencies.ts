/**
 * What a new object needs in the site before it can be created (pure but
 * for the store look-up that names them): its parent object when its type
 * lives inside one, and the references its type cannot be created without
 * (portal-types.ts `requires`: a sample's Contact and SampleType — the ID
 * server reads the type's prefix —, a service's Category, a department's
 * Manager, a worksheet's analyses). One that is missing makes the object
 * wait, parked as MISSING_DEPENDENCY naming them, instead of being created
 * half (SENAITE would answer "'NoneType' object has no attribute
 * 'getPrefix'" and keep a temporary sample, or refuse it at validation).
 *
 * The failed queue retries a parked object as soon as the store holds what
 * it waits for (failed-retry.ts); so only dependencies the store does not
 * hold are handed back as `missing` — one it holds but the site lacks (a
 * tombstone, an object written nowhere) would make that an endless retry,
 * and waits on the backoff instead.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { Store } from '../../../store/types.js'
import { siteUidOf, type Mapping } from './mapping.js'
import { portalType } from './portal-types.js'
import { WriteRefusal } from './write-errors.js'

/** The mesh uids `version` needs in the site before it is created. */
export function requiredOf (version: ObjectVersion): string[] {
  const info = portalType(version.type)
  const out = new Set<string>()
  if (info?.container === undefined && version.parent !== null) out.add(version.parent)
  const refs = new Set(version.refs)
  for (const field of info?.requires ?? []) {
    const value = version.data[field]
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string' && refs.has(v)) out.add(v)
  }
  return [...out]
}

/** A WriteRefusal naming what `version` waits for, or undefined when the site holds all it needs. */
export async function missingDependencies (version: ObjectVersion, mapping: Mapping, store: Store): Promise<WriteRefusal | undefined> {
  const absent = requiredOf(version).filter((uid) => siteUidOf(mapping, uid) === undefined)
  if (absent.length === 0) return undefined
  const held = await store.getObjects(absent)
  const names = absent.map((uid, i) => {
    const o = held[i]
    return o === undefined ? uid : `${o.type} ${o.id} (${uid}${o.deleted ? ', deleted' : ''})`
  })
  const waiting = absent.filter((_, i) => held[i] === undefined)
  const stuck = absent.length - waiting.length
  const when = stuck === 0
    ? 'it is written as soon as they arrive'
    : 'this agent holds some of them but the site does not (deleted, or refused there: see their own failed entries); it is retried on the backoff'
  return new WriteRefusal('MISSING_DEPENDENCY', `${version.type} ${version.id} cannot be created in SENAITE before ${names.join(', ')}: ${when}`, true, waiting)
}
