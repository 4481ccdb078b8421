/**
 * The invite code: what an admin pastes into a chat or an email. One line of
 * lowercase letters and digits behind a recognisable prefix —
 * `labmesh_invite_…` — so that it survives mail clients, chat markup and a
 * double-click selection whole (no `-`, `+`, `/` or `=` to break on).
 *
 * Body (base32, RFC 4648 alphabet, lowercase, no padding) = payload ‖
 * checksum, where the checksum is the first CHECKSUM_BYTES of SHA-256 over
 * the payload: a truncated or altered code is told apart (INVITE_DAMAGED)
 * from a well-formed one the inviter does not know (INVITE_UNKNOWN, decided
 * by the inviter). The checksum is no security: the secret is.
 *
 * Payload, version 1 (lengths in bytes, integers big-endian):
 *   1  version (1)
 *   8  invite id                     random; names the invitation
 *  16  secret                        random; proven by HMAC, never sent
 *   4  expiry                        Unix seconds
 *   1+ inviter's peer ID             its text (base58) behind a length byte
 *   1+ inviter's domain              UTF-8 behind a length byte
 *   1  number of addresses, then each multiaddr's bytes behind a length byte
 */
import { createHash } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { base32Decode, base32Encode } from './base32.js'
import { InviteError } from './errors.js'
import { INVITE_ID_BYTES, INVITE_SECRET_BYTES, MAX_INVITE_ADDRS } from './invite-constants.js'

export const INVITE_CODE_PREFIX = 'labmesh_invite_'
/** the payload's first byte */
export const INVITE_FORMAT_VERSION = 1
const CHECKSUM_BYTES = 5
const CHECKSUM_LABEL = 'labmesh-invite-checksum/1'

/** What an invite code carries. */
export interface InviteCode {
  /** hex, INVITE_ID_BYTES */
  readonly id: string
  /** hex, INVITE_SECRET_BYTES */
  readonly secret: string
  /** ms since the epoch (the code keeps whole seconds) */
  readonly expiresAt: number
  /** the inviting agent */
  readonly peerId: string
  readonly domain: string
  /** where the inviting agent listens */
  readonly addrs: readonly string[]
}

export function encodeInviteCode (code: InviteCode): string {
  return sealInvitePayload(encodePayload(code))
}

/** A payload as a code: prefix, then base32 of the payload and its checksum. */
export function sealInvitePayload (payload: Uint8Array): string {
  return INVITE_CODE_PREFIX + base32Encode(Buffer.concat([payload, checksum(payload)]))
}

/** The payload and checksum bytes of a code, undefined when it is not base32 behind the prefix (tests, diagnostics). */
export function openInviteCode (text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '').toLowerCase()
  return compact.startsWith(INVITE_CODE_PREFIX) ? base32Decode(compact.slice(INVITE_CODE_PREFIX.length)) : undefined
}

/**
 * The invite in `text`, or InviteError: INVITE_MALFORMED when it is no
 * labmesh invite code (or a newer format), INVITE_DAMAGED when its checksum
 * does not match (cut short, a character changed). Whitespace inside is
 * ignored: a mail client may have wrapped the line.
 */
export function decodeInviteCode (text: string): InviteCode {
  const compact = text.replace(/\s+/g, '')
  if (!compact.toLowerCase().startsWith(INVITE_CODE_PREFIX)) {
    throw new InviteError('INVITE_MALFORMED', `this is not a labmesh invite code (one starts with "${INVITE_CODE_PREFIX}"): paste the whole line \`labmesh invite\` printed on the other agent`)
  }
  const bytes = openInviteCode(compact)
  if (bytes === undefined || bytes.length <= CHECKSUM_BYTES) throw damaged()
  const payload = bytes.subarray(0, bytes.length - CHECKSUM_BYTES)
  if (!checksum(payload).equals(bytes.subarray(bytes.length - CHECKSUM_BYTES))) throw damaged()
  if (payload[0] !== INVITE_FORMAT_VERSION) {
    throw new InviteError('INVITE_MALFORMED', `this invite code has format version ${payload[0] ?? '?'}, this agent reads version ${INVITE_FORMAT_VERSION}: upgrade labmesh here, or ask for a code from an agent of the same version`)
  }
  try {
    return decodePayload(payload)
  } catch (err) {
    // the checksum matched, so these bytes are what some program wrote: not a transmission error
    throw new InviteError('INVITE_MALFORMED', `this invite code is not readable (${(err as Error).message}): ask the other agent's admin for a new one`, { cause: err })
  }
}

function damaged (): InviteError {
  return new InviteError('INVITE_DAMAGED', 'this invite code is damaged — cut short or altered on the way (its checksum does not match): copy the whole line again, without adding or dropping characters')
}

function checksum (payload: Uint8Array): Buffer {
  return createHash('sha256').update(CHECKSUM_LABEL).update(payload).digest().subarray(0, CHECKSUM_BYTES)
}

function encodePayload (code: InviteCode): Buffer {
  const id = Buffer.from(code.id, 'hex')
  const secret = Buffer.from(code.secret, 'hex')
  if (id.length !== INVITE_ID_BYTES || secret.length !== INVITE_SECRET_BYTES) throw new RangeError('invite id or secret has the wrong length')
  if (code.addrs.length > MAX_INVITE_ADDRS) throw new RangeError(`an invite carries at most ${MAX_INVITE_ADDRS} addresses`)
  const expiry = Buffer.alloc(4)
  expiry.writeUInt32BE(Math.floor(code.expiresAt / 1000))
  const parts: Uint8Array[] = [Buffer.from([INVITE_FORMAT_VERSION]), id, secret, expiry,
    short(Buffer.from(peerIdFromString(code.peerId).toString(), 'ascii')), short(Buffer.from(code.domain, 'utf8')), Buffer.from([code.addrs.length])]
  for (const addr of code.addrs) parts.push(short(multiaddr(addr).bytes))
  return Buffer.concat(parts)
}

/** bytes behind a one-byte length */
function short (bytes: Uint8Array): Buffer {
  if (bytes.length > 255) throw new RangeError('a field of an invite code takes at most 255 bytes')
  return Buffer.concat([Buffer.from([bytes.length]), bytes])
}

function decodePayload (payload: Buffer): InviteCode {
  let at = 1
  const take = (n: number): Buffer => {
    if (at + n > payload.length) throw new RangeError('it ends early')
    const out = payload.subarray(at, at + n)
    at += n
    return out
  }
  const takeShort = (): Buffer => take(take(1)[0]!)
  const id = take(INVITE_ID_BYTES).toString('hex')
  const secret = take(INVITE_SECRET_BYTES).toString('hex')
  const expiresAt = take(4).readUInt32BE() * 1000
  const peerId = peerIdFromString(takeShort().toString('ascii')).toString()
  const domain = takeShort().toString('utf8')
  const count = take(1)[0]!
  if (count > MAX_INVITE_ADDRS) throw new RangeError(`it lists ${count} addresses, at most ${MAX_INVITE_ADDRS} are allowed`)
  const addrs: string[] = []
  for (let i = 0; i < count; i++) addrs.push(multiaddr(takeShort()).toString())
  if (at !== payload.length) throw new RangeError('it has bytes after its last field')
  return { id, secret, expiresAt, peerId, domain, addrs }
}
