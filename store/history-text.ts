/**
 * An object's history row (history.ts) appended to as the JSON text it is
 * stored as, not parsed and serialised again on every write: the row grows
 * to `history.versions` entries (~250 bytes each), and parsing and
 * re-encoding all of them cost more per update than the entries added.
 *
 * The result is byte for byte the text the row's `json` encoding writes for
 * `appendEntries(JSON.parse(row), entries, keep)`: a stored row is
 * JSON.stringify output, which parses and serialises back to itself, and
 * JSON.stringify of an array is its items' texts joined by commas. Entries
 * are told apart without parsing: every entry is an object whose first key
 * is `event` (entryOf), and `{"event":"` cannot occur anywhere else in a
 * row — inside strings quotes are escaped, and the only other objects in an
 * entry are vectors, whose values are numbers. A row not shaped so (none is
 * written so; an older layout) takes the parse path.
 */
import { appendEntries, type HistoryEntry } from './history.js'

const FIRST = '[{"event":"'
const NEXT = '},{"event":"'

/** Where each entry of a row's text begins (its `{`), or undefined when the row is not shaped as described above. */
export function entryStarts (row: string): number[] | undefined {
  if (!row.startsWith(FIRST) || !row.endsWith('}]')) return undefined
  const starts = [1]
  for (let at = row.indexOf(NEXT, 1); at !== -1; at = row.indexOf(NEXT, at + 2)) starts.push(at + 2)
  return starts
}

/** The text of `row` (a stored row's text, or undefined: none) with `entries` appended, keeping the newest `keep`. */
export function appendEntriesText (row: string | undefined, entries: readonly HistoryEntry[], keep: number): string {
  const starts = row === undefined ? [] : entryStarts(row)
  if (starts === undefined || entries.length === 0) {
    return JSON.stringify(appendEntries(row !== undefined ? JSON.parse(row) as HistoryEntry[] : undefined, entries, keep))
  }
  // how many entries go, oldest first: when that is all the row's, only (the newest of) `entries` stay
  const drop = starts.length + entries.length - keep
  if (starts.length === 0 || drop >= starts.length) return JSON.stringify(drop > starts.length ? entries.slice(drop - starts.length) : entries)
  return `[${row!.slice(starts[Math.max(0, drop)], -1)},${JSON.stringify(entries).slice(1)}`
}
