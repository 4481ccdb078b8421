/**
 * Two agents over real libp2p, each beside an in-memory instance that may
 * do things of its own to what is written into it (the memory connector's
 * `behaviour`), pulling from each other: the frame of the echo-loop tests.
 * Also: how to watch that a pair stays flat (no instance writes, no feed
 * growth) over an idle period.
 */
import { expect } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { createMemoryConnector, type MemoryBehaviour, type MemoryConnector, type MemoryDocument } from '../../agent/connectors/memory.js'
import { sleep } from '../../agent/runtime/sleep.js'
import type { AgentConfigInput } from '../../config/schema.js'
import type { TestMesh } from './lifecycle.js'
import { capturingLogger, meshConfig, waitFor } from './nodes.js'

/** how often the in-memory instances are polled: short, so loops turn fast */
export const POLL_MS = 20

export interface EchoSide {
  /** the other agent's domain */
  readonly peer: string
  readonly agent: Agent
  readonly instance: MemoryConnector
  readonly lines: Array<Record<string, unknown>>
}

/** Two agents (lab-a and lab-b unless `domains` says), each pulling from the other, each with its own instance behaviour. */
export async function startEchoPair (mesh: TestMesh, behaviours: { a?: MemoryBehaviour, b?: MemoryBehaviour }, config: Partial<AgentConfigInput> = {}, domains: readonly [string, string] = ['lab-a', 'lab-b']): Promise<{ a: EchoSide, b: EchoSide }> {
  const [A, B] = [mesh.node(domains[0]), mesh.node(domains[1])]
  const start = async (self: typeof A, other: typeof A, behaviour: MemoryBehaviour | undefined): Promise<EchoSide> => {
    const instance = createMemoryConnector({ pollMs: POLL_MS, ...(behaviour !== undefined ? { behaviour } : {}) })
    const captured = capturingLogger(self.domain)
    const agent = await mesh.start(meshConfig(self, [{ node: other, pull: true }], config), { connector: instance, logger: captured.logger })
    return { peer: other.domain, agent, instance, lines: captured.lines }
  }
  const a = await start(A, B, behaviours.a)
  const b = await start(B, A, behaviours.b)
  await waitFor(() => a.agent.peerStatus(a.peer).sessionOpen && b.agent.peerStatus(b.peer).sessionOpen, { what: 'both pull sessions open' })
  return { a, b }
}

/** A document as a lab creates it in its instance. */
export function labDocument (uid: string, data: Record<string, unknown>, over: Partial<MemoryDocument> = {}): MemoryDocument {
  return { uid, type: 'Sample', id: uid.toUpperCase(), parent: null, refs: [], data, deleted: false, ...over }
}

/**
 * Nothing in flight: both agents caught up with each other and both
 * instances polled empty, on several checks in a row (an edit is briefly
 * in neither place while a poll records it or a pull writes it).
 */
export async function settled (a: EchoSide, b: EchoSide): Promise<void> {
  const quiet = (): boolean => [a.agent.peerStatus(a.peer), b.agent.peerStatus(b.peer)].every((p) => p.progress.caughtUp && p.lagIn === 0 && p.lagOut === 0) &&
    a.instance.pending === 0 && b.instance.pending === 0
  let inARow = 0
  await waitFor(() => { inARow = quiet() ? inARow + 1 : 0; return inARow >= 5 }, { what: 'both agents caught up and both instances polled', interval: POLL_MS })
}

/**
 * Over `ms` of idleness, neither instance is written and neither feed
 * grows. This waits on purpose: what is asserted is that nothing happens
 * during a period, dozens of poll intervals long.
 */
export async function expectFlat (sides: readonly EchoSide[], ms: number): Promise<void> {
  const before = sides.map((s) => ({ writes: s.instance.writes, head: s.agent.status().feedHead }))
  await sleep(ms)
  expect(sides.map((s) => ({ writes: s.instance.writes, head: s.agent.status().feedHead }))).toEqual(before)
}

/** The log lines of the guard that say it held an object. */
export function loopErrors (side: EchoSide): Array<Record<string, unknown>> {
  return side.lines.filter((l) => l.level === 50 && String(l.msg).startsWith('echo loop'))
}

/** An instance that writes dates its own way (`sep`), as SENAITE formats them; `fixed.on = false` stops it. */
export function dateFormat (sep: '/' | '-', fixed = { on: true }): MemoryBehaviour {
  return { normalise: (doc) => fixed.on && typeof doc.data.date === 'string' ? { ...doc, data: { ...doc.data, date: doc.data.date.replace(/[/-]/g, sep) } } : doc }
}
