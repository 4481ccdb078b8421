/**
 * The dry run of a pull (`labmesh plan`): a session of its own with the
 * remote, run once until caught up from our checkpoint, whose batches go to
 * a planner instead of the store — so it writes nothing, and leaves the
 * peer's live pull session and progress alone. Its creates, in write order,
 * are placed by the connector when it can (the SENAITE connector: in which
 * container of the site each would be made).
 */
import { emptyStats } from '../apply/apply-remote.js'
import { createPlanner, withPlacements, type PullPlan } from '../apply/plan.js'
import type { PeerRuntime } from './peer-runtime.js'
import { PullProgress } from './progress.js'
import { PullSession } from './pull-session.js'
import { sessionBasics, type ReplicatorDeps } from './replicator-deps.js'

/** `signal`: the replicator's, read once the stream is open (undefined while it is stopped: the dry run still runs). */
export async function dryRun (deps: ReplicatorDeps, rt: PeerRuntime, signal: () => AbortSignal | undefined): Promise<PullPlan> {
  const stream = await deps.mesh.openStream(rt.config.peerId)
  const planner = createPlanner(deps.store, rt.rules)
  const session = new PullSession(stream, {
    ...sessionBasics(deps, rt),
    live: false,
    intervalMs: 0,
    progress: new PullProgress(deps.now),
    log: deps.log.child({ peer: rt.config.name, dryRun: true }),
    once: true,
    apply: async (s, changes) => {
      await planner.batch(changes, async (uids) => await s.get(uids))
      return { ...emptyStats(), received: changes.length }
    }
  })
  const end = await session.run(signal() ?? new AbortController().signal)
  if (end.reason === 'error') throw end.error
  return await withPlacements(planner.result(session.resumedFrom), planner.creates(), deps.connector, deps.store)
}
