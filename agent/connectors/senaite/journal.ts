/**
 * The SENAITE connector's write-ahead journal: an append-only file in the
 * agent's data directory, one JSON line per record, fsync'd before the
 * caller goes on. What it guards against is a create the site made while
 * the agent did not learn of it — the answer lost, the agent killed before
 * the store committed, a failure the site answered after making part of
 * the object — so that the next attempt adopts that object instead of
 * making a second one (create.ts, leftovers.ts).
 *
 * Records: `{attempt}` — a create is about to be sent (before the request);
 * `{mesh, ref}` — the site made this object for that mesh uid (as soon as
 * its answer is in, before the store transaction); `{resolved}` — an
 * attempt is known to have left nothing (not fsync'd: losing it costs one
 * more look at the site). At open, refs the store lacks are replayed into
 * it (mapping.ts) and the file is rewritten with only the attempts still
 * unresolved. Appends are group-committed: concurrent creates share an fsync.
 */
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'

/** A SENAITE object of this site: its uid, path and id there. */
export interface LocalRef {
  /** SENAITE UID in this site */
  readonly uid: string
  /** physical path in this site */
  readonly path: string
  /** SENAITE's id for it in this site (may differ from the mesh id) */
  readonly id: string
}

/** A create sent (or about to be) and not known to have succeeded or left nothing. */
export interface Attempt {
  readonly mesh: string
  readonly type: string
  readonly container: { readonly uid: string, readonly path: string }
  /** when it was sent (ISO 8601, this agent's clock) */
  readonly at: string
  /** fields it sent that identify what it made (title first) */
  readonly marker: Readonly<Record<string, string | number | boolean>>
}

export type JournalRecord = { readonly mesh: string, readonly ref: LocalRef } | { readonly attempt: Attempt } | { readonly resolved: string }

export interface JournalContents {
  /** the objects made, by mesh uid (the last record wins) */
  readonly refs: Map<string, LocalRef>
  /** attempts not followed by a ref or a resolution for their mesh uid */
  readonly attempts: Map<string, Attempt[]>
}

export interface JournalFile {
  /** append one record; `durable`: resolves only once it is on disk */
  append (record: JournalRecord, durable: boolean): Promise<void>
  close (): Promise<void>
}

/** What the journal holds (a torn last line, from a crash mid-write, is skipped: its create is looked for at the site). */
export async function readJournal (file: string): Promise<JournalContents> {
  const refs = new Map<string, LocalRef>()
  const attempts = new Map<string, Attempt[]>()
  let text = ''
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    let record: Partial<{ mesh: string, ref: LocalRef, attempt: Attempt, resolved: string }>
    try {
      record = JSON.parse(line) as typeof record
    } catch {
      continue
    }
    if (record.attempt !== undefined) {
      attempts.set(record.attempt.mesh, [...(attempts.get(record.attempt.mesh) ?? []), record.attempt])
    } else if (typeof record.resolved === 'string') {
      attempts.delete(record.resolved)
    } else if (typeof record.mesh === 'string' && record.ref !== undefined) {
      refs.set(record.mesh, record.ref)
      attempts.delete(record.mesh)
    }
  }
  return { refs, attempts }
}

/** Start the journal afresh with only `pending` in it (written whole, then renamed over the old file), open for appending. */
export async function openJournal (file: string, pending: readonly Attempt[]): Promise<JournalFile> {
  await mkdir(dirname(file), { recursive: true })
  const fresh = `${file}.new`
  const writer = await open(fresh, 'w', 0o600)
  try {
    await writer.write(pending.map((attempt) => `${JSON.stringify({ attempt })}\n`).join(''))
    await writer.datasync()
  } finally {
    await writer.close()
  }
  await rename(fresh, file)
  await syncDir(dirname(file))
  return groupCommitted(await open(file, 'a', 0o600))
}

async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch {
    // some file systems cannot fsync a directory; the rename is then as durable as they make it
  } finally {
    await handle.close()
  }
}

/** Appends queued while one write runs go out together, with one fsync when any of them asked for one. */
function groupCommitted (handle: FileHandle): JournalFile {
  let queued: Array<{ line: string, durable: boolean, done: { resolve: () => void, reject: (err: unknown) => void } }> = []
  let flushing: Promise<void> | undefined

  // the loop's last check of `queued` and the reset of `flushing` happen in one synchronous step: no append falls between them
  async function flush (): Promise<void> {
    try {
      while (queued.length > 0) {
        const batch = queued
        queued = []
        try {
          await handle.write(batch.map((q) => q.line).join(''))
          if (batch.some((q) => q.durable)) await handle.datasync()
          for (const q of batch) q.done.resolve()
        } catch (err) {
          for (const q of batch) q.done.reject(err)
        }
      }
    } finally {
      flushing = undefined
    }
  }

  return {
    async append (record, durable) {
      const written = new Promise<void>((resolve, reject) => { queued.push({ line: `${JSON.stringify(record)}\n`, durable, done: { resolve, reject } }) })
      flushing ??= flush()
      await written
    },
    async close () {
      await flushing
      await handle.close()
    }
  }
}
