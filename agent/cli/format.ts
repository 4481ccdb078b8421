/** Plain-text tables and numbers for the CLI. */
import type { AgentStatusReport } from '../observe/status.js'
import type { PeerStatus } from '../sync/replicator.js'
import { formatProgress } from '../sync/progress.js'
import type { PlannedPlacement, PullPlan } from '../apply/plan.js'

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
    `http    ${status.httpUrl ?? '-'}`
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
    ago(p.lastContact, now),
    p.lastError ?? ''
  ])
  return `${head}\n\n${table(['peer', 'state', 'role', 'lag in', 'lag out', 'pulled', 'served', 'conflicts', 'failed', 'sync', 'last contact', 'last error'], rows)}`
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
}

export function renderConflicts (items: readonly ConflictView[], total = items.length): string {
  if (items.length === 0) return 'no conflicts'
  const rows = items.map((c) => [c.uid, c.type, c.id, c.differingFields.join(', '), JSON.stringify(c.local.vector), c.remotes.map((r) => JSON.stringify(r.vector)).join(' ')])
  const more = total > items.length ? `\n\nshowing the first ${items.length} of ${total} conflicts (GET /api/conflicts?after=UID pages through all)` : ''
  return `${table(['uid', 'type', 'id', 'differs in', 'kept here', 'other side(s)'], rows)}${more}\n\nresolve with: labmesh resolve UID --pick local|remote --config FILE`
}
