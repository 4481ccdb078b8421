/**
 * The door the mesh opens to peers not in the config ("guests"), for one
 * protocol only (the invite handshake). Inbound, a guest gets past the gater
 * only when the policy admits it (an invitation is open, within the rate
 * limit) and fewer than `maxGuests` guest connections are open; outbound,
 * only the peer being joined right now may be dialled. Whatever the guest
 * does, its connection is closed `ttlMs` after it opened unless the peer has
 * become a configured one by then. Every other protocol keeps refusing it:
 * the sync handler looks the peer up in the config (mesh.ts).
 */
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { describeError } from '../../protocol/errors.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'

/** Who may come in as a guest, and what it may open. */
export interface GuestPolicy {
  /** the one protocol a guest may open */
  readonly protocol: string
  /** an unknown peer wants in: true admits it (may count it against a rate limit) */
  admit (peerId: string): boolean
  /** guest connections open at once */
  readonly maxGuests: number
  /** a guest connection is closed this long after it opened, unless its peer joined */
  readonly ttlMs: number
}

export class GuestDoor {
  readonly #policy: GuestPolicy
  readonly #isPeer: (peerId: string) => boolean
  readonly #log: Logger
  /** peers this agent is dialling to join them (outbound guests) */
  readonly #joining = new Map<string, number>()
  /** open guest connections, by connection id, with the timer that ends them */
  readonly #open = new Map<string, ReturnType<typeof setTimeout>>()

  constructor (policy: GuestPolicy, isPeer: (peerId: string) => boolean, log: Logger) {
    this.#policy = policy
    this.#isPeer = isPeer
    this.#log = log
  }

  get protocol (): string { return this.#policy.protocol }

  /** the gater's question for an inbound peer not in the config */
  admitsInbound (peerId: PeerId): boolean {
    const id = peerId.toString()
    if (this.#open.size >= this.#policy.maxGuests) return false
    if (!this.#policy.admit(id)) return false
    this.#log.info({ peerId: id }, `admitted a peer not in the config for ${this.#policy.protocol} only (an invitation is open)`)
    return true
  }

  /** the gater's question for an outbound peer not in the config */
  allowsOutbound (peerId: PeerId): boolean {
    return this.#joining.has(peerId.toString())
  }

  /** While `run` runs, dialling `peerId` is allowed (we are joining it). */
  async joining<T> (peerId: string, run: () => Promise<T>): Promise<T> {
    this.#joining.set(peerId, (this.#joining.get(peerId) ?? 0) + 1)
    try {
      return await run()
    } finally {
      const left = (this.#joining.get(peerId) ?? 1) - 1
      if (left > 0) this.#joining.set(peerId, left)
      else this.#joining.delete(peerId)
    }
  }

  /** Time every guest connection of `node` out; returns the clean-up. */
  watch (node: Libp2p): () => void {
    const onOpen = (event: CustomEvent<Connection>): void => {
      const connection = event.detail
      const peerId = connection.remotePeer.toString()
      if (this.#isPeer(peerId)) return
      this.#open.set(connection.id, setTimeout(() => {
        this.#open.delete(connection.id)
        if (this.#isPeer(peerId) || connection.status !== 'open') return
        this.#log.info({ peerId: shortPeerId(peerId) }, 'closing the connection of a peer not in the config: its time for the invite handshake is up')
        connection.close().catch((err: unknown) => connection.abort(err instanceof Error ? err : new Error(describeError(err))))
      }, this.#policy.ttlMs))
    }
    const onClose = (event: CustomEvent<Connection>): void => {
      const timer = this.#open.get(event.detail.id)
      if (timer !== undefined) clearTimeout(timer)
      this.#open.delete(event.detail.id)
    }
    node.addEventListener('connection:open', onOpen)
    node.addEventListener('connection:close', onClose)
    return () => {
      node.removeEventListener('connection:open', onOpen)
      node.removeEventListener('connection:close', onClose)
      for (const timer of this.#open.values()) clearTimeout(timer)
      this.#open.clear()
    }
  }
}
