/**
 * Writing remote versions into a SENAITE site through its JSON API: one
 * object per request (the API refuses lists), parents before children,
 * create-then-patch for references to objects not there yet (cycles),
 * workflow reached by replaying transitions, deletes as deactivation (or
 * cancellation). Each object's outcome is reported on its own.
 *
 * This module runs a batch; each job is a part of its own: the account of
 * what batches touched, read by the poller (batch-log.ts), one object's
 * write (object-writer.ts) with its create path (create.ts, containers.ts),
 * the references patched later (reference-patches.ts) and the content
 * hashes taken after the batch (echo-hashes.ts).
 */
import type { ConnectorRows, RemoteWrite, RemoteWriteResult } from '../connector.js'
import type { Logger } from '../../runtime/logger.js'
import { createBatchLog, type WriteAccount } from './batch-log.js'
import type { SenaiteClient } from './client.js'
import { createContainers } from './containers.js'
import { createCreator } from './create.js'
import { createEchoHashes } from './echo-hashes.js'
import type { Mapping } from './mapping.js'
import { createObjectWriter } from './object-writer.js'
import type { Layout } from './portal-types.js'
import { createReferencePatches, type AwaitingPatch } from './reference-patches.js'

export interface WriterDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly layout: Layout
  /** the portal path, e.g. /senaite */
  readonly portalPath: string
  readonly log: Logger
  /** versions still waiting for reference targets, as persisted (PATCH_SPACE) by an earlier run */
  readonly awaiting?: ReadonlyArray<readonly [string, AwaitingPatch]>
}

export interface Writer extends WriteAccount {
  write (writes: readonly RemoteWrite[], rows: ConnectorRows | undefined): Promise<RemoteWriteResult[]>
  readonly written: number
}

export function createWriter (deps: WriterDeps): Writer {
  const { client, mapping, log } = deps
  const batch = createBatchLog()
  const echoes = createEchoHashes({ client, mapping, log })
  const creator = createCreator({ client, mapping, containers: createContainers(deps) })
  const objects = createObjectWriter({ client, mapping, log, batch, echoes, creator })
  const patches = createReferencePatches({ mapping, writeObject: objects.write, awaiting: deps.awaiting })

  async function writeBatch (writes: readonly RemoteWrite[], rows: ConnectorRows | undefined): Promise<RemoteWriteResult[]> {
    const results: RemoteWriteResult[] = new Array(writes.length)
    const deferred: number[] = []
    for (const level of writeLevels(writes)) {
      const outcomes = await Promise.all(level.map(async (i) => await objects.write(writes[i]!, rows)))
      level.forEach((i, k) => {
        results[i] = outcomes[k]!.result
        if (outcomes[k]!.deferred) deferred.push(i)
      })
    }
    await patches.afterBatch(writes, deferred, results, rows)
    await echoes.afterBatch(writes, results, rows)
    return results
  }

  return {
    get written () { return objects.written },
    get generation () { return batch.generation },
    touchedSince: (since) => batch.touchedSince(since),
    idle: async () => { await batch.idle() },
    async write (writes, rows) {
      return await batch.run(async () => await writeBatch(writes, rows))
    }
  }
}

/**
 * A batch's writes in the order they can be made, as levels of indexes
 * written together: parents and referenced objects first. In a reference
 * cycle, those whose parent is there go first (their references are patched
 * afterwards); when even that finds none, the first one left.
 */
function writeLevels (writes: readonly RemoteWrite[]): number[][] {
  const inBatch = new Set(writes.map((w) => w.next.uid))
  const needs = (i: number): string[] => {
    const v = writes[i]!.next
    return [...(v.parent !== null ? [v.parent] : []), ...v.refs].filter((u) => inBatch.has(u) && u !== v.uid)
  }
  const done = new Set<string>()
  const levels: number[][] = []
  let remaining = writes.map((_, i) => i)
  while (remaining.length > 0) {
    let level = remaining.filter((i) => needs(i).every((u) => done.has(u)))
    if (level.length === 0) level = remaining.filter((i) => { const p = writes[i]!.next.parent; return p === null || done.has(p) || !inBatch.has(p) })
    if (level.length === 0) level = [remaining[0]!]
    for (const i of level) done.add(writes[i]!.next.uid)
    levels.push(level)
    const set = new Set(level)
    remaining = remaining.filter((i) => !set.has(i))
  }
  return levels
}
