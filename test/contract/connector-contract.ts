/**
 * The InstanceConnector contract (agent/connectors/connector.ts), as a suite
 * any connector must pass: `runConnectorContract` takes the implementation
 * (a factory for it and its instance, an "instance view" that reads back
 * what the instance holds, and its capabilities) and registers the clauses.
 *
 * Each test gets a real LevelDB store in a temporary directory and the
 * connector started with a context whose recordLocalChange is the agent's
 * own (recordInstanceChange). Remote versions are applied as the apply
 * pipeline does it: inside a store transaction, with ConnectorRows over it,
 * the accepted versions put into the store, the transaction then committed.
 *
 * A capability an implementation does not have (the embedded connector has
 * no instance of its own to edit) is declared off with a reason; the clauses
 * needing it are skipped under a name that carries the reason.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe } from 'vitest'
import { localBlobAccess } from '../../agent/apply/blob-access.js'
import { recordInstanceChange } from '../../agent/apply/local-writes.js'
import type { ConnectorContext, ConnectorRows, InstanceConnector, LocalChange, RemoteWriteResult } from '../../agent/connectors/connector.js'
import type { ObjectVersion } from '../../protocol/object.js'
import { createBlobStore } from '../../store/blobs/blob-store.js'
import type { Store, StoredObject, WriteTx } from '../../store/types.js'
import { testLogger } from '../helpers/nodes.js'
import { useTempStore } from '../helpers/temp-store.js'
import { HERE, PEER, trackTimers, type TimerTracker } from './connector-fixtures.js'
import { describeEditClauses } from './connector-contract-edits.js'
import { describeWriteClauses } from './connector-contract-writes.js'

/** A capability switched off, and why. */
export interface Off { readonly off: string }
/** A capability the implementation has; `T` is what the suite needs to know to use it. */
export type Capability<T extends object = { readonly on: true }> = T | Off

/** What the instance shows for one mesh uid. */
export interface InstanceRecord {
  readonly deleted: boolean
  readonly data: Readonly<Record<string, unknown>>
}

export interface InstanceView {
  /** what the instance holds for this mesh uid (undefined: nothing) */
  read (uid: string): Promise<InstanceRecord | undefined>
}

/** Edits made in the instance by the lab, not through the agent. */
export interface InstanceEdits {
  /** change the title of the object the instance holds for this mesh uid */
  edit (uid: string, title: string): Promise<void>
  /** create an object with this title directly in the instance */
  create (title: string): Promise<void>
  /** have the connector look for edits now; resolves after one whole pass */
  detect (): Promise<void>
  /** how often the connector looks on its own (ms): the suite waits a few of these to see that nothing comes */
  readonly intervalMs: number
}

export interface ConnectorSetup {
  readonly connector: InstanceConnector
  readonly view: InstanceView
  /** required when the implementation declares the `edits` capability */
  readonly edits?: InstanceEdits
  /** after the connector has stopped (a simulator to stop) */
  tearDown? (): Promise<void>
}

export type ClauseName = 'stop-idempotent' | 'revive-after-tombstone'

export interface ConnectorImplementation {
  readonly name: string
  /** a fresh connector and instance for one test; `dataDir` is the agent's data directory */
  setUp (env: { readonly store: Store, readonly dataDir: string }): Promise<ConnectorSetup>
  /** the lab edits the instance directly, and the connector reports what it finds */
  readonly edits: Capability
  /** a `data.title` the instance refuses (and, when it is fixed, the code it answers with) */
  readonly refusal: Capability<{ readonly title: string, readonly code?: string }>
  /** the connector keeps rows of its own through ConnectorRows */
  readonly rows: Capability
  /** clauses this implementation is known to break (a bug, described): they run as it.fails */
  readonly knownBugs?: Partial<Record<ClauseName, string>>
}

export interface RowWrite { readonly op: 'put' | 'delete', readonly space: string, readonly key: string, readonly value?: unknown, readonly before: Promise<unknown> }

/** The test's running connector and what it has reported. */
export interface ConnectorHarness {
  readonly store: Store
  readonly connector: InstanceConnector
  readonly view: InstanceView
  readonly edits: InstanceEdits | undefined
  /** local changes the connector reported and the agent recorded, since the connector was started and had settled */
  readonly recorded: ReadonlyArray<{ readonly change: LocalChange, readonly stored: StoredObject }>
  /** timers the connector (and what it uses) set since it was started, still pending */
  pendingTimers (): Promise<number>
  /** stop the connector (the harness then does not stop it again) */
  stop (): Promise<void>
  /**
   * Apply these versions as a pull does, in one store transaction; `rows`
   * collects what the connector writes through ConnectorRows; `failAfter`
   * makes the transaction throw once the connector has answered.
   */
  apply (versions: readonly ObjectVersion[], options?: { rows?: RowWrite[], failAfter?: Error }): Promise<RemoteWriteResult[]>
}

