/**
 * Wire messages of `/labmesh/sync/1.0.0` and `2.0.0`: a discriminated union on `type`,
 * every message carrying the protocol version `v`, and their zod schemas,
 * which are the specification (decode.ts applies them to untrusted input).
 *
 * A session is one stream opened by the puller (the "client") to the peer it
 * pulls from (the "server"). Both send `hello` first; then the client asks
 * (`pull`, `get`) and the server answers (`batch`, `objects`) and pushes
 * `notify` when its feed grows. `error` may flow either way before a close.
 */
import { z } from 'zod'
import {
  HASH_TEXT_LENGTH, MAX_AUDIT_PATH_LENGTH, MAX_BATCH_OBJECTS, MAX_CONFLICT_SIBLINGS, MAX_DATA_DEPTH, MAX_DOMAIN_LENGTH,
  MAX_CAPABILITIES, MAX_CAPABILITY_LENGTH, MAX_GET_UIDS, MAX_ID_LENGTH, MAX_PEER_ID_LENGTH, MAX_PULL_WINDOW, MAX_PUSH_CREDIT,
  MAX_REFS, MAX_SEQ, MAX_SIGN_GROUP, MAX_TYPE_LENGTH, MAX_UID_LENGTH, MAX_VECTOR_ENTRIES, PROTOCOL_VERSION, PROTOCOL_VERSION_2,
  SIGNATURE_TEXT_LENGTH
} from './constants.js'
import { scanBlobRefs } from './blob-ref.js'
import { MAX_CODEC_NAME_LENGTH, MAX_OFFERED_CODECS } from './frame-compression.js'
import type { ObjectVersion, VersionSignature, WireObject } from './object.js'

/** The peer's view of itself, exchanged once per session. */
export interface HelloMessage {
  readonly type: 'hello'
  readonly v: number
  readonly domain: string
  /** highest feed sequence number */
  readonly head: number
  /** objects in the peer's store */
  readonly count: number
  /** random id of the peer's feed; changes when the store is rebuilt */
  readonly epoch: string
  /**
   * Server only: hash of what it serves this client (its serve rules). A
   * checkpoint made under other serve rules is not trusted: objects withheld
   * then would never be sent.
   */
  readonly serves?: string
  /**
   * Version 2, client only: the frame codecs it would take, in its order of
   * preference (protocol/frame-compression.ts). Absent or empty: none.
   */
  readonly codecs?: readonly string[]
  /** Version 2, server only: the codec it chose from the client's `codecs`; absent: frames go uncompressed. */
  readonly codec?: string
  /**
   * Version 2: optional features the sender speaks (PUSH_CAPABILITY). A
   * feature is on in a session when both hellos name it; a version-2 peer
   * that knows none sends none (and strips the unknown key from ours).
   */
  readonly caps?: readonly string[]
}

/**
 * Client → server: send feed entries after `since`, at most `limit` objects.
 * Version 2 with push on: `push` is the credit (push answers not yet
 * acknowledged) the server may push with once this pull's answer ends at its
 * head; any new pull takes the previous credit back.
 */
export interface PullMessage { readonly type: 'pull', readonly v: number, readonly id: number, readonly since: number, readonly limit: number, readonly push?: number }

/** Client → server (version 2, push on): pushed batches up to `seq` are applied; their credit is free again. */
export interface AckMessage { readonly type: 'ack', readonly v: number, readonly seq: number }

/** Client → server: send these objects by uid (dependencies, recovery). */
export interface GetMessage { readonly type: 'get', readonly v: number, readonly id: number, readonly uids: readonly string[] }

/**
 * Server → client: part of the answer to pull `id`. `last` ends that answer;
 * `more` says whether the feed has entries after `lastSeq`; `remaining`
 * estimates how many (exact at the start of each answer).
 */
export interface BatchMessage {
  readonly type: 'batch'
  readonly v: number
  readonly id: number
  readonly changes: readonly WireObject[]
  readonly lastSeq: number
  readonly last: boolean
  readonly more: boolean
  readonly remaining: number
  /**
   * Version 2, pushed batches only (id PUSH_ID): the feed position the batch
   * follows. The puller takes it only when `from` is exactly what it last
   * received; anything else is dropped and it pulls instead.
   */
  readonly from?: number
  /**
   * Version 2 only, set by the bulk-frame decoder (never sent as a field):
   * each change's `data` object → the JSON text it was parsed from, so the
   * apply path can store that text instead of serialising `data` again.
   */
  readonly dataTexts?: ReadonlyMap<object, string>
}

