/**
 * The mesh uid ↔ SENAITE uid/path table (DESIGN.md "Data model": SENAITE
 * assigns its own UIDs and ids on create). Objects that originated in this
 * site keep their SENAITE UID as mesh uid; objects created here from other
 * labs get a row. Rows live in the agent's store (aux space `senaite:map`),
 * written in the same transaction as the versions they belong to, plus a
 * write-ahead journal: a create that SENAITE accepted is journalled (fsync)
 * before anything else, so a crash between the create and the store commit
 * cannot make the next attempt create the object twice.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Store } from '../../../store/types.js'

export const MAP_SPACE = 'senaite:map'
export const HASH_SPACE = 'senaite:hash'
export const POLL_SPACE = 'senaite:poll'
/** versions written with references left out because their targets were not in the site yet (reference-patches.ts) */
export const PATCH_SPACE = 'senaite:patch'

export interface LocalRef {
  /** SENAITE UID in this site */
  readonly uid: string
  /** physical path in this site */
  readonly path: string
  /** SENAITE's id for it in this site (may differ from the mesh id) */
  readonly id: string
}

export interface Mapping {
  local (meshUid: string): LocalRef | undefined
  mesh (senaiteUid: string): string | undefined
  hash (meshUid: string): string | undefined
  /** remember in memory (the caller persists through ConnectorRows or the store) */
  set (meshUid: string, ref: LocalRef): void
  setHash (meshUid: string, hash: string): void
  /** fsync'd record of a create SENAITE accepted */
  journal (meshUid: string, ref: LocalRef): Promise<void>
  readonly size: number
  close (): Promise<void>
}

export async function loadMapping (store: Store, journalFile: string): Promise<Mapping> {
  const m2l = new Map<string, LocalRef>()
  const l2m = new Map<string, string>()
  const hashes = new Map<string, string>()
  for await (const [mesh, ref] of store.iterateAux<LocalRef>(MAP_SPACE)) { m2l.set(mesh, ref); l2m.set(ref.uid, mesh) }
  for await (const [mesh, hash] of store.iterateAux<string>(HASH_SPACE)) hashes.set(mesh, hash)

  // replay creates that were journalled but whose transaction never committed
  const replay: Array<[string, LocalRef]> = []
  try {
    for (const line of (await readFile(journalFile, 'utf8')).split('\n')) {
      if (line.trim() === '') continue
      try {
        const { mesh, ref } = JSON.parse(line) as { mesh: string, ref: LocalRef }
        if (!m2l.has(mesh)) replay.push([mesh, ref])
      } catch {
        // a torn last line from a crash mid-write: the create it describes is retried by uid lookup
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (replay.length > 0) {
    await store.write((tx) => { for (const [mesh, ref] of replay) tx.putAux(MAP_SPACE, mesh, ref) })
    for (const [mesh, ref] of replay) { m2l.set(mesh, ref); l2m.set(ref.uid, mesh) }
  }
  await mkdir(dirname(journalFile), { recursive: true })
  await rm(journalFile, { force: true })
  const handle = await open(journalFile, 'a', 0o600)

  return {
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
      await handle.write(`${JSON.stringify({ mesh, ref })}\n`)
      await handle.datasync()
    },
    get size () { return m2l.size },
    async close () { await handle.close() }
  }
}

/** Whether a mesh uid is a SENAITE uid we already know as ours (an object that originated in this site). */
export function isOwn (mapping: Mapping, meshUid: string): boolean {
  return mapping.mesh(meshUid) === meshUid
}

/** This site's uid for a mesh object: its mapped uid, or the mesh uid itself when the object is ours; undefined when not here. */
export function siteUidOf (mapping: Mapping, meshUid: string): string | undefined {
  return mapping.local(meshUid)?.uid ?? (isOwn(mapping, meshUid) ? meshUid : undefined)
}
