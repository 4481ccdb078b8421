/**
 * The create path: a mesh object not yet in this site becomes a SENAITE
 * object in its container (containers.ts), created at most once.
 *
 * - Before a create is sent, the attempt is journalled (fsync, journal.ts):
 *   its mesh uid, container, type, time and identifying fields. Once the
 *   site has made the object, that is journalled before the mapping row
 *   goes into the batch's transaction.
 * - A create the site refused with a jsonapi APIError (HTTP 4xx) left
 *   nothing; any other failure (HTTP 200 `success:false`, a lost answer, a
 *   5xx) may have left the object half-made. Then, and before any later
 *   attempt for that mesh uid — another batch, a retry from the failed
 *   queue, the next start after a crash — what the attempt left is looked
 *   for (leftovers.ts) and adopted: mapped to the mesh uid, so the next
 *   write updates it. Never two objects for one mesh uid. The create itself
 *   is not retried by the HTTP client: only a look at the site can tell
 *   whether a lost answer made something.
 * - Samples go through senaite.core's sample factory (sample-factory.ts).
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { Store } from '../../../store/types.js'
import type { ConnectorRows } from '../connector.js'
import { ConnectorError } from '../../errors.js'
import type { Logger } from '../../runtime/logger.js'
import { SenaiteApiError } from './api-errors.js'
import type { SenaiteClient } from './client.js'
import type { Container, Containers } from './containers.js'
import { findLeftovers, markerOf } from './leftovers.js'
import { HASH_SPACE, MAP_SPACE, type LocalRef, type Mapping } from './mapping.js'
import { resourceOf } from './portal-types.js'
import { readItem, type Listing } from './reads.js'
import type { CreateContext, Created } from './create-context.js'
import { createSampleFactory } from './sample-factory.js'
import { createSerial } from './serial.js'

/** creates sent for one mesh uid in one write when the answers are lost */
const CREATE_ATTEMPTS = 3

export interface CreateDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly containers: Containers
  readonly store: Store
  readonly log: Logger
  /** the account the agent writes as */
  readonly username: string
  /** the AT name of a field an item of this type shows */
  readonly fieldName: (type: string, key: string) => string
  /** the content hash of an item as the poller would compute it (`rows`: the apply's transaction, for what it remembers) */
  readonly hashOf: (item: Record<string, unknown>, rows: ConnectorRows | undefined) => Promise<string>
  /** note a SENAITE uid a create made or adopted (batch-log.ts), as soon as it is known */
  readonly touch: (uid: string) => void
  readonly sleep?: (ms: number) => Promise<void>
}

export type { CreateContext, Created } from './create-context.js'

export interface Creator {
  /** the site's new (or adopted) object for `version`, remembered; `body` the create record, `fields` its mesh-named fields */
  create (version: ObjectVersion, body: Record<string, unknown>, fields: Record<string, unknown>, ctx: CreateContext): Promise<Created>
  /** adopt what earlier attempts left, for every mesh uid with attempts still unresolved (at start) */
  recoverAll (): Promise<void>
  /** whether an unresolved attempt may have made an object in this container, or the objects inside it (the poller leaves such objects alone) */
  pendingIn (containerPath: string): boolean
}

