/**
 * The echo-loop guard on two agents over real libp2p and LevelDB, each
 * beside an in-memory instance that really echoes: one keeps dates as
 * 2024/01/31, the other as 2024-01-31, so every version written into one is
 * changed and reported back as an edit. The guard must trip within a few
 * round trips, say so (log, metric, status, API), keep both sites flat
 * afterwards, let a person's edit through, and let an admin release it.
 * Instances that behave (or normalise the same way) must stay flat without
 * it, and fast lab edits, alternating labs and cascades must not trip it.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { describe, expect, it } from 'vitest'
import type { MemoryBehaviour, MemoryDocument } from '../../agent/connectors/memory.js'
import { sleep } from '../../agent/runtime/sleep.js'
import { adminCall, adminRequest } from '../helpers/admin.js'
import { dateFormat, expectFlat, labDocument, loopErrors, settled, startEchoPair, type EchoSide } from '../helpers/echo.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { waitFor } from '../helpers/nodes.js'

async function metric (side: EchoSide, name: string): Promise<number> {
  const families = parsePrometheusTextFormat(await (await adminRequest(side.agent, 'GET', '/metrics')).text()) as Array<{ name: string, metrics: Array<{ value?: string }> }>
  return Number(families.find((f) => f.name === name)?.metrics[0]?.value ?? NaN)
}

/** the side whose guard holds the object (exactly one does: the other never gets the held echo) */
async function holderOf (a: EchoSide, b: EchoSide): Promise<{ holder: EchoSide, other: EchoSide }> {
  await waitFor(() => a.agent.status().echoHeld + b.agent.status().echoHeld > 0, { what: 'the guard holding the object' })
  return a.agent.status().echoHeld > 0 ? { holder: a, other: b } : { holder: b, other: a }
}

