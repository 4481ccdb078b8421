/**
 * Summarise a V8 CPU profile (`--cpu-prof` output of an agent process):
 * self time by function and by package / source file, so a profile can be
 * read in a terminal and quoted in a commit message.
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [--top 30] [--last-ms N] [--inclusive]
 *
 * --last-ms counts only the profile's final N ms (e.g. the incremental rounds
 * that end a bench run, without the initial sync before them).
 * --inclusive adds total time by function: its own and its callees' (a
 * sample counts once per function however deep the recursion), which is what
 * attributes a feature's cost when its work is spread over small helpers.
 */
import { readFile } from 'node:fs/promises'
import { isMainModule, parseBenchArgs } from './lib/args.js'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string, readonly url: string, readonly lineNumber: number }
  readonly children?: readonly number[]
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
  readonly startTime: number
  readonly endTime: number
}

export interface ProfileLine { readonly name: string, readonly ms: number, readonly percent: number }

export interface ProfileSummary {
  readonly totalMs: number
  readonly byFunction: readonly ProfileLine[]
  readonly byArea: readonly ProfileLine[]
  /** own + callees' time by function (only with `inclusive`) */
  readonly inclusive?: readonly ProfileLine[]
}

/** Where a frame's code lives: a package name, a labmesh source file, or a V8 pseudo-frame. */
function areaOf (url: string, functionName: string): string {
  if (url === '') return `(${functionName || 'native'})`
  const nm = url.lastIndexOf('node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url)
  }
  if (url.startsWith('node:')) return url
  const dist = url.indexOf('/dist/')
  return dist !== -1 ? url.slice(dist + '/dist/'.length) : url
}

const keyOf = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame
  return `${functionName || '(anonymous)'} ${areaOf(url, functionName)}${url !== '' ? `:${lineNumber + 1}` : ''}`
}

/** own + callees' time per function key, from per-node self time */
function inclusiveTimes (profile: CpuProfile, selfUs: ReadonlyMap<number, number>): Map<string, number> {
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const out = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf(byId.get(at)!)
      if (seen.has(key)) continue
      seen.add(key)
      out.set(key, (out.get(key) ?? 0) + us)
    }
  }
  return out
}

export function summariseProfile (profile: CpuProfile, top: number, lastMs = 0, inclusive = false): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  const from = lastMs > 0 ? profile.endTime - lastMs * 1000 : -Infinity
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    at += profile.timeDeltas[i] ?? 0
    if (at < from) continue
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const fn = new Map<string, number>()
  const area = new Map<string, number>()
  let total = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (node === undefined) continue
    const where = areaOf(node.callFrame.url, node.callFrame.functionName)
    const key = keyOf(node)
    fn.set(key, (fn.get(key) ?? 0) + us)
    area.set(where, (area.get(where) ?? 0) + us)
    total += us
  }
  const lines = (m: Map<string, number>): ProfileLine[] => [...m.entries()]
    .sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => ({ name, ms: Math.round(us / 1000), percent: Math.round(us / total * 1000) / 10 }))
  const summary = { totalMs: Math.round(total / 1000), byFunction: lines(fn), byArea: lines(area) }
  return inclusive ? { ...summary, inclusive: lines(inclusiveTimes(profile, selfUs)) } : summary
}

if (isMainModule(import.meta.url)) {
  const file = process.argv[2]
  if (file === undefined) throw new Error('usage: profile-summary <file.cpuprofile> [--top N]')
  const { top, lastMs, inclusive } = parseBenchArgs(process.argv.slice(3), { top: 30, lastMs: 0, inclusive: false })
  const s = summariseProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, top, lastMs, inclusive)
  const print = (title: string, rows: readonly ProfileLine[]): void => {
    process.stdout.write(`\n${title}\n`)
    for (const r of rows) process.stdout.write(`${String(r.ms).padStart(7)} ms ${String(r.percent).padStart(5)} %  ${r.name}\n`)
  }
  process.stdout.write(`${file}: ${s.totalMs} ms sampled\n`)
  print('self time by area', s.byArea)
  print('self time by function', s.byFunction)
  if (s.inclusive !== undefined) print('total time by function (own + callees)', s.inclusive)
}
