/** Plain-text tables and numbers for the CLI. */
import { formatFileTransfer } from '../connectors/file-transfers.js'
import type { AgentStatusReport } from '../observe/status.js'
import type { PeerStatus } from '../sync/replicator.js'
import { formatProgress } from '../sync/progress.js'
import type { PlannedPlacement, PullPlan } from '../apply/plan.js'
import type { FailedSummary } from '../apply/failed-summary.js'
import type { FailedEntry } from '../../store/types.js'
import type { ObjectHistory } from '../admin/deps.js'

export function table (headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

export function ago (ms: number | undefined, now: number): string {
  if (ms === undefined) return 'never'
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  return `${Math.floor(s / 3600)}h ago`
}

export function renderStatus (status: AgentStatusReport, now: number): string {
  const head = [
    `agent   ${status.domain}  (${status.peerId})`,
    `store   ${status.objects.toLocaleString('en-US')} objects, feed head ${status.feedHead}, ${status.conflicts} conflict(s), ${status.failed} failed`,
    ...(status.entry !== undefined && status.entry !== status.domain ? [`edits   raise ${status.entry} (restored from a backup: concurrent with what the original wrote after it)`] : []),
    `http    ${status.httpUrl ?? '-'}`,
    `config  ${status.configFile ?? '(built in code)'}, loaded ${ago(status.configLoadedAt, now)}`,
    ...echoLines(status),
    ...(status.instanceFiles ?? []).map((t) => `file    ${formatFileTransfer(t)}`),
    ...(status.backup != null ? [`backup  running: ${status.backup.percent}%${status.backup.etaSeconds !== undefined ? `, ETA ${Math.ceil(status.backup.etaSeconds)} s` : ''}`] : [])
  ].join('\n')
  if (status.peers.length === 0) return `${head}\n\nno peers configured`
  const n = (x: number): string => x.toLocaleString('en-US')
  const rows = status.peers.map((p) => [
    p.name,
    p.connected ? 'connected' : 'down',
    p.pull ? 'pull' : 'serve',
    n(p.lagIn),
    n(p.lagOut),
    n(p.pulled),
    n(p.served),
    String(p.conflicts),
    String(p.failed),
    syncState(p),
    sessionTerms(p),
    ago(p.lastContact, now),
    p.lastError ?? ''
  ])
  return `${head}\n\n${table(['peer', 'state', 'role', 'lag in', 'lag out', 'pulled', 'served', 'conflicts', 'failed', 'sync', 'session', 'last contact', 'last error'], rows)}`
}

/** The open pull session's terms, e.g. `v2 brotli push`; `-` without one. */
export function sessionTerms (p: PeerStatus): string {
  const s = p.session
  if (s === undefined) return '-'
  return [`v${s.protocol}`, ...(s.codec !== 'none' ? [s.codec] : []), ...(s.push ? ['push'] : [])].join(' ')
}

/** The sync column: honest about what is known (see agent/progress.ts). */
export function syncState (p: PeerStatus): string {
  const pr = p.progress
  if (!p.pull) return '-'
  if (pr.state === 'pulling') return formatProgress(pr)
  if (pr.caughtUp) return 'up to date'
  if (pr.remoteHead === undefined) return p.connected ? 'waiting for hello' : 'not reached yet'
  return `${pr.remaining.toLocaleString('en-US')} to pull`
}

export function renderPlan (plan: PullPlan): string {
  const types = Object.keys(plan.types).sort()
  const head = `dry run of a pull from ${plan.peer}: ${plan.objects.toLocaleString('en-US')} feed entries after seq ${plan.since}; nothing was written`
  if (types.length === 0) return `${head}\n\nnothing to pull: this agent is up to date with ${plan.peer}`
  const rows = types.map((t) => {
    const p = plan.types[t]!
    const ignored = Object.entries(p.ignore).map(([reason, n]) => `${n} ${reason}`).join(', ')
    return [t, String(p.create), String(p.update), String(p.unchanged), String(p.conflict), String(p.park), ignored === '' ? '0' : ignored, p.asDependency > 0 ? String(p.asDependency) : '']
  })
  const rules = [...new Set(types.flatMap((t) => Object.values(plan.types[t]!.rules)))]
  return [
    head,
    '',
    table(['type', 'create', 'update', 'unchanged', 'conflict', 'park', 'ignore (rule)', 'as dependency'], rows),
    ...(rules.length > 0 ? ['', 'rules that ignore objects:', ...rules.map((r) => `  - ${r}`)] : []),
    ...renderPlacements(plan.placements ?? [])
  ].join('\n')
}

/** What would be created where, in the order it would be: runs of one type going to one place, as one line each. */
function renderPlacements (placements: readonly PlannedPlacement[]): string[] {
  if (placements.length === 0) return []
  const runs: Array<{ p: PlannedPlacement, ids: string[] }> = []
  for (const p of placements) {
    const last = runs[runs.length - 1]
    if (last !== undefined && last.p.type === p.type && last.p.where === p.where && last.p.action === p.action && last.p.note === p.note) last.ids.push(p.id)
    else runs.push({ p, ids: [p.id] })
  }
  const verb = { create: 'create', adopt: 'adopt', refuse: 'REFUSE' } as const
  const lines = runs.map(({ p, ids }, i) => {
    const shown = ids.length > 3 ? `${ids.slice(0, 3).join(', ')}, … ${ids.length - 3} more` : ids.join(', ')
    return `${String(i + 1).padStart(3)}. ${verb[p.action]} ${ids.length} ${p.type} in ${p.where} (${shown})${p.note !== undefined ? ` — ${p.note}` : ''}`
  })
  return ['', `what would be created where, in order (${placements.length} objects):`, ...lines]
}

export interface ConflictView {
  readonly uid: string
  readonly type: string
  readonly id: string
  readonly differingFields: readonly string[]
  readonly local: { readonly vector: Record<string, number>, readonly at: number }
  readonly remotes: ReadonlyArray<{ readonly vector: Record<string, number>, readonly origin: string, readonly at: number }>
  /** the three-way comparison (protocol/merge.ts); absent from agents older than the merge */
  readonly autoMergeable?: readonly string[]
  readonly conflicting?: readonly string[]
  readonly baseKnown?: boolean
}

/** What `--merge auto` would do with one conflict, in a few words. */
function mergeOutlook (c: ConflictView): string {
  if (c.conflicting === undefined || c.autoMergeable === undefined) return '?'
  const noBase = c.baseKnown === false ? ' (no common ancestor known)' : ''
  if (c.conflicting.length === 0) return `yes${noBase}`
  return `pick ${c.conflicting.join(', ')}${noBase}`
}

export function renderConflicts (items: readonly ConflictView[], total = items.length): string {
  if (items.length === 0) return 'no conflicts'
  const rows = items.map((c) => [c.uid, c.type, c.id, c.differingFields.join(', '), mergeOutlook(c), JSON.stringify(c.local.vector), c.remotes.map((r) => JSON.stringify(r.vector)).join(' ')])
  const more = total > items.length ? `\n\nshowing the first ${items.length} of ${total} conflicts (GET /api/conflicts?after=UID pages through all)` : ''
  return `${table(['uid', 'type', 'id', 'differs in', 'merge auto', 'kept here', 'other side(s)'], rows)}${more}\n\nresolve with: labmesh resolve UID --pick local|remote --config FILE\n  or field by field: labmesh resolve UID --merge auto [--field NAME=local|remote|base] --config FILE`
}

/** The echo-loop guard's holds, under the status head: one line each, with what bounces. */
function echoLines (status: AgentStatusReport): string[] {
  if (status.echoHeld === 0) return []
  const shown = status.echoLoops.map((h) => `  ${h.type} ${h.id} (${h.uid}) with ${h.peer}: ${h.diff.map((d) => `${d.field} wrote ${d.written}, instance shows ${d.reported}`).join('; ')}`)
  const more = status.echoHeld > shown.length ? [`  … and ${status.echoHeld - shown.length} more (GET /api/echo-loops)`] : []
  return [`echo    ${status.echoHeld} object(s) held in an echo loop, not sent out (release with: labmesh release UID --config FILE)`, ...shown, ...more]
}

/** `labmesh failed`: the queue grouped by reason code, with the messages behind each code. */
export function renderFailedSummary (summary: FailedSummary, now: number): string {
  if (summary.total === 0) return 'the failed queue is empty'
  const rows = summary.groups.map((g) => [
    g.code,
    g.count.toLocaleString('en-US'),
    Object.entries(g.peers).map(([p, n]) => `${p} ${n}`).join(', '),
    Object.entries(g.types).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([t, n]) => `${t} ${n}`).join(', '),
    String(g.maxAttempts),
    g.nextRetryAt <= now ? 'due' : `in ${Math.ceil((g.nextRetryAt - now) / 1000)}s`
  ])
  const messages = summary.groups.flatMap((g) => [
    '',
    `${g.code} (${g.count.toLocaleString('en-US')}):`,
    ...g.messages.map((m) => `  ${m.count.toLocaleString('en-US')} × ${m.reason}`),
    ...(g.distinctMessages > g.messages.length ? [`  … ${g.distinctMessages - g.messages.length} other message(s)`] : []),
    `  e.g. ${g.uids.slice(0, 5).join(', ')}`
  ])
  return [
    `${summary.total.toLocaleString('en-US')} object(s) parked in the failed queue, by reason:`,
    '',
    table(['code', 'objects', 'from peer', 'types', 'attempts', 'next retry'], rows),
    ...messages,
    '',
    'retry one with: labmesh retry UID --config FILE; a whole group with: labmesh retry --code CODE --config FILE'
  ].join('\n')
}

