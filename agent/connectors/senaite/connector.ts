/**
 * The `senaite` connector: labmesh beside a SENAITE LIMS, through its JSON API.
 *
 * start(): reads the password, checks the connection (URL, certificate,
 * credentials — each failure says which and what to do: site-connection.ts),
 * loads the uid mapping and the reference patches still waiting,
 * feature-detects change detection, then polls on an interval (poll-loop.ts).
 * applyRemote(): writes remote versions into the site (writer.ts).
 */
import { join } from 'node:path'
import { ConnectorError } from '../../errors.js'
import { describeError } from '../../../protocol/errors.js'
import type { Logger } from '../../runtime/logger.js'
import type { ConnectorContext, ConnectorRows, InstanceConnector, RemoteWrite, RemoteWriteResult } from '../connector.js'
import type { SenaiteClient } from './client.js'
import { loadMapping, type Mapping } from './mapping.js'
import { createPollLoop } from './poll-loop.js'
import { PORTAL_TYPES } from './portal-types.js'
import { createPoller, type PollResult, type Poller } from './poller.js'
import { loadAwaitingPatches } from './reference-patches.js'
import { checkConnection, openClient, type SenaiteInstance } from './site-connection.js'
import { createWriter, type Writer } from './writer.js'

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
  const loop = createPollLoop({
    intervalMs: instance.pollInterval,
    poll: async () => {
      if (poller === undefined) throw new ConnectorError('the SENAITE connector is not started', false)
      return await poller.poll()
    },
    failed: (err) => { log?.warn({ err: describeError(err) }, 'SENAITE poll failed; retrying at the next interval') }
  })

  /** the mapping, the writer and the poller over a checked connection; the caller closes what it opened when this fails */
  async function openParts (site: SenaiteClient, context: ConnectorContext): Promise<void> {
    await checkConnection(site, instance)
    mapping = await loadMapping(context.store, join(options.dataDir, 'senaite-journal.ndjson'))
    const portalPath = new URL(instance.url).pathname.replace(/\/+$/, '')
    const awaiting = await loadAwaitingPatches(context.store, context.log)
    writer = createWriter({ client: site, mapping, layout: instance.layout, portalPath, log: context.log, awaiting })
    poller = createPoller({ client: site, mapping, store: context.store, context, types: PORTAL_TYPES, pageSize: instance.pageSize, log: context.log, writer })
    await poller.detect()
  }

  return {
    kind: 'senaite',
    pollNow: loop.pollNow,
    get stats () {
      return { apiCalls: client?.calls ?? 0, written: writer?.written ?? 0, mapped: mapping?.size ?? 0, modes: poller?.modes ?? {} }
    },

    async start (context: ConnectorContext) {
      log = context.log
      const site = await openClient(instance, options.env)
      client = site
      try {
        await openParts(site, context)
      } catch (err) {
        await mapping?.close()
        await site.close()
        throw err
      }
      loop.start()
    },

    async stop () {
      await loop.stop()
      await mapping?.close()
      await client?.close()
    },

    async applyRemote (writes: readonly RemoteWrite[], rows?: ConnectorRows): Promise<RemoteWriteResult[]> {
      if (writer === undefined) return writes.map(() => ({ ok: false, code: 'NOT_STARTED', reason: 'the SENAITE connector is not started', retryable: true }))
      return await writer.write(writes, rows)
    }
  }
}
