/**
 * A hostile remote: a bare libp2p node with an allowed key that `handle`s
 * the sync protocol and answers whoever pulls from it with scripted frames
 * from the fuzz generator. It plays the server side, so the pulling side of
 * an agent meets the same random, mutated and hostile input as the serving
 * side does.
 */
import '../../agent/runtime/polyfills.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { PrivateKey, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { MAX_SEQ, PROTOCOL_ID, PROTOCOL_ID_V2, PROTOCOL_VERSION } from '../../protocol/constants.js'
import { bulkBatchText } from '../../protocol/bulk-frame.js'
import {
  brokenMessage, garbageFrame, jsonFrame, mutatedFrame, nonObjectFrame, notJsonFrame, overlongVarint, oversizedPrefix,
  randomUid, rawFrame, toJsonText, truncatedFrame, validHello, validObject
} from './fuzz-frames.js'
import type { Rng } from './seeded.js'
import { compressedFrame, hostileBulkFrame, hostileCompressedFrame, sampleOf, version2Decoder } from './fuzz-frames-v2.js'
import { frameReader, type FrameReader } from './wire-client.js'

/** What the hostile side saw of one session. */
export interface ServedSession {
  readonly kind: string
  /** frames we sent */
  readonly frames: number
  /** the puller told us why it closed (an error frame) */
  readonly toldWhy: boolean
  /** the puller closed the session (within the deadline) */
  readonly closedByPuller: boolean
  /** the start of the last frame we sent, for failure messages */
  readonly sample: string
  /** the script itself failed (a bug of the test, reported as a failure) */
  readonly error?: string
}

export interface HostileServer {
  readonly node: Libp2p
  readonly addr: string
  readonly sessions: readonly ServedSession[]
  stop (): Promise<void>
}

/** Kinds in which we end the session ourselves: the puller has no frame of ours to refuse. */
export const SERVER_ENDS_KINDS = new Set(['server-error', 'close-after-hello'])

const PULL_KINDS = ['bad-hello', 'broken-batch', 'broken-notify', 'broken-objects', 'objects-unknown-id', 'unrequested-objects', 'hello-twice',
  'server-error', 'client-message', 'garbage', 'not-json', 'non-object', 'oversized', 'overlong-varint', 'truncated', 'empty-frame',
  'mutated', 'hostile-notifies', 'close-after-hello', 'bulk-hostile', 'compressed-hostile', 'codec-not-offered'] as const

/**
 * Answer one pull session with a hostile script. Every kind ends with a frame
 * the puller must refuse (or with us ending the session); nothing valid that
 * would change its store is ever sent, except inside 'unrequested-objects',
 * whose valid batch cannot be applied without the answer to its `get`.
 */
export async function hostileAnswer (stream: Stream, rng: Rng, domain: string): Promise<ServedSession> {
  const v2 = stream.protocol === PROTOCOL_ID_V2
  // version 2: the puller's frames may come compressed once we agreed on a codec
  const reader = frameReader(stream, v2 ? version2Decoder() : undefined)
  const frame = frameFor(v2 ? 2 : 1)
  let kind: string = rng.pick(PULL_KINDS)
  let frames = 0
  let sample = ''
  /** the codec both sides agreed on in the hellos: every frame after ours goes compressed when worth it */
  let agreed = false
  const send = (frame: Uint8Array): void => {
    if (stream.status !== 'open' || stream.writeStatus !== 'writable') return
    stream.send(agreed ? compressedFrame(frame) : frame)
    frames++
    sample = sampleOf(frame)
  }
  const waitForType = async (type: string): Promise<Record<string, unknown> | undefined> => {
    for (let f = await reader.next(10_000); f !== undefined; f = await reader.next(10_000)) if (f.type === type) return f
    return undefined
  }
  const theirs = await waitForType('hello')
  if (theirs !== undefined) {
    const offered = v2 && Array.isArray(theirs.codecs) && theirs.codecs.includes('brotli')
    // the codec the hello names: the one offered (mostly), or one never offered
    const codec = kind === 'codec-not-offered' ? (offered ? 'lz4' : 'brotli') : offered && rng.chance(0.7) ? 'brotli' : undefined
    if (kind === 'bad-hello') send(frame(brokenMessage(rng, 'hello', domain)))
    else send(frame({ ...validHello(rng, domain), epoch: 'hostile-epoch', ...(codec !== undefined && v2 ? { codec } : {}) }))
    if (kind === 'codec-not-offered' && !v2) kind = 'garbage' // version 1 has no codecs to lie about
    agreed = v2 && codec !== undefined && kind !== 'codec-not-offered'
    // a hello the puller refuses gets no pull: its error frame is read below
    const pull = kind === 'bad-hello' || kind === 'close-after-hello' || kind === 'codec-not-offered' ? undefined : await waitForType('pull')
    if (pull !== undefined || kind === 'close-after-hello') kind = await script(kind, rng, domain, send, reader, pull, frame, agreed, stream)
  }
  if (stream.status === 'open' && stream.writeStatus === 'writable') await stream.close().catch(() => {})
  let toldWhy = false
  for (let f = await reader.next(10_000); f !== undefined; f = await reader.next(10_000)) if (f.type === 'error') toldWhy = true
  return { kind, frames, toldWhy, closedByPuller: reader.ended, sample }
}