/** `labmesh failed --code CODE`: the objects of one group. */
export function renderFailedGroup (code: string, items: readonly FailedEntry[]): string {
  if (items.length === 0) return `no object in the failed queue has code ${code}`
  const rows = items.map((e) => [e.uid, e.version.type, e.version.id, e.peer, String(e.attempts), e.reason])
  return `${table(['uid', 'type', 'id', 'from peer', 'attempts', 'message'], rows)}\n\nretry one with: labmesh retry UID --config FILE; all of them with: labmesh retry --code ${code} --config FILE`
}

/** `labmesh history UID`: one line per version seen, oldest first. */
export function renderHistory (history: ObjectHistory): string {
  if (history.entries.length === 0) return `no history kept for ${history.uid}`
  const time = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19))
  const rows = history.entries.map((e, i) => [
    String(i + 1),
    e.event,
    JSON.stringify(e.vector),
    e.origin ?? '?',
    e.peerId !== null ? shortId(e.peerId) : '-',
    e.signature,
    time(e.at),
    time(e.appliedAt),
    e.via ?? '(here)',
    e.deleted ? 'deleted' : e.changed === null ? '(first seen)' : e.changed.join(', '),
    e.reason ?? (e.signedId !== undefined ? `signed as id ${e.signedId}` : '')
  ])
  const current = history.current === null
    ? 'holds no version of it'
    : `holds ${JSON.stringify(history.current.vector)} (${history.current.signature}${history.current.deleted ? ', deleted' : ''}${history.current.conflicts > 0 ? `, ${history.current.conflicts} conflict sibling(s)` : ''})`
  return `${history.uid}: ${current}; the last ${history.retention} version(s) are kept\n\n${table(['#', 'event', 'vector', 'origin', 'signer', 'signature', 'written there', 'applied here', 'via', 'changed', 'note'], rows)}`
}

function shortId (peerId: string): string {
  return peerId.length > 16 ? `…${peerId.slice(-8)}` : peerId
}
