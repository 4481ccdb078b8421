/**
 * History rows appended to as text (store/history-text.ts): byte for byte
 * what serialising the parsed row with the entries appended gives, for every
 * kind of entry, row length and `keep`; rows not shaped as the store writes
 * them take the parse path and still give that text.
 */
import { describe, expect, it } from 'vitest'
import type { ObjectVersion } from '../../protocol/object.js'
import { appendEntries, entriesForWrite, rejectedEntry, seededEntries, type HistoryEntry } from '../../store/history.js'
import { appendEntriesText, entryStarts } from '../../store/history-text.js'
import type { StoredObject } from '../../store/types.js'
import { withSeed } from '../helpers/seeded.js'

const FILE = 'test/unit/history-text.test.ts'

const v = (vector: Record<string, number>, data: Record<string, unknown>, extra: Partial<ObjectVersion> = {}): ObjectVersion => ({
  uid: 'u', type: 'Sample', id: 'S-1', parent: null, refs: [], data, vector, origin: 'lab-a', deleted: false, at: 5, ...extra
})
const rec = (current: ObjectVersion, conflicts: ObjectVersion[] = []): StoredObject => ({ ...current, conflicts, via: 'hub', seq: 1 })
const sig = { by: 'lab-c', peer: 'P', h: 'h'.repeat(43), sig: 's'.repeat(86) }

/** entries of every kind, with strings that look like the row's own punctuation */
function someEntries (n: number, rng: { int: (n: number) => number }): HistoryEntry[] {
  const out: HistoryEntry[] = []
  for (let i = 0; i < n; i++) {
    const tricky = { note: '},{"event":"x', 'é"\\': [i, null, { event: 'nested' }] }
    const prev = rec(v({ 'lab-a': i + 1, event: 2 }, { k: i }))
    const next = rec(v({ 'lab-a': i + 2, event: 2, 7: 1 }, { k: i + 1, ...tricky }, { id: `S-${i}"}]`, ...(i % 3 === 0 ? { sig } : {}) }), i % 4 === 0 ? [v({ 'lab-z': 1 }, { z: 1 })] : [])
    const kind = rng.int(3)
    if (kind === 0) out.push(...entriesForWrite(prev, next, { appliedAt: i, source: 'hub', domain: 'lab-b' }))
    else if (kind === 1) out.push(rejectedEntry(next, { appliedAt: i, via: 'hub', reason: 'bad "sig" },{"event":"', held: prev }))
    else out.push(...seededEntries(next))
  }
  return out
}

describe('history rows appended as text', () => {
  it('give exactly the text of the parsed row with the entries appended and the oldest dropped', async () => {
    await withSeed('history-text', FILE, async (rng) => {
      for (let round = 0; round < 300; round++) {
        const keep = 1 + rng.int(8)
        const row = rng.int(5) === 0 ? undefined : someEntries(rng.int(10), rng)
        const rowText = row !== undefined ? JSON.stringify(row) : undefined
        const entries = someEntries(rng.int(4), rng)
        const expected = JSON.stringify(appendEntries(row, entries, keep))
        expect(appendEntriesText(rowText, entries, keep)).toBe(expected)
        if (rowText !== undefined && row!.length > 0) expect(entryStarts(rowText)).toHaveLength(row!.length)
      }
    })
  })

  it('parse rows not shaped as the store writes them, with the same result', () => {
    const entries = someEntries(2, { int: () => 0 })
    const odd = JSON.stringify([{ vector: {}, event: 'version' }])
    expect(entryStarts(odd)).toBeUndefined()
    expect(appendEntriesText(odd, entries, 5)).toBe(JSON.stringify(appendEntries(JSON.parse(odd) as HistoryEntry[], entries, 5)))
    expect(appendEntriesText('[]', entries, 1)).toBe(JSON.stringify(entries.slice(-1)))
    expect(appendEntriesText(JSON.stringify(entries), [], 1)).toBe(JSON.stringify(entries.slice(-1)))
  })
})
