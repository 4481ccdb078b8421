/**
 * Builders the Store contract's clause files share: versions, conflict
 * siblings, parked entries, and a one-transaction write of several objects.
 */
import { it } from 'vitest'
import type { ObjectVersion } from '../../protocol/object.js'
import type { FailedEntry, ObjectWrite, Store, StoredObject, WriteOptions } from '../../store/types.js'

export const DOMAIN = 'lab-a'
export const AT = 1_700_000_000_000

/**
 * A clause that needs something the implementation did not supply: skipped
 * under a name that says why, so the report shows it instead of a silent pass.
 */
export function itUnless (reason: string | undefined, name: string, fn: () => Promise<void>): void {
  if (reason !== undefined) it.skip(`${name} — skipped: ${reason}`, fn)
  else it(name, fn)
}

/** A version as a local write makes it (no siblings, written here). */
export function version (uid: string, n = 1, over: Partial<ObjectWrite> = {}): ObjectWrite {
  return { uid, type: 'Sample', id: `S-${uid}`, parent: null, refs: [], data: { n }, vector: { [DOMAIN]: n }, origin: DOMAIN, deleted: false, at: AT + n, conflicts: [], via: null, ...over }
}

/** A concurrent version from another lab, to keep as a conflict sibling. */
export function sibling (uid: string, lab: string, n = 1): ObjectVersion {
  return { uid, type: 'Sample', id: `S-${uid}`, parent: null, refs: [], data: { from: lab, n }, vector: { [lab]: n }, origin: DOMAIN, deleted: false, at: AT + 100 + n }
}

export function failed (uid: string, peer: string, attempts = 1): FailedEntry {
  const { conflicts: _c, via: _v, ...wire } = version(uid) // eslint-disable-line @typescript-eslint/no-unused-vars
  return { uid, peer, reason: `parked for the contract (${attempts})`, code: 'MISSING_DEPENDENCY', missing: ['elsewhere'], attempts, firstFailedAt: AT, lastFailedAt: AT + attempts, nextRetryAt: AT + 5000 * attempts, version: wire }
}

/** Write these objects in one transaction (each read first, as the store requires). */
export async function putAll (store: Store, objects: readonly ObjectWrite[], options?: WriteOptions): Promise<StoredObject[]> {
  return await store.write(async (tx) => {
    await tx.getMany(objects.map((o) => o.uid))
    return objects.map((o) => tx.putObject(o))
  }, options)
}

/** Every aux row of these spaces, as `space/key → value`. */
export async function auxRows (store: Store, spaces: readonly string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const space of spaces) for await (const [key, value] of store.iterateAux(space)) out[`${space}/${key}`] = value
  return out
}
