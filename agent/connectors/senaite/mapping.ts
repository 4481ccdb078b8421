/**
 * The mesh uid ↔ SENAITE uid/path table (DESIGN.md "Data model": SENAITE
 * assigns its own UIDs and ids on create). Objects that originated in this
 * site keep their SENAITE UID as mesh uid; objects created here from other
 * labs get a row. Rows live in the agent's store (aux space `senaite:map`),
 * written in the same transaction as the versions they belong to, behind a
 * write-ahead journal (journal.ts): a create is journalled before it is sent
 * and again once the site made it, so a crash or a lost answer never makes
 * the next attempt create the object twice.
 */
import type { Store } from '../../../store/types.js'
import { openJournal, readJournal, type Attempt, type JournalFile, type LocalRef } from './journal.js'

export type { Attempt, LocalRef } from './journal.js'

export const MAP_SPACE = 'senaite:map'
export const HASH_SPACE = 'senaite:hash'
export const POLL_SPACE = 'senaite:poll'
/** versions written with references left out because their targets were not in the site yet (reference-patches.ts) */
export const PATCH_SPACE = 'senaite:patch'

export interface Mapping {
  local (meshUid: string): LocalRef | undefined
  mesh (senaiteUid: string): string | undefined
  hash (meshUid: string): string | undefined
  /** remember in memory (the caller persists through ConnectorRows or the store) */
  set (meshUid: string, ref: LocalRef): void
  setHash (meshUid: string, hash: string): void
  /** fsync'd record that the site made `ref` for `meshUid` (it resolves the mesh uid's attempts) */
  journal (meshUid: string, ref: LocalRef): Promise<void>
  /** fsync'd record of a create about to be sent */
  attempt (attempt: Attempt): Promise<void>
  /** the mesh uid's attempts left nothing in the site (or what they left is adopted) */
  resolved (meshUid: string): Promise<void>
  /** unresolved attempts to create this mesh uid, oldest first */
  attempts (meshUid: string): readonly Attempt[]
  /** every unresolved attempt */
  allAttempts (): readonly Attempt[]
  readonly size: number
  close (): Promise<void>
}

export async function loadMapping (store: Store, journalFile: string): Promise<Mapping> {
  const m2l = new Map<string, LocalRef>()
  const l2m = new Map<string, string>()
  const hashes = new Map<string, string>()
  for await (const [mesh, ref] of store.iterateAux<LocalRef>(MAP_SPACE)) { m2l.set(mesh, ref); l2m.set(ref.uid, mesh) }
  for await (const [mesh, hash] of store.iterateAux<string>(HASH_SPACE)) hashes.set(mesh, hash)

  // creates the site made whose store transaction never committed
  const contents = await readJournal(journalFile)
  const replay = [...contents.refs].filter(([mesh]) => !m2l.has(mesh))
  if (replay.length > 0) {
    await store.write((tx) => { for (const [mesh, ref] of replay) tx.putAux(MAP_SPACE, mesh, ref) })
    for (const [mesh, ref] of replay) { m2l.set(mesh, ref); l2m.set(ref.uid, mesh) }
  }
  const pending = new Map([...contents.attempts].filter(([mesh]) => !m2l.has(mesh)))
  const file: JournalFile = await openJournal(journalFile, [...pending.values()].flat())

  const mapping: Mapping = {
    local: (mesh) => m2l.get(mesh),
    mesh: (uid) => l2m.get(uid),
    hash: (mesh) => hashes.get(mesh),
    set (mesh, ref) {
      const old = m2l.get(mesh)
      if (old !== undefined && old.uid !== ref.uid) l2m.delete(old.uid)
      m2l.set(mesh, ref)
      l2m.set(ref.uid, mesh)
    },
    setHash: (mesh, hash) => { hashes.set(mesh, hash) },
    async journal (mesh, ref) {
      await file.append({ mesh, ref }, true)
      pending.delete(mesh)
    },
    async attempt (attempt) {
      await file.append({ attempt }, true)
      pending.set(attempt.mesh, [...(pending.get(attempt.mesh) ?? []), attempt])
    },
    async resolved (mesh) {
      if (!pending.has(mesh)) return
      pending.delete(mesh)
      await file.append({ resolved: mesh }, false)
    },
    attempts: (mesh) => pending.get(mesh) ?? [],
    allAttempts: () => [...pending.values()].flat(),
    get size () { return m2l.size },
    async close () { await file.close() }
  }
  return mapping
}

/** Whether a mesh uid is a SENAITE uid we already know as ours (an object that originated in this site). */
export function isOwn (mapping: Mapping, meshUid: string): boolean {
  return mapping.mesh(meshUid) === meshUid
}

/** This site's uid for a mesh object: its mapped uid, or the mesh uid itself when the object is ours; undefined when not here. */
export function siteUidOf (mapping: Mapping, meshUid: string): string | undefined {
  return mapping.local(meshUid)?.uid ?? (isOwn(mapping, meshUid) ? meshUid : undefined)
}
