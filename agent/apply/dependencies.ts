/**
 * Dependencies of incoming objects (DESIGN.md "Requires"): an object whose
 * parent or refs we do not hold, and that its batch does not bring, has them
 * fetched from the same remote first — whatever the type filters say — round
 * by round, so chains and reference cycles resolve. What cannot be had makes
 * the objects that need it (directly or through another) blocked.
 */
import type { ObjectVersion, WireObject } from '../../protocol/object.js'
import { decideInbound, presentLocally } from '../rules/inbound.js'
import type { InboundRules } from '../rules/types.js'
import { versionsOf } from '../../protocol/object.js'

/** How many rounds of dependency fetching one batch may do (deep chains, cycles). */
const MAX_DEPENDENCY_ROUNDS = 16

export interface Candidate {
  readonly wire: WireObject
  /** its versions as presented here (current first, then siblings) */
  readonly versions: readonly ObjectVersion[]
  readonly dependency: boolean
}

export interface DependencySource {
  readonly rules: InboundRules
  /** which of these uids are already held here */
  held (uids: readonly string[]): Promise<boolean[]>
  /** fetch objects by uid from the same remote */
  fetch (uids: readonly string[]): Promise<{ objects: readonly WireObject[], missing: readonly string[] }>
}

export function present (rules: InboundRules, wire: WireObject, dependency: boolean): Candidate {
  return { wire, versions: versionsOf(wire).map((v) => presentLocally(rules, v)), dependency }
}

export function dependenciesOf (version: ObjectVersion): string[] {
  if (version.deleted) return [] // a tombstone needs nothing to exist
  return version.parent !== null ? [version.parent, ...version.refs] : [...version.refs]
}

/**
 * Fetch, round by round, every dependency neither held here nor in the batch.
 * Returns the fetched objects (to apply first), the uids that could not be
 * had (missing at the remote, or refused by a rule other than the type
 * filters), and the dependencies found held here (the caller re-reads them in
 * its transaction: `held` may count writes not yet committed).
 */
export async function resolveDependencies (source: DependencySource, candidates: readonly Candidate[]): Promise<{ dependencies: Candidate[], unavailable: Set<string>, heldHere: string[] }> {
  const dependencies: Candidate[] = []
  const unavailable = new Set<string>()
  const heldHere: string[] = []
  const known = new Set(candidates.map((c) => c.wire.uid))
  let frontier = candidates
  for (let round = 0; round < MAX_DEPENDENCY_ROUNDS && frontier.length > 0; round++) {
    const wanted = new Set<string>()
    for (const c of frontier) for (const dep of dependenciesOf(c.versions[0]!)) if (!known.has(dep)) wanted.add(dep)
    if (wanted.size === 0) break
    const uids = [...wanted]
    const held = await source.held(uids)
    const toFetch: string[] = []
    for (let i = 0; i < uids.length; i++) (held[i] === true ? heldHere : toFetch).push(uids[i]!)
    for (const uid of uids) known.add(uid)
    if (toFetch.length === 0) break
    const { objects, missing } = await source.fetch(toFetch)
    for (const uid of missing) unavailable.add(uid)
    const fetched: Candidate[] = []
    for (const wire of objects) {
      const decision = decideInbound(source.rules, wire, { required: true })
      if (decision.action === 'ignore') {
        unavailable.add(wire.uid)
        continue
      }
      fetched.push(present(source.rules, wire, true))
    }
    const got = new Set(objects.map((o) => o.uid))
    for (const uid of toFetch) if (!got.has(uid) && !missing.includes(uid)) unavailable.add(uid)
    dependencies.push(...fetched)
    frontier = fetched
  }
  return { dependencies, unavailable, heldHere }
}

/**
 * Which candidates cannot be applied, with the unavailable uids behind each:
 * a candidate is blocked when a dependency is unavailable or itself blocked.
 */
export function blockedBy (candidates: readonly Candidate[], unavailable: ReadonlySet<string>): Map<string, string[]> {
  const blocked = new Map<string, string[]>()
  if (unavailable.size === 0) return blocked
  let changed = true
  while (changed) {
    changed = false
    for (const c of candidates) {
      if (blocked.has(c.wire.uid)) continue
      const deps = dependenciesOf(c.versions[0]!)
      const missing = deps.filter((d) => unavailable.has(d))
      const viaBlocked = deps.filter((d) => blocked.has(d)).flatMap((d) => blocked.get(d)!)
      if (missing.length > 0 || viaBlocked.length > 0) {
        blocked.set(c.wire.uid, [...new Set([...missing, ...viaBlocked])])
        changed = true
      }
    }
  }
  return blocked
}