/** Send the kind's frames; returns the kind, refined by what was sent (the variant of a hostile bulk or compressed frame). */
async function script (kind: string, rng: Rng, domain: string, send: (frame: Uint8Array) => void, reader: FrameReader, pull: Record<string, unknown> | undefined, frame: (value: unknown) => Uint8Array, agreed: boolean, stream: Stream): Promise<string> {
  const id = typeof pull?.id === 'number' ? pull.id : 1
  switch (kind) {
    case 'bulk-hostile': {
      const bulk = hostileBulkFrame(rng, id)
      send(bulk.frame)
      return `${kind}:${bulk.kind}`
    }
    case 'compressed-hostile': {
      const honest = frame({ type: 'batch', v: PROTOCOL_VERSION, id, changes: Array.from({ length: 8 }, () => validObject(rng)), lastSeq: 8, last: true, more: false, remaining: 0 })
      // agreed: a compressed frame that lies; not agreed: an honest compressed frame the puller never asked for
      const hostile = agreed ? hostileCompressedFrame(rng, honest) : { kind: 'compressed-unagreed', frame: compressedFrame(honest, true) }
      if (stream.status === 'open' && stream.writeStatus === 'writable') stream.send(hostile.frame)
      return `${kind}:${hostile.kind}`
    }
    case 'codec-not-offered': return kind
  }
  await scriptV1(kind, rng, domain, send, reader, id, frame)
  return kind
}