describe('echo-loop guard over real agents', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])

  it('instances that format a date differently: trips within a few round trips, names the object and field, shows it, and both sites stay flat', async () => {
    const { a, b } = await startEchoPair(mesh, { a: dateFormat('/'), b: dateFormat('-') })
    a.instance.edit(labDocument('s-1', { date: '2024/01/31', title: 'Water' }))
    const { holder, other } = await holderOf(a, b)
    await settled(a, b)

    // a few round trips: the lab's version, then at most `bounces` (3) bounces on each side
    expect(holder.agent.status().feedHead).toBeLessThanOrEqual(7)
    expect(holder.agent.status().echoHeld).toBe(1)
    expect(other.agent.status().echoHeld).toBe(0)

    const [error] = loopErrors(holder)
    expect(loopErrors(holder)).toHaveLength(1)
    expect(error).toMatchObject({ uid: 's-1', type: 'Sample', id: 'S-1', fields: ['data.date'], bounces: 3 })
    expect(error!.diff).toEqual([{ field: 'data.date', written: expect.stringMatching(/^"2024.01.31"$/), reported: expect.stringMatching(/^"2024.01.31"$/) }])
    const [line] = error!.diff as Array<{ written: string, reported: string }>
    expect(line!.written).not.toBe(line!.reported)
    expect(String(error!.msg)).toContain('data.date')

    const status = (await adminCall<{ echoHeld: number, echoLoops: Array<Record<string, unknown>> }>(holder.agent, 'GET', '/api/status')).json
    expect(status.echoHeld).toBe(1)
    expect(status.echoLoops).toEqual([expect.objectContaining({ uid: 's-1', type: 'Sample', id: 'S-1', fields: ['data.date'], back: ['data.date'], editHeld: true })])
    expect((await adminCall<{ count: number }>(holder.agent, 'GET', '/api/echo-loops')).json.count).toBe(1)
    expect(await metric(holder, 'labmesh_echo_loops_total')).toBe(1)
    expect(await metric(holder, 'labmesh_echo_held_objects')).toBe(1)
    expect(await metric(other, 'labmesh_echo_loops_total')).toBe(0)

    // idle: dozens of polls, not one write into either instance, not one feed entry
    await expectFlat([a, b], 1500)
    // both sites hold the same date, each in its own format
    expect(a.instance.get('s-1')!.data.date).toBe('2024/01/31')
    expect(b.instance.get('s-1')!.data.date).toBe('2024-01-31')
  })

  it('without the guard (echoGuard.enabled: false) the same instances never stop bouncing', async () => {
    const { a, b } = await startEchoPair(mesh, { a: dateFormat('/'), b: dateFormat('-') }, { echoGuard: { enabled: false } })
    a.instance.edit(labDocument('s-0', { date: '2024/01/31' }))
    await waitFor(() => a.agent.status().feedHead > 10, { what: 'the loop going round' })
    const head = a.agent.status().feedHead
    await waitFor(() => a.agent.status().feedHead > head + 10, { what: 'the loop still going round' })
    expect(a.agent.status().echoHeld + b.agent.status().echoHeld).toBe(0)
  })

  it('a person\'s edit of another field gets through and the loop is held again at once; a restart keeps the hold', async () => {
    const { a, b } = await startEchoPair(mesh, { a: dateFormat('/'), b: dateFormat('-') })
    a.instance.edit(labDocument('s-2', { date: '2024/02/01', remarks: '' }))
    const { holder, other } = await holderOf(a, b)
    await settled(a, b)

    holder.instance.edit({ ...holder.instance.get('s-2')!, data: { ...holder.instance.get('s-2')!.data, remarks: 'checked by a person' } })
    await waitFor(async () => (await other.agent.documents.get('s-2'))?.data.remarks === 'checked by a person', { what: 'the person\'s edit on the other side' })
    expect(holder.lines.some((l) => String(l.msg).startsWith('echo loop released') && l.cause === 'edited-beyond')).toBe(true)
    // held again: by the learned fields, at the first bounce
    await waitFor(() => loopErrors(holder).length === 2, { what: 'the loop held again' })
    expect(loopErrors(holder)[1]).toMatchObject({ uid: 's-2', fields: ['data.date'], bounces: 1 })
    await settled(a, b)
    await expectFlat([a, b], 600)

    // the hold is in the store: after a restart the instance's held edit, reported again, is not sent out
    const head = holder.agent.status().feedHead
    await holder.agent.stop()
    await holder.agent.start()
    expect(holder.agent.status().echoHeld).toBe(1)
    expect(holder.agent.status().echoLoops[0]).toMatchObject({ uid: 's-2', editHeld: false })
    holder.instance.edit({ ...holder.instance.get('s-2')! }) // the instance reports the same content again
    await holder.instance.poll()
    expect(holder.agent.status().feedHead).toBe(head)
  })

  it('an admin releases the hold: the held edit is recorded; with the instance fixed, both sides converge and stay flat', async () => {
    const fixed = { on: true }
    const { a, b } = await startEchoPair(mesh, { a: dateFormat('/', fixed), b: dateFormat('-', fixed) })
    a.instance.edit(labDocument('s-3', { date: '2024/03/01' }))
    const { holder, other } = await holderOf(a, b)
    await settled(a, b)

    fixed.on = false // the sites' admins stop the formatting
    expect((await adminCall(holder.agent, 'POST', '/api/echo-loops/nothing-held/release')).status).toBe(404)
    const released = await adminCall(holder.agent, 'POST', '/api/echo-loops/s-3/release')
    expect(released).toEqual({ status: 200, json: { uid: 's-3', released: true, recorded: true } })
    expect(holder.agent.status().echoHeld).toBe(0)
    const date = holder.instance.get('s-3')!.data.date
    await waitFor(() => other.instance.get('s-3')?.data.date === date, { what: 'the released edit in the other instance' })
    await settled(a, b)
    await expectFlat([a, b], 600)
    expect(a.agent.status().echoHeld + b.agent.status().echoHeld).toBe(0)
    expect(holder.lines.some((l) => String(l.msg).startsWith('echo loop released by an admin'))).toBe(true)
  })

  const upper: MemoryBehaviour = { normalise: (doc) => ({ ...doc, data: { ...doc.data, title: String(doc.data.title ?? '').toUpperCase() } }) }
  it.each([
    ['well-behaved instances', {}],
    ['instances that both normalise titles the same way', { a: upper, b: upper }]
  ])('%s stay flat: zero writes and zero feed growth over an idle period', async (_name, behaviours) => {
    const { a, b } = await startEchoPair(mesh, behaviours)
    for (let i = 0; i < 5; i++) a.instance.edit(labDocument(`w-${i}`, { title: `sample ${i}` }))
    b.instance.edit(labDocument('w-b', { title: 'from b' }))
    await waitFor(() => b.instance.get('w-4') !== undefined && a.instance.get('w-b') !== undefined, { what: 'both labs\' objects in both instances' })
    await settled(a, b)
    await expectFlat([a, b], 1500)
    expect(a.agent.status().echoHeld + b.agent.status().echoHeld).toBe(0)
    expect(a.instance.get('w-0')!.data.title).toBe(b.instance.get('w-0')!.data.title)
  })
})

