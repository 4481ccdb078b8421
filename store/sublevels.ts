/**
 * The types of the store's LevelDB sublevels and batch operations, apart
 * from the modules that use them (the database, transactions, upgrade steps)
 * so that none of those has to import another for a type.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- level's sublevel generics do not compose with mixed batches */
export type Sub = any
/** `text`: the value already encoded by the sublevel's encoding (put as is) */
export type BatchOp = { type: 'put', sublevel: Sub, key: string, value: unknown, text?: string } | { type: 'del', sublevel: Sub, key: string }

/** The store's sublevels (keys.ts), each with its own value encoding. */
export interface Sublevels {
  readonly objects: Sub
  readonly feed: Sub
  readonly types: Sub
  readonly checkpoints: Sub
  readonly conflicts: Sub
  readonly failed: Sub
  readonly aux: Sub
  readonly blobRefs: Sub
  readonly blobOrphans: Sub
  readonly history: Sub
  readonly past: Sub
  readonly meta: Sub
  /** the anti-entropy digest: leaf and aggregate rows (digest-rows.ts) */
  readonly digest: Sub
}
