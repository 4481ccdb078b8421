/**
 * Writing remote versions into a SENAITE site through its JSON API: one
 * object per request (the API refuses lists), in dependency order (parents,
 * and what an object cannot be created without, first: a batch that brings
 * a sample's SampleType writes it first), create-then-patch for other
 * references to objects not there yet (cycles), workflow reached by
 * replaying transitions, deletes as deactivation (or cancellation). Each
 * object's outcome is reported on its own.
 *
 * This module runs a batch; each job is a part of its own: the account of
 * what batches touched, read by the poller (batch-log.ts), one object's
 * write (object-writer.ts) with its create path (create.ts, containers.ts),
 * the references patched later (reference-patches.ts) and the content
 * hashes taken after the batch (echo-hashes.ts).
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { Store } from '../../../store/types.js'
import type { ConnectorRows, RemoteWrite, RemoteWriteResult } from '../connector.js'
import type { Logger } from '../../runtime/logger.js'
import { writeLevels } from '../../rules/write-order.js'
import { createBatchLog, type WriteAccount } from './batch-log.js'
import type { Attachments } from './attachments.js'
import type { SenaiteClient } from './client.js'
import type { Containers } from './containers.js'
import { contentHash, itemToData } from './convert.js'
import { createCreator, type Creator } from './create.js'
import { requiredOf } from './dependencies.js'
import { createEchoHashes } from './echo-hashes.js'
import { atName } from './field-names.js'
import type { SiteLayout } from './layouts.js'
import type { Mapping } from './mapping.js'
import { createObjectWriter, type BatchContext } from './object-writer.js'
import { isDexterity } from './portal-types.js'
import { createReferencePatches, type AwaitingPatch } from './reference-patches.js'

export interface WriterDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly containers: Containers
  readonly layout: SiteLayout
  readonly store: Store
  /** the account the agent writes as */
  readonly username: string
  readonly log: Logger
  /** versions still waiting for reference targets, as persisted (PATCH_SPACE) by an earlier run */
  readonly awaiting?: ReadonlyArray<readonly [string, AwaitingPatch]>
  /** the site's files as blobs, both ways (attachments.ts) */
  readonly attachments: Attachments
}

export interface Writer extends WriteAccount {
  write (writes: readonly RemoteWrite[], rows: ConnectorRows | undefined): Promise<RemoteWriteResult[]>
  /** the create path: its recovery at start, and what the poller must leave alone */
  readonly creator: Pick<Creator, 'recoverAll' | 'pendingIn'>
  readonly written: number
}

export function createWriter (deps: WriterDeps): Writer {
  const { client, mapping, log, layout } = deps
  const batch = createBatchLog()
  const dexterity = (type: string): boolean => isDexterity(type, layout)
  const echoes = createEchoHashes({ client, mapping, log, dexterity, store: deps.store, attachments: deps.attachments })
  const creator = createCreator({
    client,
    mapping,
    containers: deps.containers,
    store: deps.store,
    log,
    username: deps.username,
    fieldName: (type, key) => dexterity(type) ? atName(type, key) : key,
    hashOf: async (item, rows) => contentHash(itemToData(item, { meshUidOf: (uid) => mapping.mesh(uid), dexterity, files: await deps.attachments.resolve(item, { rows: rows ?? null }) ?? undefined }), String(item.portal_type ?? '')),
    touch: (uid) => { batch.touch(uid) }
  })
  const objects = createObjectWriter({ client, mapping, store: deps.store, layout, log, batch, echoes, creator, attachments: deps.attachments })
  const patches = createReferencePatches({ mapping, writeObject: objects.write, awaiting: deps.awaiting })

  async function writeBatch (writes: readonly RemoteWrite[], rows: ConnectorRows | undefined): Promise<RemoteWriteResult[]> {
    const results: RemoteWriteResult[] = new Array(writes.length)
    const deferred: number[] = []
    const ctx = batchContext(writes, deps.store)
    for (const level of writeLevels(writes.map((w) => w.next), hardDependencies(writes.map((w) => w.next)))) {
      const outcomes = await Promise.all(level.map(async (i) => await objects.write(writes[i]!, rows, ctx)))
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
    creator,
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
 * What an object of this set cannot be created without: its required
 * references (dependencies.ts), and for a sample the services of its
 * analyses in the set — the sample factory makes the analyses of them, so
 * they go first.
 */
function hardDependencies (versions: readonly ObjectVersion[]): (v: ObjectVersion) => string[] {
  const services = new Map<string, string[]>()
  for (const a of versions) {
    if (a.type !== 'Analysis' || a.parent === null || typeof a.data.AnalysisService !== 'string') continue
    services.set(a.parent, [...(services.get(a.parent) ?? []), a.data.AnalysisService])
  }
  return (v) => [...requiredOf(v), ...(v.type === 'AnalysisRequest' ? services.get(v.uid) ?? [] : [])]
}

/** The order the writer writes these versions in, by index: dependencies first, by type within a level. */
export function writeOrder (versions: readonly ObjectVersion[]): number[] {
  return writeLevels(versions, hardDependencies(versions)).flatMap((level) => level.sort((a, b) => versions[a]!.type.localeCompare(versions[b]!.type) || a - b))
}

/** what a create needs from its batch: the batch's versions first, then the store's; a sample's analyses in the batch */
function batchContext (writes: readonly RemoteWrite[], store: Store): BatchContext {
  const byUid = new Map<string, ObjectVersion>(writes.map((w) => [w.next.uid, w.next]))
  const children = new Map<string, string[]>()
  for (const w of writes) {
    if (w.next.parent === null || w.next.type !== 'Analysis') continue
    children.set(w.next.parent, [...(children.get(w.next.parent) ?? []), w.next.uid])
  }
  return {
    async versionOf (uid) {
      return byUid.get(uid) ?? await store.getObject(uid)
    },
    childrenInBatch: (uid) => children.get(uid) ?? [],
    analysesListed: new Map()
  }
}
