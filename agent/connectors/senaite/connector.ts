/**
 * The `senaite` connector: labmesh beside a SENAITE LIMS, through its JSON API.
 *
 * start(): reads the password, checks the connection (URL, certificate,
 * credentials — each failure says which and what to do: site-connection.ts),
 * detects the site's layout and refuses one `instance.layout` does not
 * allow (layouts.ts), loads the uid mapping and its journal, adopts what
 * creates cut short by a crash left in the site (create.ts), loads the
 * reference patches still waiting, feature-detects change detection, then
 * polls on an interval (poll-loop.ts).
 * applyRemote(): writes remote versions into the site (writer.ts).
 * placement(): where a dry run's creates would go (placement.ts).
 * stop() may be called again, and after a failed start.
 */
import { join } from 'node:path'
import { ConnectorError } from '../../errors.js'
import { describeError } from '../../../protocol/errors.js'
import type { ObjectVersion } from '../../../protocol/object.js'
import type { Store } from '../../../store/types.js'
import type { Logger } from '../../runtime/logger.js'
import type { ConnectorContext, ConnectorRows, InstanceConnector, PlacedVersion, RemoteWrite, RemoteWriteResult } from '../connector.js'
import { createAttachments } from './attachments.js'
import { createFileTransfers, type FileTransfers } from '../file-transfers.js'
import type { SenaiteClient } from './client.js'
import { createContainers, type Containers } from './containers.js'
import { checkLayout, detectLayout, type SiteLayout } from './layouts.js'
import { loadMapping, type Mapping } from './mapping.js'
import { placements } from './placement.js'
import { createPollLoop } from './poll-loop.js'
import { isDexterity, PORTAL_TYPES } from './portal-types.js'
import { createPoller, type PollResult, type Poller } from './poller.js'
import { loadAwaitingPatches } from './reference-patches.js'
import { checkConnection, openClient, type SenaiteInstance } from './site-connection.js'
import { createWriter, type Writer } from './writer.js'

export interface SenaiteConnector extends InstanceConnector {
  /** poll the site now (tests, "Get updates" of local edits) */
  pollNow (): Promise<PollResult>
  readonly stats: { readonly apiCalls: number, readonly written: number, readonly mapped: number, readonly modes: Readonly<Record<string, string>>, readonly layout: SiteLayout | undefined }
}

export interface SenaiteConnectorOptions {
  readonly instance: SenaiteInstance
  /** where the connector keeps its journal */
  readonly dataDir: string
  readonly env: NodeJS.ProcessEnv
}

/** A checked connection to the site, its layout known. */
interface SiteSession {
  readonly client: SenaiteClient
  readonly layout: SiteLayout
  readonly portalPath: string
}

// Long because it is a factory: its closure holds the per-connector state its short inner functions share.
export function createSenaiteConnector (options: SenaiteConnectorOptions): SenaiteConnector {
  const { instance } = options
  const portalPath = new URL(instance.url).pathname.replace(/\/+$/, '')
  let session: SiteSession | undefined
  let containers: Containers | undefined
  let mapping: Mapping | undefined
  let poller: Poller | undefined
  let writer: Writer | undefined
  let log: Logger | undefined
  let transfers: FileTransfers | undefined
  const loop = createPollLoop({
    intervalMs: instance.pollInterval,
    poll: async () => {
      if (poller === undefined) throw new ConnectorError('the SENAITE connector is not started', false)
      return await poller.poll()
    },
    failed: (err) => { log?.warn({ err: describeError(err) }, 'SENAITE poll failed; retrying at the next interval') }
  })

  /** a client whose site answers, authenticates us and is what instance.layout says */
  async function openSession (logger: Logger | undefined): Promise<SiteSession> {
    const client = await openClient(instance, options.env)
    try {
      await checkConnection(client, instance)
      const site = await detectLayout(client, portalPath)
      const layout = checkLayout(instance.layout, site, instance.url)
      logger?.info({ layout, jsonapi: site.jsonapi, setting: instance.layout }, `SENAITE site at ${instance.url}: layout ${layout}`)
      return { client, layout, portalPath }
    } catch (err) {
      await client.close()
      throw err
    }
  }

  /** the mapping, the writer and the poller over a checked connection */
  async function openParts (site: SiteSession, context: ConnectorContext): Promise<void> {
    mapping = await loadMapping(context.store, join(options.dataDir, 'senaite-journal.ndjson'))
    containers = createContainers({ client: site.client, mapping, layout: site.layout, portalPath })
    const awaiting = await loadAwaitingPatches(context.store, context.log)
    transfers = createFileTransfers(context.log)
    const attachments = createAttachments({ client: site.client, store: context.store, blobs: context.blobs, maxFileBytes: instance.maxFileBytes, log: context.log, transfers })
    writer = createWriter({ client: site.client, mapping, containers, layout: site.layout, store: context.store, username: instance.username, log: context.log, awaiting, attachments })
    // before the first poll: an object a create cut short made is the mesh object's, not a new one of this site
    await writer.creator.recoverAll()
    const dexterity = (type: string): boolean => isDexterity(type, site.layout)
    poller = createPoller({ client: site.client, mapping, store: context.store, context, types: PORTAL_TYPES, pageSize: instance.pageSize, log: context.log, writer, dexterity, pendingCreate: writer.creator.pendingIn, attachments })
    await poller.detect()
  }

  async function closeParts (): Promise<void> {
    const [m, s] = [mapping, session]
    mapping = undefined
    session = undefined
    poller = undefined
    writer = undefined
    containers = undefined
    await m?.close()
    await s?.client.close()
  }

  return {
    kind: 'senaite',
    fileTransfers: () => transfers?.list() ?? [],
    pollNow: loop.pollNow,
    get stats () {
      return { apiCalls: session?.client.calls ?? 0, written: writer?.written ?? 0, mapped: mapping?.size ?? 0, modes: poller?.modes ?? {}, layout: session?.layout }
    },

    async start (context: ConnectorContext) {
      log = context.log
      session = await openSession(context.log)
      try {
        await openParts(session, context)
      } catch (err) {
        await closeParts()
        throw err
      }
      loop.start()
    },

    async stop () {
      await loop.stop()
      await closeParts()
    },

    async applyRemote (writes: readonly RemoteWrite[], rows?: ConnectorRows): Promise<RemoteWriteResult[]> {
      if (writer === undefined) return writes.map(() => ({ ok: false, code: 'NOT_STARTED', reason: 'the SENAITE connector is not started', retryable: true }))
      return await writer.write(writes, rows)
    },

    async placement (versions: readonly ObjectVersion[], store: Store): Promise<PlacedVersion[]> {
      if (session !== undefined && containers !== undefined) return await placements(versions, { store, containers })
      // not started (`labmesh plan` with no agent running): a session of its own, reads only
      const own = await openSession(undefined)
      try {
        return await placements(versions, { store, containers: createContainers({ client: own.client, mapping: { local: () => undefined }, layout: own.layout, portalPath }) })
      } finally {
        await own.client.close()
      }
    }
  }
}