export function runConnectorContract (impl: ConnectorImplementation): void {
  describe(`InstanceConnector contract: ${impl.name}`, () => {
    const h = useConnectorHarness(impl)
    describeWriteClauses(impl, h)
    describeEditClauses(impl, h)
  })
}

function useConnectorHarness (impl: ConnectorImplementation): ConnectorHarness {
  const temp = useTempStore(HERE)
  const state: { setup?: ConnectorSetup, edits?: InstanceEdits, stopped: boolean, pulling: boolean, timers?: TimerTracker } = { stopped: true, pulling: false }
  const recorded: Array<{ change: LocalChange, stored: StoredObject }> = []

  beforeEach(async () => {
    const store = temp.store
    const setup = await impl.setUp({ store, dataDir: temp.dir })
    state.setup = setup
    const blobs = createBlobStore(join(temp.dir, 'blobs'))
    await blobs.open()
    // as in the agent: a change may reference only blobs the connector has put
    const writeDeps = { store, domain: HERE, now: Date.now, rules: [], blobs: localBlobAccess(blobs) }
    const context: ConnectorContext = {
      store,
      blobs,
      log: testLogger(HERE),
      pullsIdle: () => !state.pulling,
      recordLocalChange: async (change, rows, precondition) => {
        const stored = await recordInstanceChange({
          ...writeDeps,
          // no rule here makes a type read-only, so nothing is ever reverted
          revert: async (object) => { throw new Error(`unexpected revert of ${object.uid}`) },
          onReverted: () => {}
        }, change, rows, precondition)
        if (stored !== undefined) recorded.push({ change, stored })
        return stored
      }
    }
    state.timers = trackTimers()
    await setup.connector.start(context)
    state.stopped = false
    if (!('off' in impl.edits) && setup.edits === undefined) throw new Error(`${impl.name} declares instance edits but its setUp gives none`)
    state.edits = 'off' in impl.edits ? undefined : setup.edits
    // what the instance held before the test (SENAITE's users and settings) is not the test's
    await state.edits?.detect()
    recorded.length = 0
  })

  afterEach(async () => {
    if (!state.stopped) await state.setup?.connector.stop()
    state.stopped = true
    state.timers?.stop()
    await state.setup?.tearDown?.()
    state.setup = undefined
  })

  return {
    get store () { return temp.store },
    get connector () { return state.setup!.connector },
    get view () { return state.setup!.view },
    get edits () { return state.edits },
    get recorded () { return recorded },
    pendingTimers: async () => await state.timers?.pending() ?? 0,
    async stop () {
      state.stopped = true
      await state.setup!.connector.stop()
    },
    async apply (versions, options = {}) {
      const store = temp.store
      state.pulling = true
      try {
        return await store.write(async (tx) => {
          const previous = await tx.getMany(versions.map((v) => v.uid))
          const writes = versions.map((next, i) => ({ previous: previous[i], next }))
          const results = await state.setup!.connector.applyRemote(writes, recordingRows(tx, store, options.rows))
          results.forEach((result, i) => {
            if (result.ok && versions[i] !== undefined) tx.putObject({ ...versions[i], conflicts: [], via: PEER })
          })
          if (options.failAfter !== undefined) throw options.failAfter
          return results
        }, { source: PEER })
      } finally {
        state.pulling = false
      }
    }
  }
}

/** ConnectorRows over the transaction, as the apply pipeline makes them, noting each write and the committed value it replaces. */
function recordingRows (tx: WriteTx, store: Store, log: RowWrite[] | undefined): ConnectorRows {
  return {
    get: async <T>(space: string, key: string) => await tx.getAux<T>(space, key),
    put: (space, key, value) => {
      log?.push({ op: 'put', space, key, value, before: store.getAux(space, key) })
      tx.putAux(space, key, value)
    },
    delete: (space, key) => {
      log?.push({ op: 'delete', space, key, before: store.getAux(space, key) })
      tx.deleteAux(space, key)
    }
  }
}
