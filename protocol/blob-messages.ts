/**
 * Wire messages of `/labmesh/blob/1.0.0` and their validation. The zod
 * schemas are the specification of the control messages; data frames are
 * binary (blob-codec.ts) and checked field by field here.
 *
 * One stream fetches one blob. The client (the agent that wants it) sends
 * `get` with the hash and the offset it resumes from; the server answers
 * `info` (the blob's size) or `error` (not here, or not for this peer) and
 * closes. After `info`, the server sends data frames — strictly in order,
 * from the offset asked for — but never more bytes than the client has
 * granted with `credit` messages: the client grants a window, and more as it
 * writes what arrived (request-driven back-pressure). After the last byte
 * the server half-closes; the client verifies the whole blob against its
 * hash before anyone can see it.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { z } from 'zod'
import { BLOB_PROTOCOL_VERSION, MAX_BLOB_CREDIT_BYTES } from './blob-constants.js'
import { BLOB_HASH_PREFIX, MAX_BLOB_BYTES } from './blob-ref.js'
import { schemaResult, type DecodeResult } from './decode.js'

/** Client → server: send blob `hash` from byte `offset` on (0, or where a cut transfer stopped). */
export interface BlobGetMessage { readonly type: 'get', readonly v: number, readonly hash: string, readonly offset: number }

/** Client → server: you may send `bytes` more. */
export interface BlobCreditMessage { readonly type: 'credit', readonly v: number, readonly bytes: number }

/** Server → client: the blob is here and may be sent to you; it has `size` bytes. */
export interface BlobInfoMessage { readonly type: 'info', readonly v: number, readonly hash: string, readonly size: number }

/** Either way: the sender closes the stream because of `code`. */
export interface BlobErrorMessage { readonly type: 'error', readonly v: number, readonly code: string, readonly message: string }

/** Server → client, binary: `bytes` of the blob from `offset` on (as the slices they arrived in). */
export interface BlobDataFrame { readonly type: 'data', readonly offset: number, readonly bytes: Uint8ArrayList }

export type BlobClientMessage = BlobGetMessage | BlobCreditMessage | BlobErrorMessage
export type BlobServerMessage = BlobInfoMessage | BlobErrorMessage | BlobDataFrame
export type BlobControlMessage = BlobGetMessage | BlobCreditMessage | BlobInfoMessage | BlobErrorMessage

// ---- validation (trust boundary: everything below runs on peer input) ----

const v = z.literal(BLOB_PROTOCOL_VERSION)
const hash = z.string().length(71).regex(/^sha256:[0-9a-f]{64}$/, { message: `must be "${BLOB_HASH_PREFIX}" followed by 64 lowercase hex digits` })
const size = z.number().int().min(0).max(MAX_BLOB_BYTES)
const errorSchema = z.object({ type: z.literal('error'), v, code: z.string().max(64), message: z.string().max(2048) })

export const blobClientSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('get'), v, hash, offset: size }),
  z.object({ type: z.literal('credit'), v, bytes: z.number().int().min(1).max(MAX_BLOB_CREDIT_BYTES) }),
  errorSchema
])

export const blobServerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('info'), v, hash, size }),
  errorSchema
])

/** A frame (parsed JSON, or a data frame) from a client, validated. */
export function decodeBlobClientMessage (value: unknown): DecodeResult<BlobClientMessage> {
  if (isDataFrame(value)) return { ok: false, error: 'invalid message: a client may not send blob data' }
  return toResult(blobClientSchema.safeParse(value), value)
}

/** A frame (parsed JSON, or a data frame) from a server, validated. */
export function decodeBlobServerMessage (value: unknown): DecodeResult<BlobServerMessage> {
  if (isDataFrame(value)) return { ok: true, message: value }
  return toResult(blobServerSchema.safeParse(value), value)
}

function isDataFrame (value: unknown): value is BlobDataFrame {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'data' && (value as { bytes?: unknown }).bytes instanceof Uint8ArrayList
}

function toResult<T> (parsed: z.ZodSafeParseResult<T>, raw: unknown): DecodeResult<T> {
  return schemaResult(parsed, raw, BLOB_PROTOCOL_VERSION, 'blob protocol')
}
