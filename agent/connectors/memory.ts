/**
 * An in-memory instance: a Map of documents that "the lab" edits directly,
 * which the agent learns about only by looking (like polling SENAITE) and
 * which cannot refuse an edit. It is the reference for connectors whose
 * instance is not the agent's store, and the instance tests use to exercise
 * echo suppression and read-only reverts without a SENAITE site.
 */
import { createHash } from 'node:crypto'
import type { ConnectorContext, InstanceConnector, LocalChange, RemoteWrite, RemoteWriteResult } from './connector.js'

/** A document as the in-memory lab holds it: what a connector reports as a local change. */
export type MemoryDocument = LocalChange

export interface MemoryConnector extends InstanceConnector {
  /** the lab edits its instance (not through the agent) */
  edit (doc: MemoryDocument): void
  get (uid: string): MemoryDocument | undefined
  /** look for edits now (otherwise every `pollMs`) */
  poll (): Promise<number>
  /** number of remote writes the instance received */
  readonly writes: number
}

export function createMemoryConnector (options: { pollMs?: number } = {}): MemoryConnector {
  const docs = new Map<string, MemoryDocument>()
  /** hash of what the agent last wrote or recorded per uid: an echo is not an edit */
  const known = new Map<string, string>()
  const dirty = new Set<string>()
  let context: ConnectorContext | undefined
  let timer: NodeJS.Timeout | undefined
  let writes = 0

  const poll = async (): Promise<number> => {
    if (context === undefined) return 0
    let recorded = 0
    for (const uid of [...dirty]) {
      dirty.delete(uid)
      const doc = docs.get(uid)
      if (doc === undefined || known.get(uid) === hashOf(doc)) continue
      const change: LocalChange = { ...doc }
      const stored = await context.recordLocalChange(change)
      // recorded, or reverted by the agent (then the instance holds the stored version again)
      const now = docs.get(uid)
      if (now !== undefined) known.set(uid, hashOf(now))
      if (stored !== undefined) recorded++
    }
    return recorded
  }

  return {
    kind: 'memory',
    get writes () { return writes },

    async start (ctx) {
      context = ctx
      if (options.pollMs !== undefined && options.pollMs > 0) timer = setInterval(() => { void poll() }, options.pollMs)
    },

    async stop () {
      if (timer !== undefined) clearInterval(timer)
      context = undefined
    },

    async applyRemote (batch: readonly RemoteWrite[]): Promise<RemoteWriteResult[]> {
      return batch.map((w) => {
        const doc: MemoryDocument = { uid: w.next.uid, type: w.next.type, id: w.next.id, parent: w.next.parent, refs: w.next.refs, data: w.next.data, deleted: w.next.deleted }
        docs.set(doc.uid, doc)
        known.set(doc.uid, hashOf(doc))
        writes++
        return { ok: true }
      })
    },

    edit (doc) {
      docs.set(doc.uid, doc)
      dirty.add(doc.uid)
    },

    get: (uid) => docs.get(uid),
    poll
  }
}

function hashOf (doc: MemoryDocument): string {
  return createHash('sha256').update(JSON.stringify([doc.type, doc.id, doc.parent, doc.refs, doc.data, doc.deleted])).digest('hex')
}
