/**
 * Keeping a connection to one configured peer: dial when there is none, back
 * off exponentially (with jitter) after failures, reset the backoff once a
 * connection stands, and wait for it to go away before dialling again. The
 * loop ends when its signal aborts (the mesh stops, or the peer leaves the
 * config). `Upkeeps` holds one such loop per peer.
 */
import type { Libp2p } from 'libp2p'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { DIAL_TIMEOUT_MS } from '../../protocol/constants.js'
import { describeError } from '../../protocol/errors.js'
import type { Logger } from '../runtime/logger.js'
import { Backoff } from '../runtime/backoff.js'
import { withDeadline } from '../runtime/deadline.js'

export async function keepConnected (node: Libp2p, peer: { readonly name: string, readonly peerId: string }, signal: AbortSignal, log: Logger): Promise<void> {
  const id = peerIdFromString(peer.peerId)
  const backoff = new Backoff()
  while (!signal.aborted) {
    if (node.getConnections(id).some((c) => c.status === 'open')) {
      backoff.reset()
      await waitForDisconnect(node, peer.peerId, signal)
      continue
    }
    try {
      await withDeadline(DIAL_TIMEOUT_MS, `dialling ${peer.name}`, signal, async (bounded) => await node.dial(id, { signal: bounded }))
      backoff.reset()
    } catch (err) {
      if (signal.aborted) return
      log.debug({ peer: peer.name, err: describeError(err), retryInMs: backoff.delay }, 'dial failed')
      await backoff.wait(signal)
    }
  }
}

async function waitForDisconnect (node: Libp2p, peerId: string, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const onDisconnect = (event: CustomEvent<PeerId>): void => {
      if (event.detail.toString() !== peerId) return
      cleanup()
      resolve()
    }
    const onAbort = (): void => { cleanup(); resolve() }
    const cleanup = (): void => {
      node.removeEventListener('peer:disconnect', onDisconnect)
      signal.removeEventListener('abort', onAbort)
    }
    node.addEventListener('peer:disconnect', onDisconnect)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** One upkeep loop per configured peer with addresses; starting one again ends the one before. */
export class Upkeeps {
  readonly #loops = new Map<string, AbortController>()
  readonly #log: Logger

  constructor (log: Logger) {
    this.#log = log
  }

  start (node: Libp2p, peer: { readonly name: string, readonly peerId: string, readonly addrs: readonly string[] }): void {
    this.stop(peer.peerId)
    if (peer.addrs.length === 0) return
    const controller = new AbortController()
    this.#loops.set(peer.peerId, controller)
    void keepConnected(node, peer, controller.signal, this.#log)
  }

  stop (peerId: string): void {
    this.#loops.get(peerId)?.abort()
    this.#loops.delete(peerId)
  }

  stopAll (): void {
    for (const controller of this.#loops.values()) controller.abort()
    this.#loops.clear()
  }
}
