/**
 * What the replicator keeps per configured peer while it runs: the peer's
 * compiled rules, its pull progress, its open sessions, and the counters and
 * last contact the status view reports. One PeerRuntime per peer entry: the
 * parts that run sessions (pull loop, inbound serving) update it, the status
 * view only reads it. A reload that changes or removes the entry retires the
 * runtime — its `retired` signal ends every session it runs — and a changed
 * entry gets a new runtime (new rules) that carries the counters over.
 */
import type { Checkpoint } from '../../store/types.js'
import type { LoadedConfig } from '../../config/load.js'
import type { PeerConfig } from '../../config/schema.js'
import { NotFoundError } from '../errors.js'
import { compileInboundRules, inboundRulesHash } from '../rules/inbound.js'
import { compileServeRules } from '../rules/serve.js'
import type { InboundRules, ServeRules } from '../rules/types.js'
import { PullProgress } from './progress.js'
import type { PullSession } from './pull-session.js'

export class PeerRuntime {
  readonly config: PeerConfig
  readonly rules: InboundRules
  readonly rulesHash: string
  readonly serveRules: ServeRules
  readonly progress: PullProgress
  connected = false
  address: string | undefined
  lastContact: number | undefined
  lastError: string | undefined
  served = 0
  skipped = 0
  /** versions from this peer refused since start because their signature does not verify (parked BAD_SIGNATURE) */
  badSignatures = 0
  /** versions from this peer accepted without a signature since start */
  unsigned = 0
  /** batches this peer pushed to us, applied; batches we pushed to it (since start) */
  pushedIn = 0
  pushedOut = 0
  /** objects pulled from this peer before the current pull session (the checkpoint's count) */
  pulledBase = 0
  /** objects pulled in the current pull session */
  pulledSession = 0
  /** the peer's position in our feed, the objects after it, and our head when that was counted */
  out: { position: number, pending: number, head: number } | undefined
  /** serve sessions this peer has open with us */
  serving = 0
  /** the open pull session with this peer */
  session: PullSession | undefined
  /** aborted when the peer's entry is removed or replaced by a reload */
  readonly retired = new AbortController()
  /** the pull loop and serve sessions running for this entry */
  readonly tasks = new Set<Promise<unknown>>()

  constructor (config: LoadedConfig, peer: PeerConfig, now: () => number) {
    this.config = peer
    this.rules = compileInboundRules(config, peer)
    this.rulesHash = inboundRulesHash(this.rules)
    this.serveRules = compileServeRules(peer)
    this.progress = new PullProgress(now)
  }

  /** A changed entry's new runtime goes on counting where the old one was. */
  carryFrom (old: PeerRuntime): void {
    this.served = old.served
    this.skipped = old.skipped
    this.pushedIn = old.pushedIn
    this.pushedOut = old.pushedOut
    this.lastContact = old.lastContact
    this.address = old.address
    this.lastError = old.lastError
    this.out = old.out
  }

  /** Run `task` as one of this entry's; retire() waits for it. */
  track (task: Promise<unknown>): void {
    this.tasks.add(task)
    void task.finally(() => this.tasks.delete(task))
  }

  /** End every session of this entry and wait for them. */
  async retire (): Promise<void> {
    this.retired.abort()
    await Promise.allSettled([...this.tasks])
  }

  /** objects received from this peer into our store, all time */
  get pulled (): number { return this.pulledBase + this.pulledSession }

  /** Pick up where the last run left off (its checkpoint). */
  restore (checkpoint: Checkpoint): void {
    this.progress.restore(checkpoint.seq)
    this.pulledBase = checkpoint.pulled
  }

  connectionChanged (connected: boolean, address: string | undefined, now: number): void {
    this.connected = connected
    if (address !== undefined) this.address = address
    if (connected) this.lastContact = now
  }

  /** The peer's position in our feed moved or was recounted; true when it moved. */
  positionAt (position: number, pending: number, head: number): boolean {
    const moved = this.out?.position !== position
    this.out = { position, pending, head }
    return moved
  }
}

/** The runtimes of all configured peers, by name. */
export class PeerRuntimes {
  readonly #byName = new Map<string, PeerRuntime>()

  readonly #now: () => number

  constructor (config: LoadedConfig, now: () => number) {
    this.#now = now
    for (const peer of config.peers) this.#byName.set(peer.name, new PeerRuntime(config, peer, now))
  }

  /** A runtime for `peer` under `config`'s agent-wide rules, replacing any of that name. */
  add (config: LoadedConfig, peer: PeerConfig): PeerRuntime {
    const rt = new PeerRuntime(config, peer, this.#now)
    this.#byName.set(peer.name, rt)
    return rt
  }

  remove (name: string): void {
    this.#byName.delete(name)
  }

  all (): IterableIterator<PeerRuntime> {
    return this.#byName.values()
  }

  /** the peer named so, or NotFoundError */
  get (name: string): PeerRuntime {
    const r = this.#byName.get(name)
    if (r === undefined) throw new NotFoundError(`no peer named "${name}" in this agent's config`)
    return r
  }

  find (name: string): PeerRuntime | undefined {
    return this.#byName.get(name)
  }

  byPeerId (peerId: string): PeerRuntime | undefined {
    return [...this.#byName.values()].find((r) => r.config.peerId === peerId)
  }
}
