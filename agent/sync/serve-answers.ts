/**
 * What a serve session sends for one request: the batch frames of a `pull`
 * and the objects frames of a `get`, for one peer under its serve rules.
 *
 * No frame exceeds MAX_FRAME_BYTES. A frame closes once its objects' JSON
 * passes BATCH_TARGET_BYTES (counted in UTF-16 units, so at most 3 × 1 MiB
 * of UTF-8), except that an object larger than that travels alone in its
 * frame. One object's wire JSON is at most MAX_OBJECT_BYTES (the store
 * refuses larger records), which leaves 64 KiB for the frame's envelope. A
 * record stored before that limit was enforced, and too large for a frame,
 * is skipped (onSkipped) — the peer could not receive it anyway — and the
 * session goes on.
 *
 * Every batch frame carries `remaining`: the exact number of our feed entries
 * after that frame's `lastSeq` at the moment it is sent (the session's
 * FeedTally keeps the count current as commits land), and `more` agrees with it.
 */
import { BATCH_TARGET_BYTES, MAX_FRAME_BYTES, MAX_GET_UIDS, MAX_OBJECT_BYTES, PROTOCOL_VERSION_2 } from '../../protocol/constants.js'
import { bulkBatchFrame } from '../../protocol/bulk-frame.js'
import type { ClientMessage, GetMessage, PullMessage } from '../../protocol/messages.js'
import type { ObjectVersion } from '../../protocol/object.js'
import type { Store, StoredObject } from '../../store/types.js'
import { storedJsonToWire, toWire } from '../../store/stored-wire.js'
import type { Logger } from '../runtime/logger.js'
import type { FeedTally } from './feed-tally.js'
import type { FramedStream } from './framed-stream.js'

/** What answering a request needs (ServeSessionDeps extends it). */
export interface ServeAnswerDeps {
  readonly store: Store
  /** the peer's name in our config */
  readonly peerName: string
  readonly batchSize: number
  /** serve rules (they decide by type): may this peer receive this version (current or sibling)? */
  readonly mayServe: (version: Pick<ObjectVersion, 'type'>) => boolean
  readonly log: Logger
  readonly onServed?: (objects: number) => void
  /**
   * An object this peer would get but that no frame can carry (its wire JSON
   * is over MAX_OBJECT_BYTES: a record stored before that limit): it was
   * skipped. Called each time; without it, the session logs a warning.
   */
  readonly onSkipped?: (skip: SkippedObject) => void
}

export interface SkippedObject {
  readonly uid: string
  readonly reason: 'OBJECT_TOO_LARGE'
  /** its wire JSON, in bytes */
  readonly bytes: number
}

/** What an answer's last frame said: where it ended, and whether the feed had more after it then. */
export interface AnswerEnd { readonly lastSeq: number, readonly more: boolean }

/**
 * Stream up to `limit` feed entries after the tally's cursor (the pull's
 * `since`) as batch frames; each frame's `remaining` and `more` are the
 * tally's exact count after that frame's `lastSeq`. `pushed`: the answer is
 * a push (no pull asked for it), whose every frame names the position it
 * follows (`from`), so the puller can check it continues exactly where it is.
 */
export async function answerPull (
  framed: FramedStream<ClientMessage>,
  pull: Pick<PullMessage, 'id' | 'since' | 'limit'>,
  deps: ServeAnswerDeps,
  tally: FeedTally,
  peerEpoch: string | undefined,
  sent: () => void,
  pushed = false
): Promise<AnswerEnd> {
  let rowsSent = 0
  // the position the next frame follows (pushed frames carry it)
  let from = pushed ? pull.since : undefined
  while (true) {
    const want = Math.min(deps.batchSize, pull.limit - rowsSent)
    const page = await tally.readPage(want)
    rowsSent += page.entries.length
    const parts: string[] = []
    let bytes = 0
    for (let i = 0; i < page.entries.length; i++) {
      const entry = page.entries[i]!
      const json = wireJsonFor(entry.json, deps, peerEpoch)
      if (json === undefined) continue
      const size = wireBytesBound(json)
      if (size > MAX_OBJECT_BYTES) {
        skipped(deps, uidOf(entry.json), size)
        continue
      }
      if (bytes + json.length > BATCH_TARGET_BYTES && parts.length > 0) {
        // frame full: ship what we have, up to the entry before this one
        const lastSeq = page.entries[i - 1]!.seq
        const remaining = tally.advance(lastSeq)
        await sendBatch(framed, pull.id, parts, lastSeq, false, true, remaining, from)
        if (from !== undefined) from = lastSeq
        // counted as it goes: a window cut short by a broken session was still partly served
        deps.onServed?.(parts.length)
        sent()
        parts.length = 0
        bytes = 0
      }
      parts.push(json)
      bytes += json.length
    }
    // the count is taken right before sending, so `more` and `remaining` agree with it
    const remaining = tally.advance(page.lastSeq)
    const windowDone = remaining === 0 || rowsSent >= pull.limit || page.entries.length === 0
    await sendBatch(framed, pull.id, parts, page.lastSeq, windowDone, remaining > 0, remaining, from)
    if (from !== undefined) from = page.lastSeq
    if (parts.length > 0) deps.onServed?.(parts.length)
    sent()
    if (windowDone) return { lastSeq: page.lastSeq, more: remaining > 0 }
  }
}

/**
 * The wire JSON of one stored record for this peer, or undefined when the
 * peer must not get it (serve rules) or holds it already (its own version).
 * Plain records are cut from their stored text (storedJsonToWire); others are
 * parsed and serialised.
 */
