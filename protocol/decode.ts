/**
 * The decoders that validate untrusted input before anything else sees it:
 * the zod schemas of messages.ts (sync) and verify-messages.ts (verify), with
 * the hand-written fast path (fast-decode.ts) for bulk frames, which returns
 * exactly what zod would or defers to zod.
 */
import type { z } from 'zod'
import { PROTOCOL_VERSION } from './constants.js'
import { fastServerMessage } from './fast-decode.js'
import { messageSchemas, type ClientMessage, type ServerMessage } from './messages.js'
import { VERIFY_PROTOCOL_VERSION } from './verify-constants.js'
import { verifyClientSchema, verifyServerSchema, type VerifyClientMessage, type VerifyServerMessage } from './verify-messages.js'

export type DecodeResult<T> = { ok: true, message: T } | { ok: false, error: string }

/** Validate a message a client sent to us (we are the server), in a session of protocol `version`. */
export function decodeClientMessage (value: unknown, version: number = PROTOCOL_VERSION): DecodeResult<ClientMessage> {
  return toResult(messageSchemas(version).client.safeParse(value), value, version)
}

/**
 * Validate a message a server sent to us (we are the client). Bulk messages
 * take the hand-written fast path (fast-decode.ts), which returns what zod
 * would or defers to zod; zod alone decides every rejection and its text.
 */
export function decodeServerMessage (value: unknown, version: number = PROTOCOL_VERSION): DecodeResult<ServerMessage> {
  const fast = fastServerMessage(value, version)
  if (fast !== undefined) return { ok: true, message: fast }
  return toResult(messageSchemas(version).server.safeParse(value), value, version)
}

/** The zod-only decoder: the specification the fast path is tested against. */
export function decodeServerMessageWithZod (value: unknown, version: number = PROTOCOL_VERSION): DecodeResult<ServerMessage> {
  return toResult(messageSchemas(version).server.safeParse(value), value, version)
}

function toResult<T> (parsed: z.ZodSafeParseResult<T>, raw: unknown, version: number): DecodeResult<T> {
  return schemaResult(parsed, raw, version, 'protocol')
}

/**
 * A zod verdict on a message as a DecodeResult: a wrong `v` is reported as
 * such (the peer runs another version), anything else by the first issue.
 * `protocol` names it in the error ('protocol', 'invite protocol').
 */
export function schemaResult<T> (parsed: z.ZodSafeParseResult<T>, raw: unknown, version: number, protocol: string): DecodeResult<T> {
  if (parsed.success) return { ok: true, message: parsed.data }
  const rawVersion = typeof raw === 'object' && raw !== null ? (raw as { v?: unknown }).v : undefined
  if (rawVersion !== undefined && rawVersion !== version) {
    return { ok: false, error: `unsupported ${protocol} version ${JSON.stringify(rawVersion)} (this agent speaks ${version})` }
  }
  const first = parsed.error.issues[0]
  const where = first !== undefined && first.path.length > 0 ? first.path.join('.') : 'message'
  return { ok: false, error: `invalid ${protocol === 'protocol' ? '' : `${protocol} `}message: ${where}: ${first?.message ?? 'does not match the protocol'}` }
}

/** Validate a verify-protocol message a client sent to us (we serve our digest). */
export function decodeVerifyClientMessage (value: unknown): DecodeResult<VerifyClientMessage> {
  return schemaResult(verifyClientSchema.safeParse(value), value, VERIFY_PROTOCOL_VERSION, 'verify protocol')
}

/**
 * Validate a verify-protocol message a server sent to us (we verify). Its
 * `objects` frames (a repair's fetches) take the sync protocol's fast path.
 */
export function decodeVerifyServerMessage (value: unknown): DecodeResult<VerifyServerMessage> {
  const fast = (value as { type?: unknown } | null)?.type === 'objects' ? fastServerMessage(value) : undefined
  if (fast !== undefined) return { ok: true, message: fast as VerifyServerMessage }
  return schemaResult(verifyServerSchema.safeParse(value), value, VERIFY_PROTOCOL_VERSION, 'verify protocol')
}