/**
 * Server → client: (part of) the answer to get `id`; `last` ends it. `missing`
 * lists uids the server does not have or will not serve to this peer.
 */
export interface ObjectsMessage {
  readonly type: 'objects'
  readonly v: number
  readonly id: number
  readonly objects: readonly WireObject[]
  readonly missing: readonly string[]
  readonly last: boolean
}

/** Server → client: my feed grew to `head`; pull when ready. */
export interface NotifyMessage { readonly type: 'notify', readonly v: number, readonly head: number }

/** Either way: the sender is closing the session because of `code`. */
export interface ErrorMessage { readonly type: 'error', readonly v: number, readonly code: string, readonly message: string }

export type ClientMessage = HelloMessage | PullMessage | GetMessage | AckMessage | ErrorMessage
export type ServerMessage = HelloMessage | BatchMessage | ObjectsMessage | NotifyMessage | ErrorMessage
export type Message = ClientMessage | ServerMessage

// ---- validation (trust boundary: everything below runs on peer input) ----

const seq = z.number().int().min(0).max(MAX_SEQ)
const count = z.number().int().min(0).max(MAX_SEQ)
const requestId = z.number().int().min(0).max(2 ** 31)
const uid = z.string().min(1).max(MAX_UID_LENGTH)
const domain = z.string().min(1).max(MAX_DOMAIN_LENGTH)

const vector = z.record(domain, z.number().int().min(0).max(MAX_SEQ))
  .refine((v) => Object.keys(v).length <= MAX_VECTOR_ENTRIES, { message: `a vector may have at most ${MAX_VECTOR_ENTRIES} entries` })

/** The field schemas other protocols' messages share (verify-messages.ts). */
export const fieldSchemas = { count, requestId, uid, domain, vector } as const

/** Whether `value` nests no deeper than `limit` (iterative: deep input must not overflow the check itself). */
export function withinDepth (value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth > limit) return false
    for (const child of Object.values(v)) stack.push([child, depth + 1])
  }
  return true
}

/**
 * An object's `data`: any JSON object, nested at most MAX_DATA_DEPTH deep,
 * whose blob references (every object in it with a `blob` key,
 * protocol/blob-ref.ts) are well-formed.
 */
