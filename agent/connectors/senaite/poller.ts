/**
 * Change detection in a SENAITE site: per type, the best query the site
 * supports (detection.ts), from the type's cursor (poll-cursors.ts), one
 * poll at a time in passes (poll-run.ts).
 *
 * An item whose content hash equals the hash of what the agent last wrote or
 * recorded is not an edit (echo suppression). Cursors are the newest
 * `modified` the site itself reported, so clocks need not agree.
 *
 * The agent's own writes may land while a poll lists the site: an item such
 * a write touched (the object, its parent, or a child of it: workflow
 * cascades) may have been read half-written, so it is left to the next poll
 * — and its type's cursor stays put — while every other item is recorded.
 * Only when the writer cannot say what it touched (more batches than it
 * remembers since the poll began) is the whole poll deferred: a site busy
 * with the mesh's edits still gets its own edits out. A poll waits for
 * pulls in progress to end (a batch's workflow cascades move children whose
 * own versions may come in the pull's next batch), but at most
 * BUSY_DEFER_MAX_MS: then everything written since it was first put off
 * counts as touched, children of those objects included.
 *
 * An edit that cannot be replicated is logged once per content and skipped
 * (local-edits.ts): the rest of the poll goes on.
 */
import type { ConnectorContext } from '../connector.js'
import type { Logger } from '../../runtime/logger.js'
import type { Store } from '../../../store/types.js'
import type { WriteAccount } from './batch-log.js'
import type { Attachments } from './attachments.js'
import type { SenaiteClient } from './client.js'
import { detectMode, type DetectionMode } from './detection.js'
import { createLocalEdits } from './local-edits.js'
import type { Mapping } from './mapping.js'
import { createPollCursors } from './poll-cursors.js'
import { PollRun } from './poll-run.js'
import type { PortalTypeInfo } from './portal-types.js'

export type { DetectionMode } from './detection.js'

export interface PollerDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly store: Store
  readonly context: ConnectorContext
  readonly types: readonly PortalTypeInfo[]
  readonly pageSize: number
  readonly log: Logger
  /** the writer's batch generation (odd while writing) and what its batches touched since one */
  readonly writer: WriteAccount
  /** whether items of a type are Dexterity in this site */
  readonly dexterity: (type: string) => boolean
  /** whether a create of ours may have made an unmapped object in this container */
  readonly pendingCreate: (containerPath: string) => boolean
  /** the site's files as blobs (attachments.ts) */
  readonly attachments: Pick<Attachments, 'resolve'>
  readonly now?: () => number
}

/** How long polls are put off while pulls are applying batches before one runs anyway. */
const BUSY_DEFER_MAX_MS = 5_000

export interface PollResult {
  readonly deferred: boolean
  readonly scanned: number
  readonly recorded: number
}

export interface Poller {
  /** find out, per type, how this site can be asked for changes */
  detect (): Promise<Record<string, DetectionMode>>
  poll (): Promise<PollResult>
  readonly modes: Readonly<Record<string, DetectionMode>>
}

export function createPoller (deps: PollerDeps): Poller {
  const { context, log } = deps
  const modes: Record<string, DetectionMode> = {}
  const cursors = createPollCursors(deps.store)
  const edits = createLocalEdits(context, log)
  /** when polls began to be put off for pulls in progress, and the writer's generation then */
  let busySince: { at: number, generation: number } | undefined

  return {
    get modes () { return modes },

    async detect () {
      for (const t of deps.types) modes[t.type] = await detectMode(deps.client, t.type)
      log.info({ modes }, 'SENAITE change detection per type')
      return modes
    },

    async poll () {
      // a poll starts between pulls: children a batch's workflow moved may come in the pull's next batch.
      // Pulls that never pause (a steady stream of remote edits) delay it only so long: it then takes
      // everything written since it was first put off as touched (the children of those objects included)
      const now = deps.now?.() ?? Date.now()
      if (!context.pullsIdle()) {
        busySince ??= { at: now, generation: deps.writer.generation }
        if (now - busySince.at < BUSY_DEFER_MAX_MS) return { deferred: true, scanned: 0, recorded: 0 }
      }
      const since = busySince?.generation ?? deps.writer.generation
      busySince = undefined
      const run = new PollRun({ ...deps, modes, edits }, since, await cursors.load())
      await run.listChanged()
      if (!await run.recordChanged()) return { deferred: true, scanned: run.scanned, recorded: run.recorded }
      await run.recordSiteRecords()
      await cursors.advance(run.newest, run.heldBack)
      const { scanned, recorded } = run
      if (recorded > 0) log.info({ scanned, recorded }, 'SENAITE poll: local edits recorded')
      return { deferred: false, scanned, recorded }
    }
  }
}