// Long because it is a factory: its closure holds the per-connector state its short inner functions share.
export function createCreator (deps: CreateDeps): Creator {
  const { client, mapping, containers, log } = deps
  const sleep = deps.sleep ?? (async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms)))
  /** SENAITE uids a create's answer brought, until they are mapped */
  const inFlight = new Set<string>()
  const claimed = (uid: string): boolean => inFlight.has(uid) || mapping.mesh(uid) !== undefined
  /** one leftover search at a time per container; one factory change at a time per sample */
  const serial = createSerial()

  /** the site made `item` for `meshUid`: journalled (fsync), then mapped, its row in the batch's transaction (or one of its own) */
  async function remember (meshUid: string, item: Record<string, unknown>, rows: ConnectorRows | undefined, hash?: string): Promise<void> {
    const ref: LocalRef = { uid: item.uid as string, path: String(item.path ?? ''), id: String(item.id ?? '') }
    await mapping.journal(meshUid, ref)
    mapping.set(meshUid, ref)
    if (hash !== undefined) mapping.setHash(meshUid, hash)
    if (rows !== undefined) {
      rows.put(MAP_SPACE, meshUid, ref)
      if (hash !== undefined) rows.put(HASH_SPACE, meshUid, hash)
    } else {
      await deps.store.write((tx) => {
        tx.putAux(MAP_SPACE, meshUid, ref)
        if (hash !== undefined) tx.putAux(HASH_SPACE, meshUid, hash)
      })
    }
  }

  /** adopt what the unresolved attempts for `meshUid` left, if anything; resolves them either way */
  async function recover (meshUid: string, rows: ConnectorRows | undefined): Promise<Record<string, unknown> | undefined> {
    const attempts = mapping.attempts(meshUid)
    if (attempts.length === 0) return undefined
    return await serial.run(`leftovers:${attempts[0]!.container.uid}`, async () => {
      for (const attempt of [...attempts].reverse()) {
        const [found, ...more] = await findLeftovers({ client, username: deps.username, claimed, fieldName: deps.fieldName }, attempt)
        if (found === undefined) continue
        inFlight.add(found.uid as string)
        deps.touch(found.uid as string)
        try {
          // hashed as the poller reads it: it is the mesh object's, not a new object of this site, and no edit
          const whole = await readItem(client, found.uid as string)
          await remember(meshUid, whole, rows, await deps.hashOf(whole, rows))
          log.warn({ uid: meshUid, type: attempt.type, senaiteUid: found.uid, path: found.path, others: more.map((m) => m.path) }, `SENAITE: adopted the ${attempt.type} an earlier create attempt left at ${String(found.path)}${more.length > 0 ? ` (more like it, to remove by hand: ${more.map((m) => String(m.path)).join(', ')})` : ''}`)
          return whole
        } finally {
          inFlight.delete(found.uid as string)
        }
      }
      await mapping.resolved(meshUid)
      return undefined
    })
  }

  /** POST create, journalled first; adopts what a failed or unanswered create left */
  async function send (version: ObjectVersion, container: Container, body: Record<string, unknown>, fields: Record<string, unknown>, rows: ConnectorRows | undefined): Promise<Created> {
    for (let attempt = 1; ; attempt++) {
      await mapping.attempt({ mesh: version.uid, type: version.type, container, at: new Date().toISOString(), marker: markerOf(fields, version.type) })
      try {
        const answer = await client.post<Listing>(`${resourceOf(version.type)}/create/${container.uid}`, { portal_type: version.type, ...body }, { retry: false })
        const item = answer.items?.[0]
        if (item === undefined || typeof item.uid !== 'string') throw new ConnectorError(`SENAITE answered a create of ${version.type} ${version.id} without the object`, false)
        inFlight.add(item.uid)
        deps.touch(item.uid)
        try {
          await remember(version.uid, item, rows)
        } finally {
          inFlight.delete(item.uid)
        }
        return { item, adopted: false }
      } catch (err) {
        // a jsonapi APIError (4xx) is raised before the object exists, or removes it
        if (err instanceof SenaiteApiError && err.status >= 400 && err.status < 500 && !err.retryable) {
          await mapping.resolved(version.uid)
          throw err
        }
        const left = await recover(version.uid, rows)
        // the site made it and then failed (HTTP 200 success:false): the object is ours now, the write is not done
        if (left !== undefined && !(err instanceof ConnectorError && err.retryable)) throw err
        if (left !== undefined) return { item: left, adopted: true }
        if (!(err instanceof ConnectorError && err.retryable) || attempt >= CREATE_ATTEMPTS) throw err
        await sleep(250 * attempt)
      }
    }
  }

  const factory = createSampleFactory({ client, mapping, serial, claimed, touch: deps.touch, remember })

  return {
    async create (version, body, fields, ctx) {
      const container = await containers.containerOf(version)
      if (version.type === 'Analysis') return await factory.analysis(version, container, ctx)
      const left = await recover(version.uid, ctx.rows)
      if (left !== undefined) return { item: left, adopted: true }
      const record = version.type === 'AnalysisRequest' ? { ...body, Analyses: await factory.services(version, ctx) } : body
      return await send(version, container, record, fields, ctx.rows)
    },

    async recoverAll () {
      for (const meshUid of new Set(mapping.allAttempts().map((a) => a.mesh))) {
        try {
          await recover(meshUid, undefined)
        } catch (err) {
          log.warn({ uid: meshUid, err: (err as Error).message }, 'SENAITE: could not look for what an earlier create left; looking again before it is written')
        }
      }
    },

    pendingIn (containerPath) {
      // the sample factory makes a sample's analyses inside it: they are as unknown as the sample until it is mapped
      return mapping.allAttempts().some((a) => containerPath === a.container.path || containerPath.startsWith(`${a.container.path}/`))
    }
  }
}
