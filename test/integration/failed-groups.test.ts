/**
 * Errors an admin can see: every refusal by the instance is logged once per
 * object with the instance's own message — again only when the message
 * changes, or the object is refused again after it had been applied, never
 * per retry — and the failed queue is shown grouped by reason code, with
 * the messages behind each code, a filter by code that keeps the paging of
 * GET /api/failed, and a retry per group. Two agents over real libp2p and
 * LevelDB; lab-b's instance refuses what a SENAITE site refused in issue 12.
 */
import { describe, expect, it } from 'vitest'
import { createMemoryConnector } from '../../agent/connectors/memory.js'
import type { FailedSummary } from '../../agent/apply/failed-summary.js'
import type { FailedEntry } from '../../store/types.js'
import { adminCall } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from '../helpers/nodes.js'

const DEPARTMENT = "Creation of 'Department' in '/senaite/clients' is not allowed"
const NO_PREFIX = "'NoneType' object has no attribute 'getPrefix'"
const PADDING = 'Incorrect padding'

describe('refusals by the instance and the failed queue by reason', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'])

  it('logs each refusal once per object with the instance\'s message, groups the queue by code, and retries a group', async () => {
    const [A, B] = [mesh.node('lab-a'), mesh.node('lab-b')]
    const refusing = { samples: true, departmentMessage: new Map<string, string>() }
    const instance = createMemoryConnector({
      behaviour: {
        refuse: (doc) => {
          if (doc.type === 'Department') return { code: 'INSTANCE_REFUSED', reason: refusing.departmentMessage.get(doc.uid) ?? DEPARTMENT, retryable: false }
          if (doc.type === 'AnalysisRequest' && refusing.samples) return { code: 'INSTANCE_REFUSED', reason: NO_PREFIX, retryable: false }
          if (doc.type === 'Attachment') return { code: 'INSTANCE_ERROR', reason: PADDING, retryable: true }
          return undefined
        }
      }
    })
    const a = await mesh.start(meshConfig(A, [{ node: B }]))
    await a.documents.putMany([
      { uid: 'client-1', type: 'Client', id: 'client-1', data: {} },
      ...['dept-1', 'dept-2', 'dept-3'].map((uid) => ({ uid, type: 'Department', id: uid, data: {} })),
      ...['sample-1', 'sample-2'].map((uid) => ({ uid, type: 'AnalysisRequest', id: uid.toUpperCase(), parent: 'client-1', data: {} })),
      { uid: 'att-1', type: 'Attachment', id: 'att-1', data: { file: 'not base64' } },
      { uid: 'orphan-1', type: 'AnalysisRequest', id: 'ORPHAN-1', parent: 'client-nowhere', data: {} }
    ])
    const captured = capturingLogger('lab-b')
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }]), { connector: instance, logger: captured.logger })
    await waitFor(() => b.status().failed === 7, { what: 'seven objects parked on lab-b' })
    expect(await b.documents.get('client-1')).toBeDefined()

    const refusals = (): Array<Record<string, unknown>> => captured.lines.filter((l) => String(l.msg).startsWith('the instance refused'))
    const linesFor = (uid: string): Array<Record<string, unknown>> => refusals().filter((l) => l.uid === uid)
    expect(refusals().map((l) => l.uid).sort()).toEqual(['att-1', 'dept-1', 'dept-2', 'dept-3', 'sample-1', 'sample-2'])
    expect(linesFor('dept-1')[0]).toMatchObject({ level: 50, type: 'Department', id: 'dept-1', peer: 'lab-a', code: 'INSTANCE_REFUSED', reason: DEPARTMENT })
    expect(String(linesFor('dept-1')[0]!.msg)).toContain(DEPARTMENT)
    expect(linesFor('att-1')[0]).toMatchObject({ level: 40, code: 'INSTANCE_ERROR', reason: PADDING, retryable: true })
    expect(captured.lines.some((l) => l.uid === 'orphan-1' && String(l.msg).startsWith('the instance refused'))).toBe(false) // the agent parked it, the instance never saw it

    // retries that fail the same way log nothing new
    for (let i = 0; i < 2; i++) {
      const before = (await b.failed.list({ limit: 1, code: 'INSTANCE_REFUSED' }))[0]!.attempts // dept-1, the group's first
      const retried = (await adminCall<{ applied: boolean, entry: FailedEntry }>(b, 'POST', '/api/failed/dept-1/retry')).json
      expect(retried.applied).toBe(false)
      expect(retried.entry.attempts).toBeGreaterThan(before) // automatic retries (backoff) may add more
    }
    expect((await adminCall(b, 'POST', '/api/failed/groups/INSTANCE_REFUSED/retry')).json).toEqual({ code: 'INSTANCE_REFUSED', retried: 5, applied: 0, parked: 5 })
    expect(refusals()).toHaveLength(6)

    // grouped by code, largest first, with the instance's messages
    const summary = (await adminCall<FailedSummary>(b, 'GET', '/api/failed/summary')).json
    expect(summary.total).toBe(7)
    expect(summary.groups.map((g) => [g.code, g.count])).toEqual([['INSTANCE_REFUSED', 5], ['INSTANCE_ERROR', 1], ['MISSING_DEPENDENCY', 1]])
    expect(summary.groups[0]).toMatchObject({
      messages: [{ reason: DEPARTMENT, count: 3 }, { reason: NO_PREFIX, count: 2 }],
      distinctMessages: 2,
      peers: { 'lab-a': 5 },
      types: { Department: 3, AnalysisRequest: 2 },
      uids: ['dept-1', 'dept-2', 'dept-3', 'sample-1', 'sample-2']
    })
    expect(summary.groups[0]!.maxAttempts).toBeGreaterThanOrEqual(4)
    expect(summary.groups[1]!.messages).toEqual([{ reason: PADDING, count: 1 }])

    // one group's objects, paged like the whole queue (total stays the queue's)
    const page1 = (await adminCall<{ count: number, total: number, next: string | null, items: FailedEntry[] }>(b, 'GET', '/api/failed?code=INSTANCE_REFUSED&limit=3')).json
    expect(page1).toMatchObject({ count: 3, total: 7, next: 'dept-3' })
    expect(page1.items.map((e) => e.uid)).toEqual(['dept-1', 'dept-2', 'dept-3'])
    const page2 = (await adminCall<{ count: number, next: string | null, items: FailedEntry[] }>(b, 'GET', '/api/failed?code=INSTANCE_REFUSED&limit=3&after=dept-3')).json
    expect(page2).toMatchObject({ count: 2, next: null })
    expect(page2.items.map((e) => e.uid)).toEqual(['sample-1', 'sample-2'])
    expect((await adminCall<{ count: number }>(b, 'GET', '/api/failed')).json.count).toBe(7)
    expect((await adminCall(b, 'POST', '/api/failed/groups/NO_SUCH_CODE/retry')).status).toBe(404)

    // the instance answers differently for one object: logged again, for that object only
    refusing.departmentMessage.set('dept-1', "Creation of 'Department' in '/senaite/bika_setup' is not allowed")
    await adminCall(b, 'POST', '/api/failed/dept-1/retry')
    expect(linesFor('dept-1').map((l) => l.reason)).toEqual([DEPARTMENT, "Creation of 'Department' in '/senaite/bika_setup' is not allowed"])
    expect(refusals()).toHaveLength(7)

    // the samples' cause is fixed: the group retry applies them
    refusing.samples = false
    expect((await adminCall(b, 'POST', '/api/failed/groups/INSTANCE_REFUSED/retry')).json).toEqual({ code: 'INSTANCE_REFUSED', retried: 5, applied: 2, parked: 3 })
    expect(b.status().failed).toBe(5)

    // applied, then refused again by a new version: that is news, logged again
    refusing.samples = true
    await a.documents.put({ uid: 'sample-1', type: 'AnalysisRequest', id: 'SAMPLE-1', parent: 'client-1', data: { remarks: 'edited' } })
    await waitFor(() => b.status().failed === 6, { what: 'sample-1 parked again' })
    expect(linesFor('sample-1')).toHaveLength(2)
    expect(linesFor('sample-2')).toHaveLength(1)
  })
})
