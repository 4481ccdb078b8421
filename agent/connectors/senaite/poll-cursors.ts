/**
 * Where each type's next poll starts: the newest `modified` the site itself
 * reported for it (so the site's clock and ours need not agree), kept as
 * POLL_SPACE rows. Loaded once; a cursor only moves forward, and only for
 * a type none of whose items the poll left to the next one.
 */
import type { Store } from '../../../store/types.js'
import { POLL_SPACE } from './mapping.js'

export interface PollCursors {
  /** the cursors by type, read from the store at the first call */
  load (): Promise<Record<string, string>>
  /** store the newest dates a poll saw, except for the types it held items back of */
  advance (newest: Readonly<Record<string, string>>, heldBack: ReadonlySet<string>): Promise<void>
}

export function createPollCursors (store: Store): PollCursors {
  let cursors: Record<string, string> | undefined

  async function load (): Promise<Record<string, string>> {
    if (cursors !== undefined) return cursors
    cursors = {}
    for await (const [type, iso] of store.iterateAux<string>(POLL_SPACE)) cursors[type] = iso
    return cursors
  }

  return {
    load,
    async advance (newest, heldBack) {
      const cursorOf = await load()
      const updates = Object.entries(newest).filter(([type, iso]) => !heldBack.has(type) && (cursorOf[type] === undefined || Date.parse(iso) > Date.parse(cursorOf[type]!)))
      if (updates.length === 0) return
      await store.write((tx) => { for (const [type, iso] of updates) tx.putAux(POLL_SPACE, type, iso) })
      for (const [type, iso] of updates) cursorOf[type] = iso
    }
  }
}
