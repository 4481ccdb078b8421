/**
 * The `get` requests of a pull session and their answers: objects fetched by
 * uid (dependencies, retries of parked objects).
 *
 * A request asks for at most MAX_GET_UIDS uids; larger asks go out as several
 * requests, one after the other. An answer may span several `objects` frames
 * and completes with the one marked `last`. Whatever comes back is applied as
 * a dependency, so a frame naming a uid its request did not ask for is a
 * protocol error. Once the session fails, every open request is rejected
 * with its error, and no new one is sent.
 */
import { MAX_GET_UIDS, REQUEST_TIMEOUT_MS } from '../../protocol/constants.js'
import { ProtocolError } from '../../protocol/errors.js'
import type { GetMessage, ObjectsMessage } from '../../protocol/messages.js'
import type { WireObject } from '../../protocol/object.js'
import { withTimeout, type Waiter } from './waiting.js'

export interface GetAnswer { objects: WireObject[], missing: string[] }

interface OpenRequest {
  readonly uids: ReadonlySet<string>
  readonly objects: WireObject[]
  readonly missing: string[]
  readonly waiter: Waiter<GetAnswer>
}

export interface GetRequestsDeps {
  readonly peerName: string
  /** send one request on the session's stream */
  readonly send: (message: GetMessage) => Promise<void>
  /** the session's protocol version (`v` of every message) */
  readonly version: number
  /** the session's request ids (pulls and gets share one sequence) */
  readonly nextRequestId: () => number
}

export class GetRequests {
  readonly #deps: GetRequestsDeps
  readonly #open = new Map<number, OpenRequest>()
  #closedError: Error | undefined

  constructor (deps: GetRequestsDeps) {
    this.#deps = deps
  }

  /** Fetch objects by uid from the remote. */
  async get (uids: readonly string[]): Promise<GetAnswer> {
    const objects: WireObject[] = []
    const missing: string[] = []
    for (let i = 0; i < uids.length; i += MAX_GET_UIDS) {
      const part = await this.#getChunk(uids.slice(i, i + MAX_GET_UIDS))
      objects.push(...part.objects)
      missing.push(...part.missing)
    }
    return { objects, missing }
  }

  async #getChunk (uids: readonly string[]): Promise<GetAnswer> {
    if (this.#closedError !== undefined) throw this.#closedError
    const id = this.#deps.nextRequestId()
    const result = new Promise<GetAnswer>((resolve, reject) => {
      this.#open.set(id, { uids: new Set(uids), objects: [], missing: [], waiter: { resolve, reject } })
    })
    // if the session fails while the request is being sent, the send throws to our caller;
    // the rejected answer must not also surface as an unhandled rejection (which ends the process)
    result.catch(() => {})
    await this.#deps.send({ type: 'get', v: this.#deps.version, id, uids })
    return await withTimeout(result, REQUEST_TIMEOUT_MS, `peer ${this.#deps.peerName} did not answer get within ${REQUEST_TIMEOUT_MS} ms`)
  }

  /** One `objects` frame from the remote; throws a ProtocolError for an answer nobody asked for. */
  answer (message: ObjectsMessage): void {
    const pending = this.#open.get(message.id)
    if (pending === undefined) throw new ProtocolError(`objects for unknown request ${message.id}`)
    // whatever comes back is applied as a dependency: only what was asked for may come back
    const stray = [...message.objects.map((o) => o.uid), ...message.missing].find((uid) => !pending.uids.has(uid))
    if (stray !== undefined) throw new ProtocolError(`peer ${this.#deps.peerName} answered get ${message.id} with ${stray}, which was not asked for`)
    pending.objects.push(...message.objects)
    pending.missing.push(...message.missing)
    if (message.last) {
      this.#open.delete(message.id)
      pending.waiter.resolve({ objects: pending.objects, missing: pending.missing })
    }
  }

  /** The session failed with `err` (its first error): reject every open request, refuse new ones. */
  fail (err: Error): void {
    if (this.#closedError === undefined) this.#closedError = err
    for (const g of this.#open.values()) g.waiter.reject(err)
    this.#open.clear()
  }
}
