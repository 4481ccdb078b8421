/**
 * The `senaite` connector: labmesh beside a SENAITE LIMS, through its JSON API.
 *
 * start(): reads the password, checks the connection (URL, certificate,
 * credentials — each failure says which and what to do), loads the uid
 * mapping, feature-detects change detection, then polls on an interval.
 * applyRemote(): writes remote versions into the site (writer.ts).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { LoadedConfig } from '../../../config/load.js'
import { compare } from '../../../protocol/version-vector.js'
import { ConnectorError } from '../../errors.js'
import { describeError } from '../../../protocol/errors.js'
import type { Logger } from '../../runtime/logger.js'
import type { ConnectorContext, ConnectorRows, InstanceConnector, RemoteWrite, RemoteWriteResult } from '../connector.js'
import { createSenaiteClient, readSecret, SenaiteApiError, type SenaiteClient } from './client.js'
import { loadMapping, PATCH_SPACE, type Mapping } from './mapping.js'
import { PORTAL_TYPES } from './portal-types.js'
import { createPoller, type PollResult, type Poller } from './poller.js'
import { createWriter, type AwaitingPatch, type Writer } from './writer.js'

type SenaiteInstance = Extract<LoadedConfig['instance'], { kind: 'senaite' }>

export interface SenaiteConnector extends InstanceConnector {
  /** poll the site now (tests, "Get updates" of local edits) */
  pollNow (): Promise<PollResult>
  readonly stats: { readonly apiCalls: number, readonly written: number, readonly mapped: number, readonly modes: Readonly<Record<string, string>> }
}

export interface SenaiteConnectorOptions {
  readonly instance: SenaiteInstance
  /** where the connector keeps its journal */
  readonly dataDir: string
  readonly env: NodeJS.ProcessEnv
}

export function createSenaiteConnector (options: SenaiteConnectorOptions): SenaiteConnector {
  const { instance } = options
  let client: SenaiteClient | undefined
  let mapping: Mapping | undefined
  let poller: Poller | undefined
  let writer: Writer | undefined
  let log: Logger | undefined
  let timer: NodeJS.Timeout | undefined
  let polling: Promise<PollResult> | undefined
  let stopped = true

  const pollNow = async (): Promise<PollResult> => {
    if (poller === undefined) throw new ConnectorError('the SENAITE connector is not started', false)
    while (polling !== undefined) await polling.catch(() => {})
    polling = poller.poll()
    try {
      return await polling
    } finally {
      polling = undefined
    }
  }

  const schedule = (ms: number): void => {
    if (stopped) return
    timer = setTimeout(() => {
      pollNow().then((r) => { schedule(r.deferred ? Math.min(1000, instance.pollInterval) : instance.pollInterval) }, (err: unknown) => {
        log?.warn({ err: describeError(err) }, 'SENAITE poll failed; retrying at the next interval')
        schedule(instance.pollInterval)
      })
    }, ms)
  }

  return {
    kind: 'senaite',
    pollNow,
    get stats () {
      return { apiCalls: client?.calls ?? 0, written: writer?.written ?? 0, mapped: mapping?.size ?? 0, modes: poller?.modes ?? {} }
    },

    async start (context: ConnectorContext) {
      log = context.log
      const password = await readSecret(instance.passwordFile, instance.passwordEnv, options.env)
      let ca: string | undefined
      if (instance.caFile !== undefined) {
        try {
          ca = await readFile(instance.caFile, 'utf8')
        } catch (err) {
          throw new ConnectorError(`instance.caFile ${instance.caFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? describeError(err)}): point it at the site's certificate (PEM)`, false, { cause: err })
        }
      }
      client = createSenaiteClient({ url: instance.url, username: instance.username, password, concurrency: instance.concurrency, ...(ca !== undefined ? { ca } : {}) })
      try {
        await checkConnection(client, instance)
        mapping = await loadMapping(context.store, join(options.dataDir, 'senaite-journal.ndjson'))
        const portalPath = new URL(instance.url).pathname.replace(/\/+$/, '')
        const awaiting: Array<[string, AwaitingPatch]> = []
        const stale: string[] = []
        for await (const [uid, patch] of context.store.iterateAux<AwaitingPatch>(PATCH_SPACE)) {
          // a patch of a version the store has moved past (a newer one was written since) is dropped
          const current = await context.store.getObject(uid)
          if (current !== undefined && compare(current.vector, patch.next.vector) === 'equal') awaiting.push([uid, patch])
          else stale.push(uid)
        }
        if (stale.length > 0) await context.store.write((tx) => { for (const uid of stale) tx.deleteAux(PATCH_SPACE, uid) })
        if (awaiting.length > 0) context.log.info({ objects: awaiting.length }, 'SENAITE: references still to be set on objects written before the restart')
        writer = createWriter({ client, mapping, layout: instance.layout, portalPath, log: context.log, awaiting })
        const w = writer
        poller = createPoller({ client, mapping, store: context.store, context, types: PORTAL_TYPES, pageSize: instance.pageSize, log: context.log, writer: w })
        await poller.detect()
      } catch (err) {
        await mapping?.close()
        await client.close()
        throw err
      }
      stopped = false
      schedule(0)
    },

    async stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      await polling?.catch(() => {})
      await mapping?.close()
      await client?.close()
    },

    async applyRemote (writes: readonly RemoteWrite[], rows?: ConnectorRows): Promise<RemoteWriteResult[]> {
      if (writer === undefined) return writes.map(() => ({ ok: false, code: 'NOT_STARTED', reason: 'the SENAITE connector is not started', retryable: true }))
      return await writer.write(writes, rows)
    }
  }
}

/**
 * The add-on's "test connection", made specific: the URL must serve the
 * JSON API (a `version` key), and the credentials must authenticate —
 * SENAITE treats wrong credentials as anonymous, not as an error.
 */
async function checkConnection (client: SenaiteClient, instance: SenaiteInstance): Promise<void> {
  let version: Record<string, unknown>
  try {
    version = await client.get('version')
  } catch (err) {
    if (err instanceof SenaiteApiError && (err.status === 404 || err.status === 200)) {
      throw new ConnectorError(`no SENAITE JSON API at ${client.baseUrl}: check that instance.url (${instance.url}) includes the portal path, e.g. https://host/senaite`, false, { cause: err })
    }
    throw err
  }
  if (typeof version.version !== 'string') throw new ConnectorError(`${client.baseUrl}/version has no "version": is instance.url (${instance.url}) a SENAITE site with senaite.jsonapi?`, false)
  const current = await client.get<{ items?: Array<{ authenticated?: boolean, username?: string }>, authenticated?: boolean }>('users/current')
  const me = current.items?.[0] ?? current
  if (me.authenticated !== true) {
    throw new ConnectorError(`SENAITE did not accept the credentials of instance.username "${instance.username}" (it treats the agent as anonymous): check the password in instance.passwordFile / passwordEnv`, false)
  }
}
