/**
 * The echo-holds upgrade step (store/upgrades/step-echo-holds.ts): a store
 * of the schema before it opens upgraded with every object, feed entry and
 * connector row as it was; the echo-loop guard then keeps its holds in it
 * across a reopen; code from before the step refuses the upgraded store.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEchoGuard, ECHO_HOLD_SPACE, type EchoHoldRow } from '../../agent/apply/echo-holds.js'
import { silentLogger } from '../../agent/runtime/logger.js'
import { StoreSchemaTooNewError } from '../../store/errors.js'
import { createLevelStore } from '../../store/level-store.js'
import { SCHEMA_VERSION, UPGRADE_STEPS } from '../../store/upgrades/index.js'
import { echoHoldsStep } from '../../store/upgrades/step-echo-holds.js'
import { inspectStoreSchema } from '../../store/upgrades/inspect.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'
import { allStored } from '../helpers/store-audit.js'

const DOMAIN = 'lab-a'
/** the steps up to the one before echo-holds: the old schema */
const BEFORE = UPGRADE_STEPS.filter((s) => s.to < echoHoldsStep.to)
const UP_TO = UPGRADE_STEPS.filter((s) => s.to <= echoHoldsStep.to)

describe('store upgrade: echo holds', () => {
  let dir: string
  let location: string
  beforeEach(async () => { dir = await makeTempDir(); location = join(dir, 'store') })
  afterEach(async () => { await removeDir(dir) })

  it('an older store opens upgraded and unchanged; holds written after it survive a reopen; older code refuses it', async () => {
    const old = createLevelStore({ location, domain: DOMAIN, upgradeSteps: BEFORE })
    await old.open()
    await old.write(async (tx) => {
      await tx.getMany(['s-1', 's-2'])
      for (const uid of ['s-1', 's-2']) tx.putObject({ uid, type: 'Sample', id: uid, parent: null, refs: [], data: { date: '2024-01-31' }, vector: { [DOMAIN]: 1 }, origin: DOMAIN, deleted: false, at: 0, conflicts: [], via: null })
      tx.putAux('senaite:hash', 's-1', 'abc')
    })
    const before = { objects: await allStored(old), head: old.info().head, hash: await old.getAux('senaite:hash', 's-1') }
    await old.close()
    expect(await inspectStoreSchema(location, UP_TO)).toMatchObject({ schema: echoHoldsStep.to - 1, pending: [{ to: echoHoldsStep.to, name: 'echo-holds', rows: 0 }] })

    const store = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UP_TO })
    await store.open()
    expect({ objects: await allStored(store), head: store.info().head, hash: await store.getAux('senaite:hash', 's-1') }).toEqual(before)
    const holds: Array<[string, unknown]> = []
    for await (const row of store.iterateAux(ECHO_HOLD_SPACE)) holds.push(row)
    expect(holds).toEqual([])

    // a hold, as the guard writes it, is there for the next guard after a reopen
    const row: EchoHoldRow = {
      uid: 's-1',
      type: 'Sample',
      id: 's-1',
      peer: 'lab-b',
      hold: { since: 5, signature: { echo: ['data.date'], back: ['data.date'] }, bounces: 3, on: { [DOMAIN]: 1 }, reported: {}, resumed: false },
      diff: [{ field: 'data.date', written: '"2024-01-31"', reported: '"2024/01/31"' }]
    }
    await store.write((tx) => { tx.putAux(ECHO_HOLD_SPACE, 's-1', row) })
    await store.close()
    const reopened = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UP_TO })
    await reopened.open()
    const guard = createEchoGuard({ store: reopened, log: silentLogger(), now: () => 10, options: { bounces: 3, windowMs: 1000, roundTripMs: 60_000 } })
    await guard.load()
    expect(guard.held).toBe(1)
    expect(guard.holds()).toEqual([expect.objectContaining({ uid: 's-1', fields: ['data.date'], peer: 'lab-b', editHeld: false })])
    await reopened.close()

    const older = createLevelStore({ location, domain: DOMAIN, upgradeSteps: BEFORE })
    expect(await older.open().catch((e: unknown) => e)).toBeInstanceOf(StoreSchemaTooNewError)
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(echoHoldsStep.to)
  })
})
