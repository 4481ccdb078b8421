/**
 * The key table: every LevelDB key prefix labmesh writes, in one place (after
 * syncthing's keyer.go). Each prefix is a `level` sublevel, so a key on disk
 * reads `!<prefix>!<key>`.
 *
 * | sublevel | key                  | value                         | meaning |
 * | -------- | -------------------- | ----------------------------- | ------- |
 * | `o`      | uid                  | StoredObject (JSON)           | objects: current version, siblings, seq, via |
 * | `f`      | seq (16 digits)      | uid                           | feed: the latest version of each uid, once, by local sequence |
 * | `t`      | type + `\x00` + uid  | digest leaf (text; '' before schema 7) | type index, for listing by type in uid order; its value is the record's digest leaf (digest-rows.ts) |
 * | `c`      | peerId               | Checkpoint (JSON)             | checkpoints: per remote, last applied seq + epoch + rules hash |
 * | `x`      | uid                  | number of siblings            | conflicts: uids that hold concurrent versions |
 * | `e`      | uid                  | FailedEntry (JSON)            | failed: parked objects with reason and retry schedule |
 * | `a`      | space + `\x00` + key | JSON                          | aux: connector-owned rows (e.g. SENAITE uid ↔ path map) |
 * | `b`      | hash + `\x00` + uid  | ''                            | blob references: the objects whose versions (current or sibling) reference a blob (schema 4) |
 * | `g`      | hash                 | ms since the epoch (JSON)     | blob orphan marks: when a reference to the blob last went away (garbage collection's grace; schema 4) |
 * |          | `agent:echo-hold` …  | EchoHoldRow (JSON)            | aux space of the agent itself: objects the echo-loop guard holds (schema 2) |
 * |          | `senaite:file` + URL | FileRow (JSON)                | aux space of the SENAITE connector: which blob a site's file (download URL) was, as of the object's `modified` (agent/connectors/senaite/attachments.ts; schema 8) |
 * | `h`      | uid                  | HistoryEntry[] (JSON)         | history: the last versions seen of each object, oldest first (store/history.ts; schema 3) |
 * | `p`      | uid + `\x00` + slot  | PastVersion (JSON)            | past versions: recent replaced versions of each object, with data, in a ring of slots: merge bases (store/past-versions.ts; schema 6) |
 * | `m`      | name                 | JSON                          | meta: `epoch`, `domain`, `schema`, `head`, `objects`, `upgrade`, `typeIndex`, `entry` (schema 9) |
 * | `v`      | `G` + group JSON     | count and hash (text)         | digest aggregates: per (type, origin), the XOR of its leaves (verify; schema 7) |
 *
 * `schema` is the store's format version (store/upgrades/: one step per
 * version after 1); `upgrade` exists only while a step is in progress and
 * holds its resume point.
 *
 * Blob bytes are not in LevelDB: they are files beside it
 * (store/blobs/blob-store.ts, `<dataDir>/blobs`). `b` and `g` change in the
 * same batch as the objects whose references they record; `hash` is the
 * reference's `sha256:<hex>` text.
 */

export const SUBLEVELS = {
  objects: 'o',
  feed: 'f',
  types: 't',
  checkpoints: 'c',
  conflicts: 'x',
  failed: 'e',
  aux: 'a',
  blobRefs: 'b',
  blobOrphans: 'g',
  history: 'h',
  past: 'p',
  meta: 'm',
  digest: 'v'
} as const

/** Aux spaces the agent itself keeps (connectors name theirs `<kind>:<what>`). */
export const AGENT_AUX_SPACES = {
  /** mesh uid → the echo-loop guard's hold on it (agent/apply/echo-holds.ts); since schema 2 */
  echoHolds: 'agent:echo-hold'
} as const

export const META_KEYS = {
  epoch: 'epoch',
  domain: 'domain',
  schema: 'schema',
  head: 'head',
  objects: 'objects',
  upgrade: 'upgrade',
  /** { cursor }: the type index is being built after a bulk load (type-index.ts); absent when complete */
  typeIndex: 'typeIndex',
  /**
   * the vector entry this agent's local writes raise, `<domain>~<tag>`,
   * written by a restore (store/backup/restore.ts; schema 9); absent: the
   * domain (a store never restored)
   */
  entry: 'entry'
} as const


const SEQ_WIDTH = 16

/** Feed keys sort in numeric order: zero-padded decimal. */
export function seqKey (seq: number): string {
  return seq.toString().padStart(SEQ_WIDTH, '0')
}

export function parseSeqKey (key: string): number {
  return Number.parseInt(key, 10)
}

export function typeKey (type: string, uid: string): string {
  return `${type}\x00${uid}`
}

/** One slot of an object's past versions; `pastRange` spans them all. */
export function pastKey (uid: string, slot: number): string {
  return `${uid}\x00${slot}`
}

export function pastRange (uid: string): { gte: string, lt: string } {
  return { gte: `${uid}\x00`, lt: `${uid}\x01` }
}

export function auxKey (space: string, key: string): string {
  return `${space}\x00${key}`
}

/** `b` rows: every referrer of one blob sorts together, in uid order */
export function blobRefKey (hash: string, uid: string): string {
  return `${hash}\x00${uid}`
}

/** the key range of one blob's `b` rows */
export function blobRefRange (hash: string): { gt: string, lt: string } {
  return { gt: `${hash}\x00`, lt: `${hash}\x01` }
}
