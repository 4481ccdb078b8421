/** The CLI's tables and progress bar: what an admin reads in a terminal. */
import { describe, expect, it } from 'vitest'
import type { AgentStatusReport } from '../../agent/observe/status.js'
import { renderConflicts, renderStatus, syncState } from '../../agent/cli/format.js'
import { progressLine } from '../../agent/cli/sync.js'
import type { ProgressSnapshot } from '../../agent/sync/progress.js'
import type { PeerReport } from '../../agent/observe/status.js'

const progress = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  state: 'idle', initial: false, done: 0, remaining: 0, percent: 100, rate: 0, etaSeconds: 0, startedAt: 0, finishedAt: 0, remoteHead: 9, appliedSeq: 9, caughtUp: true, ...over
})
const peer = (over: Partial<PeerReport> = {}): PeerReport => ({
  name: 'master', peerId: 'p', pull: true, connected: true, address: undefined, lastContact: 58_000, lastError: undefined, pulled: 12_345, served: 6, skipped: 0,
  remoteHead: 9, appliedSeq: 9, lagIn: 0, lagOut: 3, lag: 0, conflicts: 2, failed: 1, progress: progress(), sessionOpen: true, serving: 1,
  blobs: { transfers: [], fetched: 0, bytesFetched: 0, refused: 0, bytesServed: 0, served: 0 }, ...over
})

describe('CLI formatting', () => {
  it('renders the status table with lag both ways, counts and an honest sync column', () => {
    const status: AgentStatusReport = {
      domain: 'lab-b', peerId: '12D3KooWSelf', listen: [], httpUrl: 'http://127.0.0.1:8101', instance: 'embedded', epoch: 'e', objects: 50_000, feedHead: 50_010,
      conflicts: 2, failed: 1, readOnlyReverts: 0, startedAt: 0,
      peers: [
        peer(),
        peer({ name: 'lab-c', pull: false, connected: false, lastContact: undefined, lastError: 'cannot reach peer: dial timed out', progress: progress({ remoteHead: undefined, caughtUp: false, percent: 0 }) }),
        peer({ name: 'lab-d', lagIn: 38_000, progress: progress({ state: 'pulling', done: 12_000, remaining: 38_000, percent: 24, etaSeconds: 7, caughtUp: false }) })
      ]
    }
    const text = renderStatus(status, 60_000)
    expect(text).toContain('50,000 objects, feed head 50010, 2 conflict(s), 1 failed')
    const lines = text.split('\n')
    const header = lines.find((l) => l.startsWith('peer'))!
    for (const column of ['lag in', 'lag out', 'pulled', 'served', 'conflicts', 'failed', 'sync', 'last contact', 'last error']) expect(header).toContain(column)
    expect(lines.find((l) => l.startsWith('master'))).toMatch(/^master\s+connected\s+pull\s+0\s+3\s+12,345\s+6\s+2\s+1\s+up to date\s+2s ago$/)
    expect(lines.find((l) => l.startsWith('lab-c'))).toMatch(/^lab-c\s+down\s+serve\s+.*\s+-\s+never\s+cannot reach peer: dial timed out$/)
    expect(lines.find((l) => l.startsWith('lab-d'))).toContain('pulled 12,000 / 50,000 (24%), ETA 7 s')
  })

  it('says what it knows about a remote that is not caught up', () => {
    expect(syncState(peer({ progress: progress({ caughtUp: false, remaining: 5 }) }))).toBe('5 to pull')
    expect(syncState(peer({ connected: false, progress: progress({ caughtUp: false, remoteHead: undefined }) }))).toBe('not reached yet')
  })

  it('draws a progress bar with percentage, ETA and rate', () => {
    expect(progressLine('master', progress({ state: 'pulling', done: 12_000, remaining: 38_000, percent: 24, rate: 1700, etaSeconds: 23, caughtUp: false })))
      .toBe('master [#######.......................] pulled 12,000 / 50,000 (24%), ETA 23 s at 1,700/s')
  })

  it('lists conflicts with the fields that differ and how to resolve them', () => {
    const text = renderConflicts([{ uid: 'c-7', type: 'Client', id: 'client-7', differingFields: ['data.phone'], local: { vector: { 'lab-b': 2 }, at: 0 }, remotes: [{ vector: { 'lab-a': 2 }, origin: 'lab-a', at: 0 }] }])
    expect(text).toMatch(/c-7\s+Client\s+client-7\s+data\.phone\s+\{"lab-b":2\}\s+\{"lab-a":2\}/)
    expect(text).toContain('labmesh resolve UID --pick local|remote --config FILE')
    expect(renderConflicts([])).toBe('no conflicts')
    expect(text).not.toContain('showing the first')
    const c = { uid: 'c-7', type: 'Client', id: 'client-7', differingFields: [], local: { vector: { 'lab-b': 2 }, at: 0 }, remotes: [{ vector: { 'lab-a': 2 }, origin: 'lab-a', at: 0 }] }
    expect(renderConflicts([c], 2500)).toContain('showing the first 1 of 2500 conflicts')
  })
})
