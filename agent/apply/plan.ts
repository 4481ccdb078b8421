/**
 * The dry run behind `labmesh plan`: what a pull from a remote would do, per
 * type — create, update, leave unchanged, ignore (and by which rule), flag as
 * conflict, or park for a missing dependency — writing nothing.
 *
 * It walks the remote's feed from our checkpoint exactly as a pull would
 * (same session, same rules, same dependency fetching), but keeps what it
 * would have written in an in-memory overlay instead of the store.
 */
import type { WireObject } from '../../protocol/object.js'
import type { Store, StoredObject } from '../../store/types.js'
import { blockedBy, present, resolveDependencies } from './dependencies.js'
import { classifyIncoming, type Verdict } from '../rules/classify.js'
import { decideInbound } from '../rules/inbound.js'
import type { InboundRules } from '../rules/types.js'

export interface TypePlan {
  create: number
  update: number
  unchanged: number
  conflict: number
  /** would be parked in the failed queue (a dependency cannot be had) */
  park: number
  /** ignored, by rule reason */
  ignore: Record<string, number>
  /** of the creates/updates, how many only come along as dependencies */
  asDependency: number
  /** one rule text per ignore reason, for the report */
  rules: Record<string, string>
}

export interface PullPlan {
  readonly peer: string
  readonly since: number
  readonly objects: number
  readonly types: Record<string, TypePlan>
}

export interface Planner {
  /** classify one batch as the apply path would, without writing */
  batch (changes: readonly WireObject[], fetch: (uids: readonly string[]) => Promise<{ objects: readonly WireObject[], missing: readonly string[] }>): Promise<void>
  result (since: number): PullPlan
}

export function createPlanner (store: Store, rules: InboundRules): Planner {
  const overlay = new Map<string, StoredObject>()
  const types: Record<string, TypePlan> = {}
  let objects = 0

  const typePlan = (type: string): TypePlan => {
    types[type] ??= { create: 0, update: 0, unchanged: 0, conflict: 0, park: 0, ignore: {}, asDependency: 0, rules: {} }
    return types[type]
  }

  const count = (wire: WireObject, verdict: Verdict, dependency: boolean): void => {
    const plan = typePlan(wire.type)
    switch (verdict.action) {
      case 'create': case 'update':
        plan[verdict.action]++
        if (dependency) plan.asDependency++
        overlay.set(wire.uid, { ...wire, id: verdict.id, conflicts: wire.conflicts ?? [], seq: 0, via: rules.peerName })
        break
      case 'unchanged': plan.unchanged++; break
      case 'conflict': plan.conflict++; break
      case 'needs-dependencies': plan.park++; break
      case 'ignore':
        plan.ignore[verdict.reason] = (plan.ignore[verdict.reason] ?? 0) + 1
        plan.rules[verdict.reason] ??= verdict.rule
        break
    }
  }

  const held = async (uids: readonly string[]): Promise<boolean[]> => {
    const fromStore = await store.getObjects(uids)
    return uids.map((uid, i) => overlay.has(uid) || fromStore[i] !== undefined)
  }

  const local = async (uids: readonly string[]): Promise<Array<StoredObject | undefined>> => {
    const fromStore = await store.getObjects(uids)
    return uids.map((uid, i) => overlay.get(uid) ?? fromStore[i])
  }

  return {
    async batch (changes, fetch) {
      objects += changes.length
      const candidates = []
      for (const wire of changes) {
        const decision = decideInbound(rules, wire)
        if (decision.action === 'ignore') count(wire, decision, false)
        else candidates.push(present(rules, wire, false))
      }
      const { dependencies, unavailable } = await resolveDependencies({ rules, held, fetch }, candidates)
      const all = [...dependencies, ...candidates]
      const blocked = blockedBy(all, unavailable)
      const locals = await local(all.map((c) => c.wire.uid))
      all.forEach((c, i) => {
        const missing = blocked.get(c.wire.uid)
        const verdict: Verdict = missing !== undefined
          ? { action: 'needs-dependencies', missing }
          : classifyIncoming({ rules, incoming: c.wire, local: locals[i], context: { required: c.dependency } })
        count(c.wire, verdict, c.dependency)
      })
    },

    result (since) {
      return { peer: rules.peerName, since, objects, types }
    }
  }
}
