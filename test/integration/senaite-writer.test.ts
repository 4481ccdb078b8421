/**
 * The SENAITE writer's account of its own writes, which the poller relies on
 * to tell the agent's writes from the lab's edits: one batch at a time (a
 * revert may come from the poller while a pull's batch is being written),
 * an odd generation while a batch runs, and the SENAITE uids each batch
 * touched. Real simulator over HTTP, real LevelDB.
 */
import { createFileTransfers } from '../../agent/connectors/file-transfers.js'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createAttachments } from '../../agent/connectors/senaite/attachments.js'
import { createSenaiteClient, type SenaiteClient } from '../../agent/connectors/senaite/client.js'
import { createContainers } from '../../agent/connectors/senaite/containers.js'
import { loadMapping, type Mapping } from '../../agent/connectors/senaite/mapping.js'
import { createWriter, type Writer } from '../../agent/connectors/senaite/writer.js'
import type { ObjectVersion } from '../../protocol/object.js'
import { createBlobStore } from '../../store/blobs/blob-store.js'
import { testLogger } from '../helpers/nodes.js'
import { describeLayouts, startSimulator } from '../helpers/senaite.js'
import { useTempStore } from '../helpers/temp-store.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'

const method = (uid: string, title: string): ObjectVersion => ({ uid, type: 'Method', id: uid, parent: null, refs: [], data: { title }, vector: { 'lab-a': 1 }, origin: 'lab-a', deleted: false, at: 1 })

describeLayouts('SENAITE writer', (layout) => {
  const temp = useTempStore('lab-b')
  let sim: SenaiteSimulator
  let client: SenaiteClient
  let mapping: Mapping
  let writer: Writer

  beforeEach(async () => {
    sim = await startSimulator({ layout, readLatencyMs: 5 })
    client = createSenaiteClient({ url: sim.url(), username: 'labman', password: 'labman', concurrency: 4 })
    mapping = await loadMapping(temp.store, join(temp.dir, 'journal.ndjson'))
    const containers = createContainers({ client, mapping, layout, portalPath: '/senaite' })
    const blobs = createBlobStore(join(temp.dir, 'blobs'))
    await blobs.open()
    const attachments = createAttachments({ client, store: temp.store, blobs, maxFileBytes: 1024 * 1024, log: testLogger('lab-b'), transfers: createFileTransfers(testLogger('lab-b')) })
    writer = createWriter({ client, mapping, containers, layout, store: temp.store, username: 'labman', log: testLogger('lab-b'), attachments })
  })
  afterEach(async () => {
    await mapping.close()
    await client.close()
    await sim.stop()
  })

  it('writes one batch at a time, odd while writing, and says which site objects each batch touched, the running one included', async () => {
    const start = writer.generation
    const seen: number[] = []
    const first = writer.write([{ previous: undefined, next: method('m-1', 'one') }], undefined)
    const second = writer.write([{ previous: undefined, next: method('m-2', 'two') }], undefined)
    await new Promise((resolve) => setImmediate(resolve)) // the first batch has started
    seen.push(writer.generation)
    // while a batch is written, what it touched so far (nothing sent has been answered yet)
    expect(writer.touchedSince(start)?.written.size, 'told while a batch is written').toBe(0)
    const idle = writer.idle().then(() => writer.generation)
    const [r1, r2] = await Promise.all([first, second])
    expect([r1, r2]).toEqual([[{ ok: true }], [{ ok: true }]])
    // two batches, one after the other: +2 each, never both at once
    expect(await idle).toBe(start + 4)
    expect(seen[0]! % 2).toBe(1)
    const m1 = mapping.local('m-1')!.uid
    const m2 = mapping.local('m-2')!.uid
    expect([...writer.touchedSince(start)!.written].sort()).toEqual([m1, m2].sort())
    expect([...writer.touchedSince(start + 2)!.written]).toEqual([m2])
    expect(writer.touchedSince(start + 4)!.written.size).toBe(0)
    expect(sim.site.get(m1)?.fields.title).toBe('one')
  })
})
