/**
 * An in-memory instance: a Map of documents that "the lab" edits directly,
 * which the agent learns about only by looking (like polling SENAITE) and
 * which cannot refuse an edit. It is the reference for connectors whose
 * instance is not the agent's store, and the instance tests use to exercise
 * echo suppression, read-only reverts and the echo-loop guard without a
 * SENAITE site.
 *
 * Like a real instance it may do things of its own to what it is given
 * (`behaviour`): change a version written into it (SENAITE computes titles
 * and formats dates), or change other documents when one is written (a
 * workflow cascade). Either shows up at the next poll as an edit, since the
 * agent recognises only what it wrote itself. It may also refuse a write,
 * with a code and a message, as a site answers `success: false`.
 */
import { createHash } from 'node:crypto'
import type { ConnectorContext, InstanceConnector, LocalChange, RemoteWrite, RemoteWriteResult } from './connector.js'

/** A document as the in-memory lab holds it: what a connector reports as a local change. */
export type MemoryDocument = LocalChange

/** What the in-memory instance does of its own accord when the agent writes into it. */
export interface MemoryBehaviour {
  /** what it keeps of a document written into it (default: the document as written) */
  readonly normalise?: (written: MemoryDocument) => MemoryDocument
  /** documents it changes itself after one is written (a workflow cascade), as they are to be kept */
  readonly cascade?: (written: MemoryDocument, get: (uid: string) => MemoryDocument | undefined) => readonly MemoryDocument[]
  /** a write it refuses, with the code and message it answers (default: it takes everything) */
  readonly refuse?: (written: MemoryDocument) => { readonly code: string, readonly reason: string, readonly retryable?: boolean } | undefined
}

export interface MemoryConnector extends InstanceConnector {
  /** the lab edits its instance (not through the agent) */
  edit (doc: MemoryDocument): void
  get (uid: string): MemoryDocument | undefined
  /** look for edits now (otherwise every `pollMs`) */
  poll (): Promise<number>
  /** number of remote writes the instance received */
  readonly writes: number
  /** documents changed in the instance that no poll has looked at yet (or a poll is looking at) */
  readonly pending: number
}

export function createMemoryConnector (options: { pollMs?: number, behaviour?: MemoryBehaviour } = {}): MemoryConnector {
  const docs = new Map<string, MemoryDocument>()
  /** hash of what the agent last wrote or recorded per uid: an echo is not an edit */
  const known = new Map<string, string>()
  const dirty = new Set<string>()
  const behaviour = options.behaviour ?? {}
  let context: ConnectorContext | undefined
  let timer: NodeJS.Timeout | undefined
  let polling: Promise<number> | undefined
  let writes = 0

  const pollOnce = async (): Promise<number> => {
    if (context === undefined) return 0
    let recorded = 0
    for (const uid of [...dirty]) {
      dirty.delete(uid)
      const doc = docs.get(uid)
      if (doc === undefined || known.get(uid) === hashOf(doc)) continue
      const change: LocalChange = { ...doc }
      const stored = await context.recordLocalChange(change)
      // recorded, held, or reverted by the agent (then the instance holds the stored version again)
      const now = docs.get(uid)
      if (now !== undefined) known.set(uid, hashOf(now))
      if (stored !== undefined) recorded++
    }
    return recorded
  }
  // one poll at a time: two would report the same edit twice
  const poll = async (): Promise<number> => {
    while (polling !== undefined) await polling
    polling = pollOnce().finally(() => { polling = undefined })
    return await polling
  }

  const keep = (doc: MemoryDocument): void => {
    docs.set(doc.uid, doc)
    dirty.add(doc.uid)
  }

  return {
    kind: 'memory',
    get writes () { return writes },
    get pending () { return dirty.size + (polling !== undefined ? 1 : 0) },

    async start (ctx) {
      context = ctx
      if (options.pollMs !== undefined && options.pollMs > 0) {
        // while a pull applies batches, what it writes is not committed yet: an edit seen now could not be told from its echo
        timer = setInterval(() => { if (polling === undefined && ctx.pullsIdle()) void poll() }, options.pollMs)
      }
    },

    async stop () {
      if (timer !== undefined) clearInterval(timer)
      await polling
      context = undefined
    },

    async applyRemote (batch: readonly RemoteWrite[]): Promise<RemoteWriteResult[]> {
      return batch.map((w): RemoteWriteResult => {
        const doc: MemoryDocument = { uid: w.next.uid, type: w.next.type, id: w.next.id, parent: w.next.parent, refs: w.next.refs, data: w.next.data, deleted: w.next.deleted }
        const refused = behaviour.refuse?.(doc)
        if (refused !== undefined) return { ok: false, code: refused.code, reason: refused.reason, retryable: refused.retryable ?? true }
        const kept = behaviour.normalise?.(doc) ?? doc
        docs.set(doc.uid, kept)
        known.set(doc.uid, hashOf(doc))
        if (kept !== doc && hashOf(kept) !== hashOf(doc)) dirty.add(doc.uid)
        for (const changed of behaviour.cascade?.(kept, (uid) => docs.get(uid)) ?? []) keep(changed)
        writes++
        return { ok: true }
      })
    },

    edit: keep,
    get: (uid) => docs.get(uid),
    poll
  }
}

function hashOf (doc: MemoryDocument): string {
  return createHash('sha256').update(JSON.stringify([doc.type, doc.id, doc.parent, doc.refs, doc.data, doc.deleted])).digest('hex')
}
