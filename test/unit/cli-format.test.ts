/** The CLI's tables and progress bar: what an admin reads in a terminal. */
import { describe, expect, it } from 'vitest'
import type { AgentStatusReport } from '../../agent/observe/status.js'
import { renderConflicts, renderFailedGroup, renderFailedSummary, renderStatus, sessionTerms, syncState } from '../../agent/cli/format.js'
import { FailedGroups } from '../../agent/apply/failed-summary.js'
import type { FailedEntry } from '../../store/types.js'
import { progressLine } from '../../agent/cli/sync.js'
import type { ProgressSnapshot } from '../../agent/sync/progress.js'
import type { PeerReport } from '../../agent/observe/status.js'

const progress = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  state: 'idle', initial: false, done: 0, remaining: 0, percent: 100, rate: 0, etaSeconds: 0, startedAt: 0, finishedAt: 0, remoteHead: 9, appliedSeq: 9, caughtUp: true, ...over
})
const peer = (over: Partial<PeerReport> = {}): PeerReport => ({
  name: 'master', peerId: 'p', pull: true, connected: true, address: undefined, lastContact: 58_000, lastError: undefined, pulled: 12_345, served: 6, skipped: 0, badSignatures: 0, unsigned: 0, pushedIn: 0, pushedOut: 0,
  remoteHead: 9, appliedSeq: 9, lagIn: 0, lagOut: 3, lag: 0, conflicts: 2, failed: 1, progress: progress(), sessionOpen: true, serving: 1,
  blobs: { transfers: [], fetched: 0, bytesFetched: 0, refused: 0, bytesServed: 0, served: 0 }, ...over
})

