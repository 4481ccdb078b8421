/**
 * The joiner's side of `/labmesh/invite/1.0.0`: dial the inviter where the
 * code says (the mesh lets us dial this one peer not in our config while we
 * do), answer its challenge with the HMAC proof, and read its verdict. What
 * the inviter refuses comes back as an InviteError with the inviter's own
 * code and message (used, expired, unknown, refused). A code that is cut
 * short, altered or expired never gets here: read-code.ts refuses it before
 * anything is dialled.
 */
import type { Stream } from '@libp2p/interface'
import { InviteError, describeError, type InviteErrorCode } from '../../protocol/errors.js'
import type { InviteCode } from '../../protocol/invite-code.js'
import { INVITE_HANDSHAKE_TIMEOUT_MS } from '../../protocol/invite-constants.js'
import { decodeInviterMessage, type InviterMessage, type JoinerMessage, type WelcomeMessage } from '../../protocol/invite-messages.js'
import { inviteProof } from '../../protocol/invite-proof.js'
import type { Logger } from '../runtime/logger.js'
import { inviteFraming, nextMessage } from './framing.js'

const INVITER_CODES: ReadonlySet<string> = new Set<InviteErrorCode>(['INVITE_EXPIRED', 'INVITE_USED', 'INVITE_UNKNOWN', 'INVITE_REFUSED'])

export interface JoinDeps {
  readonly peerId: string
  readonly domain: string
  /** where this agent listens (the inviter dials us there) */
  readonly listenAddrs: () => readonly string[]
  readonly now: () => number
  readonly log: Logger
  /** a stream of the invite protocol to a peer not in our config */
  readonly openStream: (peerId: string, addrs: readonly string[], signal: AbortSignal) => Promise<Stream>
}

/** Run the handshake with the inviter of `code`; resolves with its welcome. */
export async function joinInviter (deps: JoinDeps, code: InviteCode): Promise<WelcomeMessage> {
  const signal = AbortSignal.timeout(INVITE_HANDSHAKE_TIMEOUT_MS)
  let stream: Stream
  try {
    stream = await deps.openStream(code.peerId, code.addrs, signal)
  } catch (err) {
    throw new InviteError('INVITE_UNREACHABLE', `could not reach ${code.domain} (${code.peerId}) at ${code.addrs.join(', ') || 'no address'}: ${describeError(err)}. Check that it runs and that this machine can reach that address; an agent also refuses the connection when it has no invitation left (all used long ago, expired or revoked)`, { cause: err })
  }
  const framed = inviteFraming<InviterMessage, JoinerMessage>(stream, decodeInviterMessage)
  const messages = framed[Symbol.asyncIterator]()
  const onAbort = (): void => stream.abort(new InviteError('INVITE_UNREACHABLE', `${code.domain} did not answer the invite handshake in time`))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const challenge = await nextMessage(messages, code.domain)
    if (challenge.type !== 'challenge') throw inviterAnswer(challenge, code)
    const mac = inviteProof(code.secret, { inviteId: code.id, inviterPeerId: code.peerId, joinerPeerId: deps.peerId, nonce: challenge.nonce })
    await framed.send({ type: 'proof', v: 1, invite: code.id, mac, domain: deps.domain, addrs: [...deps.listenAddrs()] })
    const answer = await nextMessage(messages, code.domain)
    if (answer.type !== 'welcome') throw inviterAnswer(answer, code)
    await framed.close()
    return answer
  } catch (err) {
    if (err instanceof InviteError) {
      stream.abort(err)
      throw err
    }
    await framed.fail('INVITE_REFUSED', describeError(err))
    if (signal.aborted) throw new InviteError('INVITE_UNREACHABLE', `${code.domain} did not answer the invite handshake within ${INVITE_HANDSHAKE_TIMEOUT_MS / 1000} s: try again`, { cause: err })
    throw new InviteError('INVITE_REFUSED', `the invite handshake with ${code.domain} failed: ${describeError(err)}`, { cause: err })
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** The inviter's error frame (or a message out of turn) as the error to report. */
function inviterAnswer (message: InviterMessage, code: InviteCode): InviteError {
  if (message.type !== 'error') return new InviteError('INVITE_REFUSED', `${code.domain} sent "${message.type}" out of turn in the invite handshake`)
  const known = INVITER_CODES.has(message.code) ? message.code as InviteErrorCode : 'INVITE_REFUSED'
  return new InviteError(known, `${code.domain} refused: ${message.message}`)
}
