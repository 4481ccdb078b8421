/**
 * The full verdict on one incoming object, as a pure function of the rules,
 * what we hold for its uid, and which of its dependencies we can have:
 * create / update (id possibly rewritten) / unchanged / ignore (rule) /
 * conflict / needs dependencies. `labmesh plan` prints these; the apply path
 * makes the same decisions in the same order (rules, dependencies, vectors).
 */
import type { ObjectVersion, WireObject } from '../../protocol/object.js'
import { reconcile } from '../../protocol/reconcile.js'
import { versionsOf } from '../../protocol/object.js'
import { decideInbound, presentLocally, type InboundContext } from './inbound.js'
import type { IgnoreReason, InboundRules } from './types.js'

export type Verdict =
  | { readonly action: 'create', readonly id: string, readonly idRewritten: boolean }
  | { readonly action: 'update', readonly id: string, readonly idRewritten: boolean }
  /** we already hold this version (or a newer one) */
  | { readonly action: 'unchanged' }
  | { readonly action: 'ignore', readonly reason: IgnoreReason, readonly rule: string }
  /** concurrent with what we hold: kept as a sibling, never applied over it */
  | { readonly action: 'conflict', readonly siblings: number }
  /** refs or parent we do not hold and cannot get (the object would be parked) */
  | { readonly action: 'needs-dependencies', readonly missing: readonly string[] }

export interface ClassifyInput {
  readonly rules: InboundRules
  readonly incoming: WireObject
  /** what we hold for its uid: the current version with its conflict siblings (a stored record is one) */
  readonly local: (ObjectVersion & { readonly conflicts: readonly ObjectVersion[] }) | undefined
  /** dependencies that neither we hold nor the remote can provide */
  readonly unavailable?: ReadonlySet<string>
  readonly context?: InboundContext
}

export function classifyIncoming (input: ClassifyInput): Verdict {
  const { rules, incoming, local } = input
  const decision = decideInbound(rules, incoming, input.context)
  if (decision.action === 'ignore') return decision
  const unavailable = input.unavailable
  if (unavailable !== undefined && unavailable.size > 0 && !incoming.deleted) {
    const deps = incoming.parent !== null ? [incoming.parent, ...incoming.refs] : incoming.refs
    const missing = deps.filter((d) => unavailable.has(d))
    if (missing.length > 0) return { action: 'needs-dependencies', missing }
  }
  const versions = versionsOf(incoming).map((v) => presentLocally(rules, v))
  const result = reconcile(local !== undefined ? { current: local, conflicts: local.conflicts } : undefined, versions)
  if (!result.changed) return { action: 'unchanged' }
  const id = result.holding.current.id
  if (local === undefined) return { action: 'create', id, idRewritten: decision.idRewritten }
  if (result.currentReplaced && result.newConflicts === 0) return { action: 'update', id, idRewritten: decision.idRewritten }
  if (result.newConflicts > 0) return { action: 'conflict', siblings: result.holding.conflicts.length }
  // a sibling was replaced by a newer sibling, or the current by a descendant while a conflict stands
  return result.currentReplaced ? { action: 'update', id, idRewritten: decision.idRewritten } : { action: 'conflict', siblings: result.holding.conflicts.length }
}
