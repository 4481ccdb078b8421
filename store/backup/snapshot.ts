/**
 * A consistent view of a whole store: one explicit LevelDB snapshot
 * (classic-level 3, `db.snapshot()`) from which the meta rows, the row
 * count and every row are read. LevelDB commits each batch atomically and
 * the store commits each transaction as one batch (objects, feed, indexes,
 * checkpoints and the meta `head`/`objects` rows together), so the snapshot
 * holds whole transactions only: a checkpoint never runs ahead of the
 * objects it covers, nor the head behind the feed. Writes go on while it is
 * read; LevelDB keeps the snapshot's versions of rows until it is closed.
 *
 * One iterator over the root database reads every sublevel (a sublevel is
 * a key prefix), keys and values as the text the store wrote.
 */
import type { Level } from 'level'
import { META_KEYS, SUBLEVELS } from '../keys.js'
import type { SnapshotInfo } from './format.js'

export interface StoreSnapshot {
  readonly info: SnapshotInfo
  /** every row, in key order, as stored: `[key with sublevel prefix, value text]` */
  rows (): AsyncIterable<[string, string]>
  close (): Promise<void>
}

const META_PREFIX = `!${SUBLEVELS.meta}!`

/** Take the snapshot now (synchronously, at the call), then read its meta rows and count its rows. */
export async function openStoreSnapshot (db: Level<string, unknown>): Promise<StoreSnapshot> {
  const snapshot = db.snapshot()
  try {
    const names = [META_KEYS.domain, META_KEYS.schema, META_KEYS.epoch, META_KEYS.head, META_KEYS.objects]
    const texts = await db.getMany(names.map((n) => META_PREFIX + n), { snapshot, valueEncoding: 'utf8' }) as Array<string | undefined>
    const [domain, schema, epoch, head, objects] = texts.map((t) => t !== undefined ? JSON.parse(t) as unknown : undefined)
    // a count first (keys only, the same snapshot): exact progress and a total the restore checks
    let rows = 0
    for await (const _ of db.keys({ snapshot })) rows++ // eslint-disable-line @typescript-eslint/no-unused-vars
    const info: SnapshotInfo = {
      domain: String(domain ?? ''),
      // a store without the row predates schema versions: schema 1
      schema: typeof schema === 'number' ? schema : 1,
      epoch: String(epoch ?? ''),
      head: typeof head === 'number' ? head : 0,
      objects: typeof objects === 'number' ? objects : 0,
      rows
    }
    return {
      info,
      rows: () => db.iterator({ snapshot, keyEncoding: 'utf8', valueEncoding: 'utf8' }) as AsyncIterable<[string, string]>,
      close: async () => { await snapshot.close() }
    }
  } catch (err) {
    await snapshot.close()
    throw err
  }
}
