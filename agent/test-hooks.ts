/**
 * The one way past the Agent's public surface, for tests only: the store
 * (audits, checkpoints, aux rows, failed entries, commit listeners), the
 * admin token, the event bus and the Hono app. NOT for production code:
 * agent/cli, agent/demo and bench may not import this module (the
 * dependency-cruiser rule `no-test-hooks-in-production` fails on it), so
 * anything they need must become part of the public Agent instead.
 *
 * The internals hang off the agent under a symbol rather than a named
 * property, so they appear in no completion list and cannot be reached
 * without importing this module.
 */
import type { Hono } from 'hono'
import type { Store } from '../store/types.js'
import type { EventBus } from './observe/events.js'
import type { AgentMetrics } from './observe/metrics.js'

export const AGENT_INTERNALS: unique symbol = Symbol('labmesh.agentInternals')

/** What a started agent is made of, as far as tests look inside it; each throws NOT_STARTED before start. */
export interface AgentInternals {
  readonly store: Store
  /** the bearer token the admin API asks for */
  readonly token: string
  readonly bus: EventBus
  readonly metrics: AgentMetrics
  /** the admin app itself (its route table); requests go through `agent.request` */
  readonly app: Hono
}

/** The internals of an agent, for tests. */
export function agentInternals (agent: { readonly [AGENT_INTERNALS]: AgentInternals }): AgentInternals {
  return agent[AGENT_INTERNALS]
}
