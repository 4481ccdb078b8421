/**
 * The dry run behind `labmesh plan`: what a pull from a remote would do, per
 * type — create, update, leave unchanged, ignore (and by which rule), flag as
 * conflict, or park for a missing dependency — writing nothing.
 *
 * It walks the remote's feed from our checkpoint exactly as a pull would
 * (same session, same rules, same dependency fetching), but keeps what it
 * would have written in an in-memory overlay instead of the store. The
 * creates, in write order (parents and what they reference first), can be
 * handed to the connector, which says where each would go (`placement`).
 */
import { toVersion, type ObjectVersion, type WireObject } from '../../protocol/object.js'
import type { InstanceConnector, PlacedVersion } from '../connectors/connector.js'
import { writeLevels } from '../rules/write-order.js'
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

/** One object the pull would create, and where the instance would put it (connectors that say: `placement`). */
export interface PlannedPlacement extends PlacedVersion {
  readonly type: string
  readonly id: string
}

export interface PullPlan {
  readonly peer: string
  readonly since: number
  readonly objects: number
  readonly types: Record<string, TypePlan>
  /** the creates in the order the pull would write them (parents and what they reference first), each with where it goes */
  placements?: PlannedPlacement[]
}

export interface Planner {
  /** classify one batch as the apply path would, without writing */
  batch (changes: readonly WireObject[], fetch: (uids: readonly string[]) => Promise<{ objects: readonly WireObject[], missing: readonly string[] }>): Promise<void>
  result (since: number): PullPlan
  /** the versions the pull would create, as presented here, in the order they would be written */
  creates (): ObjectVersion[]
}

/**
 * The plan with where the instance would put each create, when its
 * connector can say (the SENAITE connector: container paths); the plan as
 * it is otherwise. Reads only.
 */
export async function withPlacements (plan: PullPlan, creates: readonly ObjectVersion[], connector: InstanceConnector, store: Store): Promise<PullPlan> {
  if (connector.placement === undefined || creates.length === 0) return plan
  const byUid = new Map(creates.map((v) => [v.uid, v]))
  const placed = await connector.placement(creates, store)
  return { ...plan, placements: placed.map((p) => ({ ...p, type: byUid.get(p.uid)!.type, id: byUid.get(p.uid)!.id })) }
}

export function createPlanner (store: Store, rules: InboundRules): Planner {
  const overlay = new Map<string, StoredObject>()
  /** the creates, by uid, in the order they were classified */
  const created = new Map<string, ObjectVersion>()
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
        if (verdict.action === 'create') created.set(wire.uid, { ...toVersion(wire), id: verdict.id })
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
    },

    creates () {
      const versions = [...created.values()]
      // within a level the order is free: by type, so that a listing groups them
      return writeLevels(versions).flatMap((level) => level.map((i) => versions[i]!).sort((a, b) => a.type.localeCompare(b.type)))
    }
  }
}