describe('CLI formatting', () => {
  it('renders the status table with lag both ways, counts and an honest sync column', () => {
    const status: AgentStatusReport = {
      domain: 'lab-b', peerId: '12D3KooWSelf', listen: [], httpUrl: 'http://127.0.0.1:8101', instance: 'embedded', epoch: 'e', objects: 50_000, feedHead: 50_010,
      conflicts: 2, failed: 1, readOnlyReverts: 0, echoHeld: 0, echoLoopsFound: 0, echoLoops: [], startedAt: 0, configFile: '/srv/lab-b/labmesh.yaml', configLoadedAt: 0,
      peers: [
        peer({ session: { protocol: 2, codec: 'brotli', push: true } }),
        peer({ name: 'lab-c', pull: false, connected: false, lastContact: undefined, lastError: 'cannot reach peer: dial timed out', progress: progress({ remoteHead: undefined, caughtUp: false, percent: 0 }) }),
        peer({ name: 'lab-d', lagIn: 38_000, progress: progress({ state: 'pulling', done: 12_000, remaining: 38_000, percent: 24, etaSeconds: 7, caughtUp: false }) })
      ]
    }
    const text = renderStatus(status, 60_000)
    expect(text).toContain('50,000 objects, feed head 50010, 2 conflict(s), 1 failed')
    expect(text).toContain('config  /srv/lab-b/labmesh.yaml, loaded 1m ago')
    const lines = text.split('\n')
    const header = lines.find((l) => l.startsWith('peer'))!
    for (const column of ['lag in', 'lag out', 'pulled', 'served', 'conflicts', 'failed', 'sync', 'session', 'last contact', 'last error']) expect(header).toContain(column)
    expect(lines.find((l) => l.startsWith('master'))).toMatch(/^master\s+connected\s+pull\s+0\s+3\s+12,345\s+6\s+2\s+1\s+up to date\s+v2 brotli push\s+2s ago$/)
    expect(lines.find((l) => l.startsWith('lab-c'))).toMatch(/^lab-c\s+down\s+serve\s+.*\s+-\s+-\s+never\s+cannot reach peer: dial timed out$/)
    expect(lines.find((l) => l.startsWith('lab-d'))).toContain('pulled 12,000 / 50,000 (24%), ETA 7 s')
  })

  it('says what it knows about a remote that is not caught up', () => {
    expect(syncState(peer({ progress: progress({ caughtUp: false, remaining: 5 }) }))).toBe('5 to pull')
    expect(syncState(peer({ connected: false, progress: progress({ caughtUp: false, remoteHead: undefined }) }))).toBe('not reached yet')
  })

  it('names the open session\'s protocol, codec and push', () => {
    expect(sessionTerms(peer({ session: { protocol: 2, codec: 'none', push: true } }))).toBe('v2 push')
    expect(sessionTerms(peer({ session: { protocol: 1, codec: 'none', push: false } }))).toBe('v1')
    expect(sessionTerms(peer({ session: { protocol: 2, codec: 'zstd', push: false } }))).toBe('v2 zstd')
    expect(sessionTerms(peer({ session: undefined }))).toBe('-')
  })

  it('draws a progress bar with percentage, ETA and rate', () => {
    expect(progressLine('master', progress({ state: 'pulling', done: 12_000, remaining: 38_000, percent: 24, rate: 1700, etaSeconds: 23, caughtUp: false })))
      .toBe('master [#######.......................] pulled 12,000 / 50,000 (24%), ETA 23 s at 1,700/s')
  })

  it('lists conflicts with the fields that differ and how to resolve them', () => {
    const text = renderConflicts([{ uid: 'c-7', type: 'Client', id: 'client-7', differingFields: ['data.phone'], local: { vector: { 'lab-b': 2 }, at: 0 }, remotes: [{ vector: { 'lab-a': 2 }, origin: 'lab-a', at: 0 }] }])
    expect(text).toMatch(/c-7\s+Client\s+client-7\s+data\.phone\s+\?\s+\{"lab-b":2\}\s+\{"lab-a":2\}/)
    expect(text).toContain('labmesh resolve UID --pick local|remote --config FILE')
    expect(renderConflicts([])).toBe('no conflicts')
  })

  it('says per conflict whether --merge auto resolves it, or which fields need a pick', () => {
    const base = { type: 'Client', id: 'client-7', differingFields: ['data.phone', 'data.name'], local: { vector: { 'lab-b': 2 }, at: 0 }, remotes: [{ vector: { 'lab-a': 2 }, origin: 'lab-a', at: 0 }] }
    const text = renderConflicts([
      { ...base, uid: 'c-auto', autoMergeable: ['data.phone', 'data.name'], conflicting: [], baseKnown: true },
      { ...base, uid: 'c-pick', autoMergeable: ['data.phone'], conflicting: ['data.name'], baseKnown: true },
      { ...base, uid: 'c-nobase', autoMergeable: [], conflicting: ['data.phone', 'data.name'], baseKnown: false },
      { ...base, uid: 'c-old' }
    ])
    const line = (uid: string): string => text.split('\n').find((l) => l.includes(uid)) ?? ''
    expect(line('c-auto')).toMatch(/\byes\b/)
    expect(line('c-pick')).toContain('pick data.name')
    expect(line('c-pick')).not.toContain('pick data.phone')
    expect(line('c-nobase')).toContain('pick data.phone, data.name (no common ancestor known)')
    expect(line('c-old')).toMatch(/ \? /)
    expect(text).toContain('merge auto')
    expect(text).not.toContain('showing the first')
    const c = { uid: 'c-7', type: 'Client', id: 'client-7', differingFields: [], local: { vector: { 'lab-b': 2 }, at: 0 }, remotes: [{ vector: { 'lab-a': 2 }, origin: 'lab-a', at: 0 }] }
    expect(renderConflicts([c], 2500)).toContain('showing the first 1 of 2500 conflicts')
  })

  it('shows files moving between the instance and the agent under the status head', () => {
    const status: AgentStatusReport = {
      domain: 'lab-b', peerId: 'p', listen: [], httpUrl: undefined, instance: 'senaite', epoch: 'e', objects: 1, feedHead: 1, conflicts: 0, failed: 0, readOnlyReverts: 0,
      echoHeld: 0, echoLoopsFound: 0, echoLoops: [], startedAt: 0, configFile: undefined, configLoadedAt: 0, peers: [],
      instanceFiles: [{ direction: 'download', name: 'report.pdf', done: 50 * 1048576, size: 200 * 1048576, percent: 25, rate: 1048576, etaSeconds: 150, startedAt: 0 }]
    }
    expect(renderStatus(status, 0).split('\n')).toContain('file    download report.pdf from the instance: 50 MiB / 200 MiB (25%), ETA 150 s')
    // a store restored from a backup: its edits raise a restore entry, said under the head
    expect(renderStatus(status, 0)).not.toContain('edits   ')
    expect(renderStatus({ ...status, entry: 'lab-b' }, 0)).not.toContain('edits   ')
    expect(renderStatus({ ...status, entry: 'lab-b~3f9a0c12' }, 0).split('\n')).toContain('edits   raise lab-b~3f9a0c12 (restored from a backup: concurrent with what the original wrote after it)')
  })

  it('shows the objects held in an echo loop under the status head, with what bounces', () => {
    const status: AgentStatusReport = {
      domain: 'lab-b', peerId: 'p', listen: [], httpUrl: undefined, instance: 'senaite', epoch: 'e', objects: 1, feedHead: 6, conflicts: 0, failed: 0, readOnlyReverts: 0, startedAt: 0, peers: [], configFile: undefined, configLoadedAt: 0,
      echoHeld: 1,
      echoLoopsFound: 1,
      echoLoops: [{ uid: 's-1', type: 'Sample', id: 'S-1', peer: 'lab-a', fields: ['data.date'], back: ['data.date'], since: 0, bounces: 3, resumed: false, editHeld: true, diff: [{ field: 'data.date', written: '"2024-01-31"', reported: '"2024/01/31"' }] }]
    }
    const text = renderStatus(status, 0)
    expect(text).toContain('echo    1 object(s) held in an echo loop, not sent out (release with: labmesh release UID --config FILE)')
    expect(text).toContain('  Sample S-1 (s-1) with lab-a: data.date wrote "2024-01-31", instance shows "2024/01/31"')
    expect(renderStatus({ ...status, echoHeld: 0, echoLoops: [] }, 0)).not.toContain('echo ')
  })

  it('shows the failed queue grouped by reason code, with counts, peers, types and the messages', () => {
    const entry = (uid: string, code: string, reason: string, type = 'Department', peer = 'lab-a'): FailedEntry => ({
      uid, peer, code, reason, missing: [], attempts: 2, firstFailedAt: 1, lastFailedAt: 2, nextRetryAt: 30_000,
      version: { uid, type, id: uid.toUpperCase(), parent: null, refs: [], data: {}, vector: { [peer]: 1 }, origin: peer, deleted: false, at: 1 }
    })
    const groups = new FailedGroups()
    for (const e of [
      entry('d-1', 'INSTANCE_REFUSED', 'not allowed in /clients'), entry('d-2', 'INSTANCE_REFUSED', 'not allowed in /clients'),
      entry('s-1', 'INSTANCE_REFUSED', 'no getPrefix', 'AnalysisRequest', 'lab-c'), entry('o-1', 'MISSING_DEPENDENCY', 'needs c-9, which peer lab-a could not provide', 'AnalysisRequest')
    ]) groups.add(e)
    const summary = groups.summary()
    expect(summary.groups.map((g) => [g.code, g.count, g.distinctMessages])).toEqual([['INSTANCE_REFUSED', 3, 2], ['MISSING_DEPENDENCY', 1, 1]])
    expect(summary.groups[0]).toMatchObject({ messages: [{ reason: 'not allowed in /clients', count: 2 }, { reason: 'no getPrefix', count: 1 }], peers: { 'lab-a': 2, 'lab-c': 1 }, types: { Department: 2, AnalysisRequest: 1 }, uids: ['d-1', 'd-2', 's-1'] })
    const text = renderFailedSummary(summary, 0)
    expect(text).toContain('4 object(s) parked in the failed queue, by reason:')
    expect(text).toMatch(/INSTANCE_REFUSED\s+3\s+lab-a 2, lab-c 1\s+Department 2, AnalysisRequest 1\s+2\s+in 30s/)
    expect(text).toContain('  2 × not allowed in /clients')
    expect(text).toContain('  1 × no getPrefix')
    expect(text).toContain('labmesh retry --code CODE')
    expect(renderFailedSummary({ total: 0, groups: [] }, 0)).toBe('the failed queue is empty')
    expect(renderFailedGroup('INSTANCE_REFUSED', [entry('d-1', 'INSTANCE_REFUSED', 'not allowed')])).toMatch(/d-1\s+Department\s+D-1\s+lab-a\s+2\s+not allowed/)
  })

  it('counts at most 1,000 different messages per group and the rest as one other', () => {
    const groups = new FailedGroups()
    for (let i = 0; i < 1005; i++) {
      groups.add({ uid: `u-${i}`, peer: 'p', code: 'MISSING_DEPENDENCY', reason: `needs ${i}`, missing: [], attempts: 1, firstFailedAt: i, lastFailedAt: i, nextRetryAt: i, version: { uid: `u-${i}`, type: 'T', id: 'x', parent: null, refs: [], data: {}, vector: {}, origin: 'p', deleted: false, at: 0 } })
    }
    const [group] = groups.summary().groups
    expect(group).toMatchObject({ count: 1005, distinctMessages: 1001, firstFailedAt: 0, lastFailedAt: 1004, nextRetryAt: 0 })
    expect(group!.messages).toHaveLength(5)
    expect(group!.uids).toHaveLength(20)
  })
})
