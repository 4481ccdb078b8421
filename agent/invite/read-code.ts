/**
 * Reading an invite code pasted by an admin (`labmesh join`, `POST
 * /api/join`, the status page): everything that can be told without asking
 * the inviter. Kept apart from the handshake so that the CLI can check a
 * code without loading libp2p.
 */
import { InviteError } from '../../protocol/errors.js'
import { decodeInviteCode, type InviteCode } from '../../protocol/invite-code.js'
import { BadRequestError } from '../errors.js'

/**
 * The invite in `text`, checked as far as this agent can without asking the
 * inviter: well-formed, intact, not expired, not our own (given our peer ID).
 */
export function readInviteCode (text: string, deps: { readonly now: () => number, readonly peerId?: string }): InviteCode {
  const code = decodeInviteCode(text)
  if (code.expiresAt <= deps.now()) {
    throw new InviteError('INVITE_EXPIRED', `this invite code from ${code.domain} expired at ${new Date(code.expiresAt).toISOString()}: ask ${code.domain}'s admin for a new one (\`labmesh invite\`)`)
  }
  if (code.peerId === deps.peerId) throw new BadRequestError('this invite code is this agent\'s own: paste it on the agent that is to join')
  return code
}
