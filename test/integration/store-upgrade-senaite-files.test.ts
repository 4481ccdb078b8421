/**
 * The senaite-files upgrade step (store/upgrades/step-senaite-files.ts): a
 * store of the schema before it, holding a SENAITE object with its file
 * inline (as the connector read files before blobs), opens upgraded with
 * every object and connector row as it was; the file memo the connector
 * writes after it survives a reopen; code from before the step refuses the
 * upgraded store.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FILE_SPACE, type FileRow } from '../../agent/connectors/senaite/attachments.js'
import { StoreSchemaTooNewError } from '../../store/errors.js'
import { createLevelStore } from '../../store/level-store.js'
import { SCHEMA_VERSION, UPGRADE_STEPS } from '../../store/upgrades/index.js'
import { senaiteFilesStep } from '../../store/upgrades/step-senaite-files.js'
import { inspectStoreSchema } from '../../store/upgrades/inspect.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'
import { allStored } from '../helpers/store-audit.js'

const DOMAIN = 'lab-a'
const BEFORE = UPGRADE_STEPS.filter((s) => s.to < senaiteFilesStep.to)
const UP_TO = UPGRADE_STEPS.filter((s) => s.to <= senaiteFilesStep.to)
const INLINE = { filename: 'sop.txt', content_type: 'text/plain', data: Buffer.from('ICP-OES operating procedure').toString('base64') }

describe('store upgrade: SENAITE files through blobs', () => {
  let dir: string
  let location: string
  beforeEach(async () => { dir = await makeTempDir(); location = join(dir, 'store') })
  afterEach(async () => { await removeDir(dir) })

  it('an older store with an inline file opens upgraded and unchanged; file rows written after it survive a reopen; older code refuses it', async () => {
    const old = createLevelStore({ location, domain: DOMAIN, upgradeSteps: BEFORE })
    await old.open()
    await old.write(async (tx) => {
      await tx.getMany(['m-1'])
      tx.putObject({ uid: 'm-1', type: 'Method', id: 'method-1', parent: null, refs: [], data: { title: 'ICP-OES', MethodDocument: INLINE }, vector: { [DOMAIN]: 1 }, origin: DOMAIN, deleted: false, at: 0, conflicts: [], via: null })
      tx.putAux('senaite:hash', 'm-1', 'abc')
      tx.putAux('senaite:map', 'm-1', { uid: 'm-1', path: '/senaite/methods/method-1', id: 'method-1' })
    })
    const before = { objects: await allStored(old), head: old.info().head, hash: await old.getAux('senaite:hash', 'm-1') }
    await old.close()
    expect(await inspectStoreSchema(location, UP_TO)).toMatchObject({ schema: senaiteFilesStep.to - 1, pending: [{ to: senaiteFilesStep.to, name: 'senaite-files', rows: 0 }] })

    const store = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UP_TO })
    await store.open()
    expect({ objects: await allStored(store), head: store.info().head, hash: await store.getAux('senaite:hash', 'm-1') }).toEqual(before)
    expect((await store.getObject('m-1'))?.data.MethodDocument).toEqual(INLINE)
    const row: FileRow = { modified: '2026-12-03T13:00:00+00:00', filename: 'sop.txt', contentType: 'text/plain', blob: `sha256:${'ab'.repeat(32)}`, size: 27 }
    await store.write((tx) => { tx.putAux(FILE_SPACE, 'http://127.0.0.1:1/senaite/methods/method-1/at_download/MethodDocument', row) })
    await store.close()

    const reopened = createLevelStore({ location, domain: DOMAIN, upgradeSteps: UP_TO })
    await reopened.open()
    expect(await reopened.getAux(FILE_SPACE, 'http://127.0.0.1:1/senaite/methods/method-1/at_download/MethodDocument')).toEqual(row)
    await reopened.close()

    const older = createLevelStore({ location, domain: DOMAIN, upgradeSteps: BEFORE })
    expect(await older.open().catch((e: unknown) => e)).toBeInstanceOf(StoreSchemaTooNewError)
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(senaiteFilesStep.to)
  })
})
