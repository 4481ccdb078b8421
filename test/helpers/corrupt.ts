/**
 * Writes that bypass the store, for tests of the digest (verify): the test
 * damage a bug, a disk or a hand could do. `rawSublevels` reaches a running
 * LevelStore's sublevels, so a put goes to LevelDB without a feed entry and
 * without the digest; `rawLevel` opens a stopped agent's store directly.
 */
import { join } from 'node:path'
import { Level } from 'level'
import { SUBLEVELS } from '../../store/keys.js'
import type { Sublevels } from '../../store/level-db.js'
import type { Store, StoredObject } from '../../store/types.js'

/** The sublevels under a LevelStore (not part of the Store interface: tests only). */
export function rawSublevels (store: Store): Sublevels {
  const subs = (store as unknown as { subs?: Sublevels }).subs
  if (subs === undefined) throw new Error('not a LevelStore')
  return subs
}

/** Change a stored record in place: no new version, no feed entry, no digest update. */
export async function corruptRecord (store: Store, uid: string, change: (record: StoredObject) => StoredObject): Promise<void> {
  const record = await store.getObject(uid)
  if (record === undefined) throw new Error(`no record ${uid} to corrupt`)
  await rawSublevels(store).objects.put(uid, change(record))
}

/** The object records of a stopped agent's store, through LevelDB itself. */
export async function withRawObjects<T> (nodeDir: string, fn: (objects: ReturnType<Level<string, unknown>['sublevel']>) => Promise<T>): Promise<T> {
  const db = new Level<string, unknown>(join(nodeDir, 'data', 'store'), { valueEncoding: 'utf8' })
  await db.open()
  try {
    return await fn(db.sublevel<string, StoredObject>(SUBLEVELS.objects, { valueEncoding: 'json' }) as never)
  } finally {
    await db.close()
  }
}
