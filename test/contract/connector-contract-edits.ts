/**
 * InstanceConnector contract, edits made in the instance: what the agent
 * wrote there (creates, updates, tombstones) is never reported back as an
 * edit; an edit or a new object made by the lab is reported through
 * recordLocalChange exactly once and becomes a local version; once stopped,
 * the connector reports nothing more.
 */
import { describe, expect } from 'vitest'
import type { ConnectorHarness, ConnectorImplementation, InstanceEdits } from './connector-contract.js'
import { clause, HERE, method, PEER, sleep, tombstone } from './connector-fixtures.js'

export function describeEditClauses (impl: ConnectorImplementation, h: ConnectorHarness): void {
  const off = 'off' in impl.edits ? impl.edits.off : undefined
  const edits = (): InstanceEdits => h.edits!
  /** two whole passes: the first finds the edit, the second must find nothing new */
  const detectTwice = async (): Promise<void> => {
    await edits().detect()
    await edits().detect()
  }

  describe('edits in the instance', () => {
    clause('what the agent wrote into the instance is not reported back as an edit', async () => {
      await h.apply([method('e-1', 'one'), method('e-2', 'two')])
      await h.apply([method('e-1', 'one, revised', 2)])
      await h.apply([tombstone(method('e-2', 'two'), 2)])
      await detectTwice()
      expect(h.recorded.map((r) => r.change.uid)).toEqual([])
      expect(await h.store.getObject('e-1')).toMatchObject({ vector: { [PEER]: 2 }, via: PEER })
    }, { off })

    clause('an edit made in the instance is reported once, and becomes a local version over the one pulled', async () => {
      await h.apply([method('l-1', 'from the mesh'), method('l-2', 'left alone')])
      await edits().edit('l-1', 'edited in the lab')
      await detectTwice()
      expect(h.recorded.map((r) => r.change.uid)).toEqual(['l-1'])
      expect(h.recorded[0]!.change).toMatchObject({ uid: 'l-1', type: 'Method', deleted: false, data: { title: 'edited in the lab' } })
      expect(await h.store.getObject('l-1')).toMatchObject({ data: { title: 'edited in the lab' }, vector: { [PEER]: 1, [HERE]: 1 }, via: null })
      expect(await h.view.read('l-1')).toMatchObject({ data: { title: 'edited in the lab' } })
    }, { off })

    clause('an object created in the instance is reported once, as a new local object', async () => {
      await edits().create('made in the lab')
      await detectTwice()
      const reports = h.recorded.filter((r) => r.change.data.title === 'made in the lab')
      expect(reports).toHaveLength(1)
      expect(h.recorded).toHaveLength(1)
      const uid = reports[0]!.change.uid
      expect(await h.store.getObject(uid)).toMatchObject({ type: 'Method', deleted: false, data: { title: 'made in the lab' }, vector: { [HERE]: 1 }, origin: HERE, via: null })
      expect(await h.view.read(uid)).toMatchObject({ deleted: false, data: { title: 'made in the lab' } })
    }, { off })

    clause('once stopped, the connector reports no edit', async () => {
      await h.apply([method('s-1', 'before the stop')])
      await h.stop()
      await edits().edit('s-1', 'edited after the stop')
      // a connector that watches on its own would have looked a few times by now
      await sleep(3 * edits().intervalMs)
      expect(h.recorded).toEqual([])
    }, { off })
  })
}
