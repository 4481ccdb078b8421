/**
 * Two agents as real processes for the crash harness: A (the source) and B
 * (the one that gets SIGKILLed), pulling from each other. Between trials both
 * are stopped and their stores are changed offline with the same local-write
 * code the document API uses, every write recorded in the causal oracle.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { deleteDocument, resolveConflict, writeDocuments, type DocumentInput, type LocalWriteDeps } from '../../agent/apply/local-writes.js'
import type { Store } from '../../store/types.js'
import type { CausalOracle, Holding } from './causal-oracle.js'
import type { TestNode } from './nodes.js'
import { spawnAgent, writeNodeConfig, type AgentProcess } from './processes.js'
import { allStored, withOfflineStore } from './store-audit.js'

export interface PeerView {
  name: string
  pulled: number
  served: number
  lagIn: number
  appliedSeq: number
  progress: { done: number, state: string }
}

export interface ObjectView { uid: string, vector: Record<string, number>, conflicts: number, seq: number }

/** Holdings as the oracle compares them, from a store. */
export async function holdingsOf (store: Store): Promise<Map<string, Holding>> {
  return new Map((await allStored(store)).map((o) => [o.uid, { current: o, conflicts: o.conflicts }]))
}

export class TwoAgents {
  readonly a: TestNode
  readonly b: TestNode
  readonly oracle: CausalOracle
  procA: AgentProcess | undefined
  procB: AgentProcess | undefined
  #files: { a: string, b: string } | undefined
  readonly #sync: Record<string, unknown>

  constructor (a: TestNode, b: TestNode, oracle: CausalOracle, sync: { batchSize: number, window: number }) {
    this.a = a
    this.b = b
    this.oracle = oracle
    this.#sync = { sync }
  }

  async writeConfigs (): Promise<void> {
    this.#files = {
      a: await writeNodeConfig(this.a, [{ node: this.b, pull: true }], this.#sync),
      b: await writeNodeConfig(this.b, [{ node: this.a, pull: true }], this.#sync)
    }
  }

  async startA (): Promise<AgentProcess> {
    this.procA = await spawnAgent(this.#files!.a, { token: this.a.token })
    return this.procA
  }

  async startB (): Promise<AgentProcess> {
    this.procB = await spawnAgent(this.#files!.b, { token: this.b.token })
    return this.procB
  }

  async killB (): Promise<void> {
    const p = this.procB!
    p.proc.kill('SIGKILL')
    await p.exited
    this.procB = undefined
  }

  async stopAll (): Promise<void> {
    await Promise.all([this.procA, this.procB].map(async (p) => {
      if (p === undefined) return
      p.proc.kill('SIGTERM')
      const exit = await p.exited
      if (exit.code !== 0) throw new Error(`agent did not stop cleanly: ${JSON.stringify(exit)}; stderr: ${p.stderr.join('').slice(-2000)}`)
    }))
    this.procA = undefined
    this.procB = undefined
  }

  async killAll (): Promise<void> {
    for (const p of [this.procA, this.procB]) {
      if (p === undefined) continue
      p.proc.kill('SIGKILL')
      await p.exited
    }
    this.procA = undefined
    this.procB = undefined
  }

  async wipeB (): Promise<void> {
    await rm(join(this.b.dir, 'data', 'store'), { recursive: true, force: true })
  }

  /** Run `fn` on a stopped agent's store, with its local-write deps; every write it reports is recorded. */
  async offline<T> (node: TestNode, fn: (io: OfflineWriter) => Promise<T>): Promise<T> {
    return await withOfflineStore(node.dir, node.domain, async (store) => await fn(new OfflineWriter(store, node.domain, this.oracle)))
  }

  async api<T> (which: 'a' | 'b', method: string, path: string): Promise<T> {
    const p = which === 'a' ? this.procA : this.procB
    if (p === undefined) throw new Error(`agent ${which} is not running`)
    return await p.api<T>(method, path)
  }

  /** Every object an agent shows through its document API. */
  async objects (which: 'a' | 'b'): Promise<ObjectView[]> {
    const out: ObjectView[] = []
    let after: string | null = null
    do {
      const page: { items: ObjectView[], next: string | null } = await this.api(which, 'GET', `/api/objects?limit=1000${after !== null ? `&after=${encodeURIComponent(after)}` : ''}`)
      out.push(...page.items)
      after = page.next
    } while (after !== null)
    return out
  }
}

/** Local writes on an offline store, recorded in the oracle as the agent acknowledges them. */
export class OfflineWriter {
  readonly store: Store
  readonly #deps: LocalWriteDeps
  readonly #domain: string
  readonly #oracle: CausalOracle

  constructor (store: Store, domain: string, oracle: CausalOracle) {
    this.store = store
    this.#domain = domain
    this.#oracle = oracle
    this.#deps = { store, domain, now: Date.now, rules: [] }
  }

  async write (inputs: readonly DocumentInput[]): Promise<void> {
    for (const o of await writeDocuments(this.#deps, inputs)) this.#oracle.record(this.#domain, o)
  }

  async delete (uid: string): Promise<void> {
    this.#oracle.record(this.#domain, await deleteDocument(this.#deps, uid))
  }

  async resolve (uid: string): Promise<void> {
    this.#oracle.record(this.#domain, await resolveConflict(this.#deps, uid, { pick: 'local' }))
  }
}
