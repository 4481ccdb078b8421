/**
 * `labmesh plan`: ask the running agent for a dry run; when no agent runs
 * (so its store is free), open the store and mesh passively in this process
 * and plan from here.
 */
import type { LoadedConfig } from '../../config/load.js'
import { createAgent } from '../agent.js'
import { AgentError } from '../../protocol/errors.js'
import { createLogger } from '../runtime/logger.js'
import type { PullPlan } from '../apply/plan.js'
import { adminClientFor } from './admin-client.js'

export async function planPull (config: LoadedConfig, peer: string): Promise<PullPlan> {
  try {
    const client = await adminClientFor(config)
    return await client.post<PullPlan>(`/api/peers/${encodeURIComponent(peer)}/plan`)
  } catch (err) {
    if (!(err instanceof AgentError) || err.code !== 'NOT_STARTED') throw err
  }
  const agent = createAgent(config, { passive: true, logger: createLogger({ level: 'warn', domain: config.domain }) })
  await agent.start()
  try {
    return await agent.plan(peer)
  } finally {
    await agent.stop()
  }
}