describe('echo-loop guard: no false positives', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])

  it('a lab editing one object fast, and the other lab answering it, do not trip it', async () => {
    const { a, b } = await startEchoPair(mesh, {}, { echoGuard: { window: '300ms' } })
    a.instance.edit(labDocument('f-1', { result: 0, remarks: '' }))
    for (let i = 1; i <= 30; i++) {
      a.instance.edit({ ...a.instance.get('f-1')!, data: { ...a.instance.get('f-1')!.data, result: i } })
      await a.instance.poll()
    }
    await waitFor(async () => (await b.agent.documents.get('f-1'))?.data.result === 30, { what: 'the last fast edit on lab-b' })
    // the labs take turns on the same object, each a moment after the other's edit arrived
    for (let i = 1; i <= 4; i++) {
      for (const [from, to, field] of [[a, b, 'result'], [b, a, 'remarks']] as const) {
        const value = `${field} ${i}`
        from.instance.edit({ ...from.instance.get('f-1')!, data: { ...from.instance.get('f-1')!.data, [field]: value } })
        await waitFor(() => to.instance.get('f-1')?.data[field] === value, { what: `${field} ${i} in the other instance` })
        await sleep(400) // a person reads it before answering: longer than the echo window
      }
    }
    await settled(a, b)
    expect(a.agent.status().echoHeld + b.agent.status().echoHeld).toBe(0)
    expect(loopErrors(a).length + loopErrors(b).length).toBe(0)
  })

  it('cascades the agent\'s own writes set off in the instance do not trip it, and settle', async () => {
    // lab-a's instance moves a sample to "to_be_verified" and counts its analyses when an analysis is written into it
    const cascade: MemoryBehaviour = {
      cascade: (written, get) => {
        if (written.type !== 'Analysis' || written.parent === null) return []
        const sample = get(written.parent)
        if (sample === undefined) return []
        const count = Number(sample.data.analyses ?? 0) + 1
        return [{ ...sample, data: { ...sample.data, analyses: count, review_state: 'to_be_verified' } } satisfies MemoryDocument]
      }
    }
    const { a, b } = await startEchoPair(mesh, { a: cascade })
    b.instance.edit(labDocument('c-s', { review_state: 'received' }))
    await b.instance.poll()
    for (let i = 0; i < 6; i++) {
      b.instance.edit(labDocument(`c-an-${i}`, { keyword: `Ca${i}` }, { type: 'Analysis', parent: 'c-s', refs: ['c-s'] }))
      await b.instance.poll()
      await waitFor(() => a.instance.get(`c-an-${i}`) !== undefined, { what: `analysis ${i} written on lab-a` })
    }
    await waitFor(async () => (await b.agent.documents.get('c-s'))?.data.analyses === 6, { what: 'the cascaded count on lab-b' })
    await settled(a, b)
    await expectFlat([a, b], 800)
    expect(a.agent.status().echoHeld + b.agent.status().echoHeld).toBe(0)
  })
})
