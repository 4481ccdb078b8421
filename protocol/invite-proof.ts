/**
 * How a joiner proves it holds an invitation's secret without sending it:
 * an HMAC-SHA256, keyed with the secret, over the invite id, both peer IDs
 * and the inviter's fresh nonce. On a Noise connection both peer IDs are
 * proven, so an observer — or the inviter, or anyone the proof is shown to —
 * cannot replay it: another joiner has another peer ID, another handshake
 * another nonce. Pure functions.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

/** separates this use of the secret from any other */
const LABEL = 'labmesh-invite-proof/1'

export interface ProofInput {
  /** hex id of the invitation */
  readonly inviteId: string
  /** the inviting agent, as the Noise handshake proved it */
  readonly inviterPeerId: string
  /** the joining agent, as the Noise handshake proved it */
  readonly joinerPeerId: string
  /** hex nonce the inviter sent for this handshake */
  readonly nonce: string
}

/** The proof (hex) for `secret` (hex) over `input`. */
export function inviteProof (secret: string, input: ProofInput): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'hex'))
  for (const part of [LABEL, input.inviteId, input.inviterPeerId, input.joinerPeerId, input.nonce]) {
    // length-prefixed, so that no two different inputs give the same bytes
    const bytes = Buffer.from(part, 'utf8')
    const length = Buffer.alloc(4)
    length.writeUInt32BE(bytes.length)
    mac.update(length).update(bytes)
  }
  return mac.digest('hex')
}

/** Whether `presented` is the proof for `secret` over `input`, compared in constant time. */
export function proofMatches (secret: string, input: ProofInput, presented: string): boolean {
  const expected = Buffer.from(inviteProof(secret, input), 'hex')
  const given = Buffer.from(presented, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}