async function scriptV1 (kind: string, rng: Rng, domain: string, send: (frame: Uint8Array) => void, reader: FrameReader, id: number, frame: (value: unknown) => Uint8Array): Promise<void> {
  switch (kind) {
    case 'broken-batch': send(frame(brokenMessage(rng, 'batch', domain))); return
    case 'broken-notify': send(frame(brokenMessage(rng, 'notify', domain))); return
    case 'broken-objects': send(frame(brokenMessage(rng, 'objects', domain))); return
    case 'objects-unknown-id': send(frame({ type: 'objects', v: PROTOCOL_VERSION, id: 100_000 + rng.int(1000), objects: [validObject(rng)], missing: [], last: true })); return
    case 'unrequested-objects': {
      // a valid batch whose object needs a dependency; the answer to the get brings other uids
      const needs = randomUid(rng, 20)
      send(frame({ type: 'batch', v: PROTOCOL_VERSION, id, changes: [{ ...validObject(rng), type: 'Client', parent: null, refs: [needs], deleted: false }], lastSeq: 1, last: true, more: false, remaining: 0 }))
      const get = await nextOfType(reader, 'get')
      if (get === undefined) return
      send(frame({ type: 'objects', v: PROTOCOL_VERSION, id: get.id, objects: [{ ...validObject(rng), uid: randomUid(rng, 21), refs: [], parent: null }], missing: rng.chance(0.5) ? [] : [randomUid(rng, 22)], last: true }))
      return
    }
    case 'hello-twice': send(frame(validHello(rng, domain))); return
    case 'server-error': send(frame({ type: 'error', v: PROTOCOL_VERSION, code: 'HOSTILE', message: 'going away' })); return
    case 'client-message': send(frame(rng.chance(0.5) ? { type: 'pull', v: PROTOCOL_VERSION, id: 1, since: 0, limit: 10 } : { type: 'get', v: PROTOCOL_VERSION, id: 1, uids: ['x'] })); return
    case 'garbage': send(garbageFrame(rng)); return
    case 'not-json': send(notJsonFrame(rng, domain)); return
    case 'non-object': send(nonObjectFrame(rng)); return
    case 'oversized': send(oversizedPrefix(rng)); return
    case 'overlong-varint': send(overlongVarint(rng)); return
    case 'truncated': send(truncatedFrame(rng, frame({ type: 'batch', v: PROTOCOL_VERSION, id, changes: [validObject(rng)], lastSeq: 5, last: true, more: false, remaining: 0 }))); return
    case 'empty-frame': send(rawFrame('')); return
    case 'mutated': send(mutatedFrame(rng, frame({ type: 'notify', v: PROTOCOL_VERSION, head: 0 }))); send(garbageFrame(rng)); return
    case 'hostile-notifies':
      // valid, harmless on their own (a notify changes no store), then a terminator
      for (let i = 0, n = 1 + rng.int(20); i < n; i++) send(frame({ type: 'notify', v: PROTOCOL_VERSION, head: rng.pick([0, MAX_SEQ, rng.int(1e12)]) }))
      send(garbageFrame(rng))
      return
    case 'close-after-hello': return
  }
}

/**
 * How a message goes out in a session of `version`: in version 2 every
 * message carrying `v: 1` carries 2 instead (a broken `v` stays broken), and
 * a batch whose changes are a list goes as a bulk frame (protocol/bulk-frame.ts).
 */
function frameFor (version: 1 | 2): (value: unknown) => Uint8Array {
  if (version === 1) return jsonFrame
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return jsonFrame(value)
    const m = { ...(value as Record<string, unknown>) }
    // the versions swap, so that a `v` broken as "the other version" stays broken
    if (m.v === PROTOCOL_VERSION) m.v = 2
    else if (m.v === 2) m.v = PROTOCOL_VERSION
    if (m.type !== 'batch' || !Array.isArray(m.changes)) return jsonFrame(m)
    const { changes, ...header } = m
    // the header as it is (broken fields too): bulkBatchText's own header is replaced by this one
    const body = bulkBatchText({ id: 0, lastSeq: 0, last: true, more: false, remaining: 0 }, changes.map((c) => toJsonText(c) ?? 'null'))
    const sizes = body.slice(body.indexOf('"sizes":'), body.indexOf('\n') - 1)
    return rawFrame(`B${toJsonText(header).slice(0, -1)}${Object.keys(header).length > 0 ? ',' : ''}${sizes}}${body.slice(body.indexOf('\n'))}`)
  }
}

async function nextOfType (reader: FrameReader, type: string): Promise<Record<string, unknown> | undefined> {
  for (let f = await reader.next(10_000); f !== undefined; f = await reader.next(10_000)) if (f.type === type) return f
  return undefined
}

/** Start a node with `privateKey` that answers every sync stream with `hostileAnswer`. */
export async function createHostileServer (privateKey: PrivateKey, rng: Rng, domain: string): Promise<HostileServer> {
  const sessions: ServedSession[] = []
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: { inboundConnectionThreshold: 1000 }
  })
  // both versions: the puller under test dials one or the other
  await node.handle([PROTOCOL_ID, PROTOCOL_ID_V2], (stream) => {
    void hostileAnswer(stream, rng, domain).then((s) => { sessions.push(s) }, (err: unknown) => {
      sessions.push({ kind: 'script failed', frames: 0, toldWhy: false, closedByPuller: false, sample: '', error: String((err as Error).stack ?? err) })
      stream.abort(err as Error)
    })
  }, { maxInboundStreams: 64 })
  const addr = node.getMultiaddrs()[0]!.toString().replace(/\/p2p\/.*$/, '')
  return { node, addr, sessions, async stop () { await node.stop() } }
}
