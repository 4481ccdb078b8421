/**
 * Conversions between what the store holds and what travels: a stored object
 * becomes a WireObject (its current version plus conflict siblings, without
 * store-local metadata), serialised once and spliced into batch frames.
 */
import type { ObjectVersion, WireObject } from '../protocol/object.js'
import type { StoredObject } from '../store/types.js'

export function toWire (object: StoredObject): WireObject {
  const wire: WireObject = {
    uid: object.uid,
    type: object.type,
    id: object.id,
    parent: object.parent,
    refs: object.refs,
    data: object.data,
    vector: object.vector,
    origin: object.origin,
    deleted: object.deleted,
    at: object.at
  }
  return object.conflicts.length > 0 ? { ...wire, conflicts: object.conflicts } : wire
}

/** The versions a wire object carries: its current one first, then siblings. */
export function versionsOf (wire: WireObject): ObjectVersion[] {
  // Most objects carry no siblings and no `conflicts` key: the wire object is
  // then its own current version, and copying it would only make garbage.
  if (!Object.prototype.hasOwnProperty.call(wire, 'conflicts')) return [wire]
  const { conflicts, ...current } = wire
  return conflicts !== undefined && conflicts.length > 0 ? [current, ...conflicts] : [current]
}
