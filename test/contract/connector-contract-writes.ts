/**
 * InstanceConnector contract, remote writes and lifecycle: applyRemote
 * answers each write on its own, in order; creates, updates and tombstones
 * show in the instance; a refusal is `ok: false` with a code and a reason
 * and leaves the rest of the batch applied; rows written through
 * ConnectorRows land only with the store transaction around them; a write
 * whose transaction failed lands when applied again; stop leaves no timer
 * and may be called twice.
 */
import { describe, expect } from 'vitest'
import type { RemoteWriteResult } from '../../agent/connectors/connector.js'
import type { ConnectorHarness, ConnectorImplementation, RowWrite } from './connector-contract.js'
import { clause, method, tombstone } from './connector-fixtures.js'

const offOf = (capability: object): string | undefined => 'off' in capability ? (capability as { off: string }).off : undefined

/** each result on its own: an object saying ok, never a bare boolean for the batch */
function oks (results: readonly RemoteWriteResult[]): boolean[] {
  return results.map((r) => {
    expect(typeof r, 'one result object per write').toBe('object')
    return r.ok
  })
}

export function describeWriteClauses (impl: ConnectorImplementation, h: ConnectorHarness): void {
  describe('remote writes', () => {
    clause('applyRemote answers every write with a result of its own, in order; an empty batch gets none', async () => {
      expect(await h.apply([])).toEqual([])
      await h.apply([method('w-2', 'two')])
      const results = await h.apply([method('w-1', 'one'), method('w-2', 'two, revised', 2), tombstone(method('w-3', 'three'), 2)])
      expect(results).toHaveLength(3)
      expect(oks(results)).toEqual([true, true, true])
    })

    clause('creates, updates and tombstones show in the instance', async () => {
      await h.apply([method('v-1', 'first'), method('v-2', 'second')])
      expect(await h.view.read('v-1')).toMatchObject({ deleted: false, data: { title: 'first' } })
      expect(await h.view.read('v-2')).toMatchObject({ deleted: false, data: { title: 'second' } })
      await h.apply([method('v-1', 'first, revised', 2)])
      expect(await h.view.read('v-1')).toMatchObject({ deleted: false, data: { title: 'first, revised' } })
      await h.apply([tombstone(method('v-2', 'second'), 2)])
      expect((await h.view.read('v-2'))?.deleted).toBe(true)
      expect(await h.view.read('v-1')).toMatchObject({ deleted: false, data: { title: 'first, revised' } })
      expect(await h.view.read('never-written')).toBeUndefined()
    })

    clause('a version that brings a tombstoned object back shows it in the instance again', async () => {
      const first = method('b-1', 'here')
      await h.apply([first])
      await h.apply([tombstone(first, 2)])
      expect((await h.view.read('b-1'))?.deleted).toBe(true)
      // the mesh revives objects: a conflict resolution that picks a live sibling, a document PUT over a tombstone
      await h.apply([method('b-1', 'back again', 3)])
      expect(await h.view.read('b-1')).toMatchObject({ deleted: false, data: { title: 'back again' } })
    }, { bug: impl.knownBugs?.['revive-after-tombstone'] })

    const refusal = 'off' in impl.refusal ? undefined : impl.refusal
    clause('a refused write is ok:false with a code and a reason, in its own place; the rest of the batch applies', async () => {
      // off centre, so that an answer out of place shows
      const results = await h.apply([method('r-1', 'fine'), method('r-2', refusal!.title), method('r-3', 'also fine'), method('r-4', 'fine too')])
      expect(oks(results)).toEqual([true, false, true, true])
      const refused = results[1]!
      if (refused.ok) throw new Error('unreachable')
      expect(refused.code).toMatch(/^[A-Z][A-Z0-9_]*$/)
      if (refusal!.code !== undefined) expect(refused.code).toBe(refusal!.code)
      expect(refused.reason).toMatch(/\S/)
      expect(typeof refused.retryable).toBe('boolean')
      expect(await h.view.read('r-2')).toBeUndefined()
      expect(await h.view.read('r-1')).toMatchObject({ data: { title: 'fine' } })
      expect(await h.view.read('r-3')).toMatchObject({ data: { title: 'also fine' } })
      expect(await h.view.read('r-4')).toMatchObject({ data: { title: 'fine too' } })
    }, { off: offOf(impl.refusal) })

    clause('rows written through ConnectorRows land only when the store transaction around them commits', async () => {
      const failure = new Error('the store transaction fails after the connector answered')
      const lost: RowWrite[] = []
      await expect(h.apply([method('row-1', 'one'), method('row-2', 'two')], { rows: lost, failAfter: failure })).rejects.toBe(failure)
      expect(lost.length, 'a connector that keeps rows wrote some').toBeGreaterThan(0)
      for (const row of lost) expect(await h.store.getAux(row.space, row.key), `${row.space}/${row.key}`).toEqual(await row.before)

      const kept: RowWrite[] = []
      await h.apply([method('row-1', 'one', 2), method('row-2', 'two', 2), method('row-3', 'three')], { rows: kept })
      expect(kept.length).toBeGreaterThan(0)
      const last = new Map(kept.map((row) => [`${row.space}\u0000${row.key}`, row]))
      for (const row of last.values()) expect(await h.store.getAux(row.space, row.key), `${row.space}/${row.key}`).toEqual(row.op === 'put' ? row.value : undefined)
    }, { off: offOf(impl.rows) })

    clause('a write whose store transaction failed lands when applied again', async () => {
      const failure = new Error('the store transaction fails after the connector answered')
      await expect(h.apply([method('again', 'first try')], { failAfter: failure })).rejects.toBe(failure)
      expect(await h.store.getObject('again')).toBeUndefined()
      // the pull that comes back may bring a newer version
      expect(oks(await h.apply([method('again', 'second try', 2)]))).toEqual([true])
      expect(await h.view.read('again')).toMatchObject({ deleted: false, data: { title: 'second try' } })
      expect(oks(await h.apply([method('again', 'third try', 3)]))).toEqual([true])
      expect(await h.view.read('again')).toMatchObject({ deleted: false, data: { title: 'third try' } })
    })
  })

  describe('lifecycle', () => {
    clause('stop leaves no timer running', async () => {
      await h.apply([method('t-1', 'one')])
      // a connector that watches the instance on its own: caught between two looks
      if (h.edits !== undefined) await h.edits.detect()
      await h.stop()
      expect(await h.pendingTimers()).toBe(0)
    })

    clause('stop may be called again once stopped', async () => {
      await h.stop()
      await h.connector.stop()
    }, { bug: impl.knownBugs?.['stop-idempotent'] })
  })
}