function wireJsonFor (stored: string, deps: ServeAnswerDeps, peerEpoch: string | undefined): string | undefined {
  const plain = storedJsonToWire(stored)
  if (plain !== undefined) {
    if (plain.via === deps.peerName && plain.viaEpoch === peerEpoch) return undefined // it holds this version already
    return deps.mayServe(plain) ? plain.json : undefined
  }
  const object = JSON.parse(stored) as StoredObject
  if (object.via === deps.peerName && object.viaEpoch === peerEpoch && object.conflicts.length === 0) return undefined
  if (!deps.mayServe(object)) return undefined
  return JSON.stringify(toWire(servable(object, deps)))
}

/**
 * An upper bound on the UTF-8 size of one object's wire JSON, exact for long
 * texts: UTF-8 takes at most 3 bytes per UTF-16 unit, so only a text longer
 * than MAX_OBJECT_BYTES / 3 units is measured.
 */
function wireBytesBound (json: string): number {
  return json.length <= MAX_OBJECT_BYTES / 3 ? json.length * 3 : Buffer.byteLength(json)
}

/** The uid of a stored record, from the start of its JSON text (putObject writes `uid` first). */
function uidOf (stored: string): string {
  const match = /^\{"uid":("(?:[^"\\]|\\.)*")/.exec(stored)
  return match !== null ? JSON.parse(match[1]!) as string : (JSON.parse(stored) as StoredObject).uid
}

function skipped (deps: ServeAnswerDeps, uid: string, bytes: number): void {
  if (deps.onSkipped !== undefined) deps.onSkipped({ uid, reason: 'OBJECT_TOO_LARGE', bytes })
  else deps.log.warn({ uid, bytes }, `object ${uid} takes ${bytes} bytes as JSON, over the ${MAX_OBJECT_BYTES}-byte limit for one object (stored before that limit was enforced): no frame can carry it, so it is not served; make it smaller with a local edit`)
}

/** A batch frame: a JSON message in version 1, a bulk frame (protocol/bulk-frame.ts) in version 2 (the only one that pushes). */
async function sendBatch (framed: FramedStream<ClientMessage>, id: number, parts: string[], lastSeq: number, last: boolean, more: boolean, remaining: number, from: number | undefined): Promise<void> {
  const version = framed.version
  if (version === PROTOCOL_VERSION_2) {
    await framed.sendEncoded(bulkBatchFrame({ id, lastSeq, last, more, remaining, ...(from !== undefined ? { from } : {}) }, parts, framed.maxFrameBytes))
    return
  }
  await framed.sendJson(`{"type":"batch","v":${version},"id":${id},"changes":[${parts.join(',')}],"lastSeq":${lastSeq},"last":${last},"more":${more},"remaining":${remaining}}`)
}

/** Answer a `get` (of either protocol: verify repairs with it too) with objects frames. */
export async function answerGet (framed: Pick<FramedStream<unknown>, 'sendJson' | 'version'>, get: GetMessage, deps: ServeAnswerDeps): Promise<void> {
  const uids = get.uids.slice(0, MAX_GET_UIDS)
  const objects = await deps.store.getObjects(uids)
  const missing: string[] = []
  let parts: string[] = []
  let bytes = 0
  /** upper bound on the UTF-8 size of `parts` */
  let size = 0
  for (let i = 0; i < uids.length; i++) {
    const object = objects[i]
    if (object === undefined || !deps.mayServe(object)) {
      missing.push(uids[i]!)
      continue
    }
    const json = JSON.stringify(toWire(servable(object, deps)))
    const objectSize = wireBytesBound(json)
    if (objectSize > MAX_OBJECT_BYTES) {
      // the peer cannot have it: answered as missing
      skipped(deps, uids[i]!, objectSize)
      missing.push(uids[i]!)
      continue
    }
    if (bytes + json.length > BATCH_TARGET_BYTES && parts.length > 0) {
      await framed.sendJson(objectsJson(framed.version, get.id, parts, [], false))
      deps.onServed?.(parts.length)
      parts = []
      bytes = 0
      size = 0
    }
    parts.push(json)
    bytes += json.length
    size += objectSize
  }
  // The last frame also lists `missing` (up to MAX_GET_UIDS uids of up to
  // MAX_UID_LENGTH characters: more than the 64 KiB of envelope an object of
  // MAX_OBJECT_BYTES leaves). When both might not fit, the objects go first.
  const missingJson = JSON.stringify(missing)
  if (parts.length > 0 && missing.length > 0 && size + Buffer.byteLength(missingJson) + 1024 > MAX_FRAME_BYTES) {
    await framed.sendJson(objectsJson(framed.version, get.id, parts, [], false))
    deps.onServed?.(parts.length)
    parts = []
  }
  await framed.sendJson(objectsJson(framed.version, get.id, parts, missing, true, missingJson))
  if (parts.length > 0) deps.onServed?.(parts.length)
}

/**
 * The object as this peer may see it: a conflict sibling of a type its serve
 * rules exclude stays here (a version is content like any other, and the
 * sibling may be of another type than the current version).
 */
function servable (object: StoredObject, deps: ServeAnswerDeps): StoredObject {
  if (object.conflicts.length === 0) return object
  const conflicts = object.conflicts.filter((c) => deps.mayServe(c))
  return conflicts.length === object.conflicts.length ? object : { ...object, conflicts }
}

function objectsJson (version: number, id: number, parts: string[], missing: string[], last: boolean, missingJson = JSON.stringify(missing)): string {
  return `{"type":"objects","v":${version},"id":${id},"objects":[${parts.join(',')}],"missing":${missingJson},"last":${last}}`
}
