/**
 * The frames of one `nodes` answer: nodes are added one by one (a range's
 * leaves in as many nodes as it takes) and go out as frames of at most
 * BATCH_TARGET_BYTES of JSON (or MAX_FRAME_LEAVES leaves, or
 * MAX_VERIFY_RANGES nodes), the last one marked `last`. A single leaf is
 * far below the frame cap (a uid, at most 33 vectors of 256 entries), so a
 * frame never outgrows MAX_FRAME_BYTES.
 */
import { BATCH_TARGET_BYTES } from '../../protocol/constants.js'
import { MAX_FRAME_LEAVES, MAX_VERIFY_RANGES, VERIFY_PROTOCOL_VERSION } from '../../protocol/verify-constants.js'
import type { WireCount, WireLeaf, WireNode, WireRange } from '../../protocol/verify-messages.js'

export class NodesFrames {
  readonly #id: number
  readonly #send: (json: string) => Promise<void>
  #parts: string[] = []
  #bytes = 0
  #leaves = 0
  /** frames sent */
  frames = 0

  /** `send`: one frame's JSON */
  constructor (id: number, send: (json: string) => Promise<void>) {
    this.#id = id
    this.#send = send
  }

  /** a node without leaves (children, or nothing there) */
  async node (node: WireNode): Promise<void> {
    await this.#add(JSON.stringify(node), 0)
  }

  /** a range's leaves, in as many nodes (and frames) as they need; none still makes a node */
  async leaves (range: WireRange, count: WireCount, leaves: readonly WireLeaf[]): Promise<void> {
    const head = JSON.stringify({ type: range.type, origin: range.origin, bits: range.bits, prefix: range.prefix, count: count.count, hash: count.hash })
    let i = 0
    do {
      if (this.#parts.length > 0 && (this.#leaves >= MAX_FRAME_LEAVES || this.#bytes >= BATCH_TARGET_BYTES || this.#parts.length >= MAX_VERIFY_RANGES)) await this.#flush(false)
      const room = MAX_FRAME_LEAVES - this.#leaves
      const parts: string[] = []
      let bytes = head.length
      while (i < leaves.length && parts.length < room && (parts.length === 0 || this.#bytes + bytes < BATCH_TARGET_BYTES)) {
        const json = JSON.stringify(leaves[i++])
        parts.push(json)
        bytes += json.length + 1
      }
      await this.#add(`${head.slice(0, -1)},"leaves":[${parts.join(',')}]}`, parts.length)
    } while (i < leaves.length)
  }

  /** the last frame (also when nothing was added) */
  async end (): Promise<void> {
    await this.#flush(true)
  }

  async #add (json: string, leaves: number): Promise<void> {
    if (this.#parts.length > 0 && (this.#bytes + json.length > BATCH_TARGET_BYTES || this.#leaves + leaves > MAX_FRAME_LEAVES || this.#parts.length >= MAX_VERIFY_RANGES)) await this.#flush(false)
    this.#parts.push(json)
    this.#bytes += json.length + 1
    this.#leaves += leaves
  }

  async #flush (last: boolean): Promise<void> {
    const json = `{"type":"nodes","v":${VERIFY_PROTOCOL_VERSION},"id":${this.#id},"nodes":[${this.#parts.join(',')}],"last":${last}}`
    this.#parts = []
    this.#bytes = 0
    this.#leaves = 0
    this.frames++
    await this.#send(json)
  }
}
