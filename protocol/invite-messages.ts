/**
 * Wire messages of `/labmesh/invite/1.0.0`, with the zod schemas that are
 * their specification (same framing as the sync protocol: varint-prefixed
 * UTF-8 JSON, each message carrying `v`; frames capped at
 * MAX_INVITE_FRAME_BYTES).
 *
 * The joiner opens the stream to the inviter. The inviter speaks first:
 *   inviter → joiner  `challenge {nonce}`
 *   joiner  → inviter `proof {invite, mac, domain, addrs}`
 *   inviter → joiner  `welcome {domain, addrs, name}`  or  `error {code, message}`
 * and closes. `error` may also flow from the joiner before it closes.
 */
import { z } from 'zod'
import { MAX_DOMAIN_LENGTH } from './constants.js'
import { INVITE_ID_BYTES, INVITE_NONCE_BYTES, INVITE_PROTOCOL_VERSION, MAX_INVITE_ADDR_LENGTH, MAX_INVITE_ADDRS } from './invite-constants.js'
import { schemaResult, type DecodeResult } from './decode.js'

/** Inviter → joiner: the nonce the joiner's proof must cover (fresh per handshake). */
export interface ChallengeMessage { readonly type: 'challenge', readonly v: number, readonly nonce: string }

/** Joiner → inviter: which invitation, the HMAC proof (invite-proof.ts), and who the joiner is. */
export interface ProofMessage {
  readonly type: 'proof'
  readonly v: number
  /** hex invite id from the code */
  readonly invite: string
  /** hex HMAC-SHA256 */
  readonly mac: string
  /** the joiner's domain: the inviter's default name for it */
  readonly domain: string
  /** where the joiner listens (the inviter dials it there) */
  readonly addrs: readonly string[]
}

/** Inviter → joiner: accepted; the inviter has added the joiner to its peers under `name`. */
export interface WelcomeMessage {
  readonly type: 'welcome'
  readonly v: number
  readonly domain: string
  /** where the inviter listens now */
  readonly addrs: readonly string[]
  /** the name the inviter gave the joiner in its config */
  readonly name: string
}

/** Either way: why the sender closes (an InviteErrorCode from the inviter). */
export interface InviteErrorMessage { readonly type: 'error', readonly v: number, readonly code: string, readonly message: string }

export type InviterMessage = ChallengeMessage | WelcomeMessage | InviteErrorMessage
export type JoinerMessage = ProofMessage | InviteErrorMessage

// ---- validation (trust boundary: the inviter runs this on a peer not in its config) ----

const v = z.literal(INVITE_PROTOCOL_VERSION)
const hex = (bytes: number): z.ZodString => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), { message: `must be ${bytes * 2} lowercase hex digits` })
const domain = z.string().min(1).max(MAX_DOMAIN_LENGTH)
const addrs = z.array(z.string().min(1).max(MAX_INVITE_ADDR_LENGTH)).max(MAX_INVITE_ADDRS)
const errorSchema = z.object({ type: z.literal('error'), v, code: z.string().max(64), message: z.string().max(4096) })

const inviterSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('challenge'), v, nonce: hex(INVITE_NONCE_BYTES) }),
  z.object({ type: z.literal('welcome'), v, domain, addrs, name: z.string().min(1).max(63) }),
  errorSchema
])

const joinerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('proof'), v, invite: hex(INVITE_ID_BYTES), mac: hex(32), domain, addrs }),
  errorSchema
])

/** Validate a message the inviter sent (we join). */
export function decodeInviterMessage (value: unknown): DecodeResult<InviterMessage> {
  return schemaResult(inviterSchema.safeParse(value), value, INVITE_PROTOCOL_VERSION, 'invite protocol')
}

/** Validate a message a joiner sent (we invited). */
export function decodeJoinerMessage (value: unknown): DecodeResult<JoinerMessage> {
  return schemaResult(joinerSchema.safeParse(value), value, INVITE_PROTOCOL_VERSION, 'invite protocol')
}
