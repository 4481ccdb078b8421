/**
 * The type index (`types` sublevel: `<type>\x00<uid>` → '') during and after
 * a bulk load.
 *
 * An initial sync into an empty store is a bulk load: its transactions skip
 * the type index row of every object (one of the three rows an object
 * costs), and the index is built afterwards in large sorted runs (`build`).
 * Where the index stands is the meta row `typeIndex` ({ cursor }): the index
 * holds exactly the rows of the objects whose uid sorts before `cursor`;
 * without the row it is complete. Every transaction follows that rule for
 * its own objects (`indexed`): an object before the cursor gets its rows
 * written and removed as ever, one at or after it gets none, and a
 * transaction that skipped a row writes the meta row in its batch — so the
 * row is on disk whenever a skipped row's object is. The build moves the
 * cursor a chunk of objects at a time, each chunk's rows and the new cursor
 * in one batch, between two transactions (nothing is being written while it
 * reads the chunk), and deletes the meta row with its last chunk. A SIGKILL
 * anywhere leaves a store whose meta row says exactly which rows exist; the
 * next build resumes at its cursor. While the row exists, listing by type
 * scans the objects instead of the index.
 */
import { typeKey } from './keys.js'
import type { BatchOp, Sublevels } from './sublevels.js'
import type { StoredObject } from './types.js'

/** objects indexed per batch of a build */
export const TYPE_INDEX_CHUNK = 5000

export interface TypeIndexState {
  /** undefined: the index is complete */
  readonly cursor: string | undefined
}

/** the smallest string after `uid` */
function after (uid: string): string {
  return `${uid}\x00`
}

/** uid and type of one stored record, from its JSON text (putObject writes `uid`, then `type`, first) */
const HEAD = /^\{"uid":("(?:[^"\\]|\\.)*"),"type":("(?:[^"\\]|\\.)*"),/
export function typeOfRecordText (text: string): string {
  const head = HEAD.exec(text)
  return head !== null ? JSON.parse(head[2]!) as string : (JSON.parse(text) as { type: string }).type
}

/**
 * The next chunk of a build from `cursor`: the rows of up to `limit` objects
 * and the meta operation that moves the cursor past them (or, at the end,
 * deletes the meta row). Reads the committed store: the caller runs it
 * between two writes and commits the operations as one batch.
 */
export async function nextChunk (subs: Sublevels, cursor: string, metaKey: string, limit = TYPE_INDEX_CHUNK): Promise<{ ops: BatchOp[], cursor: string | undefined, objects: number }> {
  const ops: BatchOp[] = []
  let last: string | undefined
  let objects = 0
  for await (const [uid, text] of subs.objects.iterator({ gte: cursor, limit, valueEncoding: 'utf8' }) as AsyncIterable<[string, string]>) {
    ops.push({ type: 'put', sublevel: subs.types, key: typeKey(typeOfRecordText(text), uid), value: '' })
    last = uid
    objects++
  }
  const done = objects < limit
  const next = done ? undefined : after(last!)
  ops.push(next === undefined
    ? { type: 'del', sublevel: subs.meta, key: metaKey }
    : { type: 'put', sublevel: subs.meta, key: metaKey, value: { cursor: next } })
  return { ops, cursor: next, objects }
}

/** Up to `limit` objects of one type in uid order after `after`, by scanning them all: while the index is incomplete. */
export async function scanType (subs: Sublevels, type: string, after: string | undefined, limit: number): Promise<StoredObject[]> {
  const items: StoredObject[] = []
  for await (const object of subs.objects.values(after !== undefined ? { gt: after } : {}) as AsyncIterable<StoredObject>) {
    if (object.type === type) items.push(object)
    if (items.length >= limit) break
  }
  return items
}
