/**
 * Object history: the versions this agent has seen of each object, newest
 * last, at most `history.versions` of them (oldest dropped first). One row
 * per object in the `h` sublevel, written by the same transaction as the
 * object (level-write-tx.ts putObject), so history never disagrees with
 * what the store holds.
 *
 * Which entries a write adds is decided here, purely, from the record
 * before and after it: a new current version (`version`, or `resolution`
 * when it clears a conflict), a version kept beside it or taking over
 * concurrently (`conflict`); versions refused for a bad signature are added
 * by the apply path (`rejected`); the upgrade that introduced history seeds
 * what each object held then (`seeded`).
 */
import { changedFields } from '../protocol/changes.js'
import type { ObjectVersion } from '../protocol/object.js'
import { sameVersion } from '../protocol/same-version.js'
import { compare, domainOfEntry } from '../protocol/version-vector.js'
import type { HistoryEntry, HistoryEvent, StoredObject } from './types.js'

export type { HistoryEntry, HistoryEvent, SignatureState } from './types.js'

export { DEFAULT_HISTORY_VERSIONS } from '../protocol/constants.js'

export interface WriteContext {
  /** when the write is applied */
  readonly appliedAt: number
  /** the peer whose batch the write applies (undefined: a local write) */
  readonly source: string | undefined
  /** this agent's domain */
  readonly domain: string
}

// one version: its vector and what it says (a restored agent may reuse a vector for other content: protocol/same-version.ts)
const sameHeld = (a: ObjectVersion, b: ObjectVersion): boolean => compare(a.vector, b.vector) === 'equal' && sameVersion(a, b)

/** The entries a write from `prev` to `next` adds (none when it only changed store-local fields). */
export function entriesForWrite (prev: StoredObject | undefined, next: StoredObject, context: WriteContext): HistoryEntry[] {
  const held: ObjectVersion[] = prev !== undefined ? [prev, ...prev.conflicts] : []
  const isNew = (v: ObjectVersion): boolean => !held.some((h) => sameHeld(h, v))
  const out: HistoryEntry[] = []
  if (isNew(next)) {
    const local = next.via === null
    out.push(entryOf(next, {
      event: currentEvent(prev, next),
      origin: next.sig?.by ?? (local ? context.domain : raisedEntry(prev, next)),
      appliedAt: context.appliedAt,
      via: next.via,
      changed: prev !== undefined ? changedFields(prev, next) : null
    }))
  }
  for (const sibling of next.conflicts) {
    if (!isNew(sibling)) continue
    out.push(entryOf(sibling, {
      event: 'conflict',
      origin: sibling.sig?.by ?? raisedEntry(prev, sibling),
      appliedAt: context.appliedAt,
      via: context.source ?? null,
      changed: changedFields(next, sibling)
    }))
  }
  return out
}

function currentEvent (prev: StoredObject | undefined, next: StoredObject): HistoryEvent {
  if (prev === undefined) return 'version'
  const order = compare(next.vector, prev.vector)
  if (order !== 'newer') return 'conflict'
  return prev.conflicts.length > 0 && next.conflicts.length === 0 ? 'resolution' : 'version'
}

/**
 * The one domain whose vector entry `v` raised over what was held, if exactly
 * one did (a restore entry `<domain>~<tag>` is its domain's).
 */
function raisedEntry (prev: StoredObject | undefined, v: ObjectVersion): string | null {
  const before = prev?.vector ?? {}
  const raised = Object.keys(v.vector).filter((d) => (v.vector[d] ?? 0) > (before[d] ?? 0))
  return raised.length === 1 ? domainOfEntry(raised[0]!) : null
}

type EntryFacts = Pick<HistoryEntry, 'event' | 'origin' | 'appliedAt' | 'via' | 'changed'> & { readonly reason?: string }

function entryOf (v: ObjectVersion, facts: EntryFacts): HistoryEntry {
  return {
    event: facts.event,
    vector: v.vector,
    deleted: v.deleted,
    id: v.id,
    ...(v.sig?.id !== undefined ? { signedId: v.sig.id } : {}),
    origin: facts.origin,
    peerId: v.sig?.peer ?? null,
    signature: v.sig !== undefined ? 'valid' : 'unsigned',
    at: v.at,
    appliedAt: facts.appliedAt,
    via: facts.via,
    changed: facts.changed,
    ...(facts.reason !== undefined ? { reason: facts.reason } : {})
  }
}

/** A version refused because its signature does not verify (it is parked, not applied). */
export function rejectedEntry (v: ObjectVersion, facts: { appliedAt: number, via: string, reason: string, held: ObjectVersion | undefined }): HistoryEntry {
  return {
    ...entryOf(v, { event: 'rejected', origin: v.sig?.by ?? null, appliedAt: facts.appliedAt, via: facts.via, changed: facts.held !== undefined ? changedFields(facts.held, v) : null, reason: facts.reason }),
    signature: 'bad'
  }
}

/** What an object held when history began (the upgrade step): its current version and siblings. */
export function seededEntries (record: StoredObject): HistoryEntry[] {
  const seeded = (v: ObjectVersion, via: string | null): HistoryEntry => entryOf(v, { event: 'seeded', origin: v.sig?.by ?? null, appliedAt: null, via, changed: null })
  return [seeded(record, record.via), ...record.conflicts.map((c) => seeded(c, null))]
}

/** `row` with `entries` appended, keeping the newest `keep`. */
export function appendEntries (row: readonly HistoryEntry[] | undefined, entries: readonly HistoryEntry[], keep: number): HistoryEntry[] {
  const all = row !== undefined && row.length > 0 ? [...row, ...entries] : [...entries]
  return all.length > keep ? all.slice(all.length - keep) : all
}