export const dataSchema = z.record(z.string(), z.unknown())
  .refine((d) => withinDepth(d, MAX_DATA_DEPTH), { message: `data may nest at most ${MAX_DATA_DEPTH} levels deep`, abort: true })
  .superRefine((d, ctx) => {
    const { problem } = scanBlobRefs(d)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid blob reference: ${problem}` })
  })

/** base64url without padding (hashes, signatures, audit paths) */
export const BASE64URL_RE = /^[A-Za-z0-9_-]*$/

/**
 * A version's provenance (object.ts VersionSignature). Only its shape is
 * checked here; whether it verifies is the apply path's question (a version
 * whose signature does not verify is parked, the stream goes on).
 */
export const signatureSchema: z.ZodType<VersionSignature> = z.object({
  by: domain,
  peer: z.string().min(1).max(MAX_PEER_ID_LENGTH),
  h: z.string().length(HASH_TEXT_LENGTH).regex(BASE64URL_RE),
  sig: z.string().length(SIGNATURE_TEXT_LENGTH).regex(BASE64URL_RE),
  i: z.number().int().min(0).max(MAX_SIGN_GROUP).optional(),
  n: z.number().int().min(2).max(MAX_SIGN_GROUP).optional(),
  p: z.string().max(MAX_AUDIT_PATH_LENGTH).regex(BASE64URL_RE).optional(),
  id: z.string().max(MAX_ID_LENGTH).optional()
})

const versionFields = {
  uid,
  type: z.string().min(1).max(MAX_TYPE_LENGTH),
  id: z.string().max(MAX_ID_LENGTH),
  parent: uid.nullable(),
  refs: z.array(uid).max(MAX_REFS),
  data: dataSchema,
  vector,
  origin: domain,
  deleted: z.boolean(),
  at: z.number().finite().min(0),
  sig: signatureSchema.optional()
}

export const objectVersionSchema: z.ZodType<ObjectVersion> = z.object(versionFields)

export const wireObjectSchema: z.ZodType<WireObject> = z.object({
  ...versionFields,
  conflicts: z.array(z.object(versionFields)).max(MAX_CONFLICT_SIBLINGS).optional()
})

/**
 * The message schemas of one protocol version: they differ in the `v` every
 * message must carry, and version 2 adds push (hello `caps`, pull `push`,
 * batch `from`, `ack`; unknown keys are stripped, so version 1 ignores them).
 */
function schemasFor (version: number): { client: z.ZodType<ClientMessage>, server: z.ZodType<ServerMessage> } {
  const v = z.literal(version)
  const helloBase = z.object({ type: z.literal('hello'), v, domain, head: seq, count, epoch: z.string().min(1).max(64), serves: z.string().max(64).optional() })
  const pullBase = z.object({ type: z.literal('pull'), v, id: requestId, since: seq, limit: z.number().int().min(1).max(MAX_PULL_WINDOW) })
  const batchBase = z.object({
    type: z.literal('batch'), v, id: requestId, changes: z.array(wireObjectSchema).max(MAX_BATCH_OBJECTS),
    lastSeq: seq, last: z.boolean(), more: z.boolean(), remaining: count
  })
  const errorSchema = z.object({ type: z.literal('error'), v, code: z.string().max(64), message: z.string().max(4096) })
  const getSchema = z.object({ type: z.literal('get'), v, id: requestId, uids: z.array(uid).min(1).max(MAX_GET_UIDS) })
  const objectsSchema = z.object({ type: z.literal('objects'), v, id: requestId, objects: z.array(wireObjectSchema).max(MAX_GET_UIDS), missing: z.array(uid).max(MAX_GET_UIDS), last: z.boolean() })
  const notifySchema = z.object({ type: z.literal('notify'), v, head: seq })
  if (version !== PROTOCOL_VERSION_2) {
    return {
      client: z.discriminatedUnion('type', [helloBase, pullBase, getSchema, errorSchema]),
      server: z.discriminatedUnion('type', [helloBase, batchBase, objectsSchema, notifySchema, errorSchema])
    }
  }
  // version 2 negotiates optional features (push) and frame compression (frame-compression.ts) in the hello
  const hello = helloBase.extend({ caps: z.array(z.string().min(1).max(MAX_CAPABILITY_LENGTH)).max(MAX_CAPABILITIES).optional() })
  const codecName = z.string().min(1).max(MAX_CODEC_NAME_LENGTH)
  return {
    client: z.discriminatedUnion('type', [
      hello.extend({ codecs: z.array(codecName).max(MAX_OFFERED_CODECS).optional() }),
      pullBase.extend({ push: z.number().int().min(1).max(MAX_PUSH_CREDIT).optional() }),
      getSchema,
      z.object({ type: z.literal('ack'), v, seq }),
      errorSchema
    ]),
    server: z.discriminatedUnion('type', [hello.extend({ codec: codecName.optional() }), batchBase.extend({ from: seq.optional() }), objectsSchema, notifySchema, errorSchema])
  }
}

const v1 = schemasFor(PROTOCOL_VERSION)
const v2 = schemasFor(PROTOCOL_VERSION_2)

/** Every message a client (puller) may send (protocol version 1). */
export const clientSchema = v1.client
/** Every message a server (the remote pulled from) may send (protocol version 1). */
export const serverSchema = v1.server
/** The same for version 2, whose batches arrive as bulk frames (bulk-frame.ts) decoded into this shape. */
export const clientSchemaV2 = v2.client
export const serverSchemaV2 = v2.server

/** The client and server schemas of a protocol version. */
export function messageSchemas (version: number): { client: z.ZodType<ClientMessage>, server: z.ZodType<ServerMessage> } {
  return version === PROTOCOL_VERSION_2 ? v2 : v1
}

/** `get` and its answer `objects` (version 1): also messages of the verify protocol (verify-messages.ts), which repairs with them */
export const getSchema = z.object({ type: z.literal('get'), v: z.literal(PROTOCOL_VERSION), id: requestId, uids: z.array(uid).min(1).max(MAX_GET_UIDS) })
export const objectsSchema = z.object({ type: z.literal('objects'), v: z.literal(PROTOCOL_VERSION), id: requestId, objects: z.array(wireObjectSchema).max(MAX_GET_UIDS), missing: z.array(uid).max(MAX_GET_UIDS), last: z.boolean() })
/** `error`: either way, in either protocol */
export const errorSchema = z.object({ type: z.literal('error'), v: z.literal(PROTOCOL_VERSION), code: z.string().max(64), message: z.string().max(4096) })

export type Role = 'client' | 'server'
