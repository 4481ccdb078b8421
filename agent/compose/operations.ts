/**
 * The agent's operations over its parts: one object serves both the public
 * Agent and the admin app (`AdminDeps` extends `AgentOperations`), so an
 * in-process caller and an HTTP client go through the same code. Every
 * operation looks its parts up when called, so the object exists before
 * start and answers NOT_STARTED until the parts do.
 */
import type { LoadedConfig } from '../../config/load.js'
import type { AdminDeps, AgentOperations } from '../admin/deps.js'
import { deleteDocument, releaseEchoHold, resolveConflict, writeDocument, writeDocuments } from '../apply/local-writes.js'
import { listFailedByCode, summarizeFailed } from '../apply/failed-summary.js'
import { describeConflict, type ConflictedObject } from '../apply/conflict-merge.js'
import type { Store, StoredObject } from '../../store/types.js'
import type { EventBus } from '../observe/events.js'
import { STATUS_ECHO_LOOPS, type AgentStatusReport } from '../observe/status.js'
import type { Logger } from '../runtime/logger.js'
import type { BackupProgress } from '../../store/backup/progress.js'
import type { LiveConfig } from './live-config.js'
import type { AgentParts, AgentSelf, NeedPart } from './parts.js'

/** Every operation but the membership ones (compose/membership.ts). */
export function createAgentOperations (need: NeedPart, status: () => AgentStatusReport, historyVersions: number): Omit<AgentOperations, 'invites' | 'join' | 'reloadConfig' | 'backup'> {
  return {
    blobs: {
      put: async (source, options) => await need('blobStore', 'blob store').put(source, { what: 'the upload', ...(options?.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}) }),
      read: async (hash, range) => await need('blobStore', 'blob store').read(hash, range),
      stat: async (hash) => await need('blobStore', 'blob store').stat(hash)
    },
    documents: {
      get: async (uid) => await need('store', 'store').getObject(uid),
      history: async (uid) => {
        const store = need('store', 'store')
        const [object, entries] = await Promise.all([store.getObject(uid), store.getHistory(uid)])
        if (object === undefined && entries === undefined) return undefined
        return {
          uid,
          retention: historyVersions,
          current: object !== undefined ? { vector: object.vector, deleted: object.deleted, conflicts: object.conflicts.length, signature: object.sig !== undefined ? 'valid' : 'unsigned' } : null,
          entries: entries ?? []
        }
      },
      list: async (options) => await need('store', 'store').listObjects(options),
      put: async (input) => await writeDocument(need('local', 'store'), input),
      putMany: async (inputs) => await writeDocuments(need('local', 'store'), inputs),
      delete: async (uid) => await deleteDocument(need('local', 'store'), uid)
    },
    status,
    peerStatus: (name) => ({ ...need('replicator', 'replicator').peerStatus(name), blobs: need('blobs', 'blobs').peerStatus(name) }),
    syncNow: async (name) => await need('replicator', 'replicator').syncNow(name),
    plan: async (name) => await need('replicator', 'replicator').plan(name),
    conflicts: {
      list: async (options) => {
        const store = need('store', 'store')
        return await withMerge(store, await store.listConflicts(options))
      },
      get: async (uid) => {
        const store = need('store', 'store')
        const object = await store.getObject(uid)
        return object !== undefined && object.conflicts.length > 0 ? (await withMerge(store, [object]))[0] : undefined
      },
      resolve: async (uid, resolution) => await resolveConflict(need('local', 'store'), uid, resolution)
    },
    failed: {
      list: async ({ code, ...page }) => code === undefined ? await need('store', 'store').listFailed(page) : await listFailedByCode(need('store', 'store'), code, page),
      retry: async (uid) => await need('retrier', 'failed queue').retry(uid),
      summary: async () => await summarizeFailed(need('store', 'store')),
      retryGroup: async (code) => await need('retrier', 'failed queue').retryGroup(code)
    },
    verify: async (name, options) => await need('verifier', 'verify').verify(name, options),
    verification: (name) => need('verifier', 'verify').status(name),
    verifySelf: async () => await need('verifier', 'verify').verifySelf(),
    echoLoops: {
      list: () => need('echoGuard', 'the echo-loop guard (echoGuard.enabled)').holds(),
      release: async (uid) => await releaseEchoHold({ ...need('local', 'store'), echoGuard: need('echoGuard', 'the echo-loop guard (echoGuard.enabled)') }, uid)
    }
  }
}

/** Conflicted objects with their three-way comparison (their past versions read for the base). */
async function withMerge (store: Store, objects: readonly StoredObject[]): Promise<ConflictedObject[]> {
  const past = await Promise.all(objects.map(async (o) => await store.getPastVersions(o.uid)))
  return objects.map((o, i) => ({ ...o, merge: describeConflict(o, past[i]!) }))
}

/** GET /api/status, the CLI's table, the metrics' gauges. */
export function statusReporter (config: LoadedConfig, self: AgentSelf, parts: AgentParts, need: NeedPart, live: Pick<LiveConfig, 'config' | 'loadedAt'>, backup: () => BackupProgress | null): () => AgentStatusReport {
  return () => {
    const info = need('store', 'store').info()
    return {
      domain: config.domain,
      peerId: self.peerId,
      listen: parts.mesh?.listenAddrs() ?? [],
      httpUrl: parts.server?.url,
      instance: config.instance.kind,
      epoch: info.epoch,
      entry: info.entry,
      objects: info.objects,
      feedHead: info.head,
      conflicts: info.conflicts,
      failed: info.failed,
      readOnlyReverts: self.readOnlyReverts,
      echoHeld: parts.echoGuard?.held ?? 0,
      echoLoopsFound: parts.echoGuard?.loopsFound ?? 0,
      echoLoops: parts.echoGuard?.holds().slice(0, STATUS_ECHO_LOOPS) ?? [],
      startedAt: self.startedAt,
      configFile: live.config.configFile,
      configLoadedAt: live.loadedAt,
      peers: need('replicator', 'replicator').status().map((p) => ({ ...p, blobs: need('blobs', 'blobs').peerStatus(p.name), ...(parts.verifier !== undefined ? { verification: parts.verifier.status(p.name) } : {}) })),
      instanceFiles: parts.connector?.fileTransfers?.() ?? [],
      backup: backup()
    }
  }
}

/** The admin app's view of the agent: its operations plus the HTTP settings of the config. */
export function adminDepsFor (config: LoadedConfig, operations: AgentOperations, runtime: { token: string, bus: EventBus, need: NeedPart, log: Logger, now: () => number }): AdminDeps {
  return {
    ...operations,
    token: runtime.token,
    publicStatus: config.http.publicStatus,
    publicMetrics: config.http.publicMetrics,
    // the host of http.listen itself is always an address this agent answers to
    allowedHosts: [...config.http.allowedHosts, config.http.listen.slice(0, config.http.listen.lastIndexOf(':'))],
    bus: runtime.bus,
    metrics: () => runtime.need('metrics', 'metrics'),
    maxBodyBytes: config.http.maxBodyBytes,
    maxBlobBytes: config.http.maxBlobBytes,
    log: runtime.log.child({ component: 'http' }),
    now: runtime.now
  }
}
