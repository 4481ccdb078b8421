/**
 * The inviter's side of `/labmesh/invite/1.0.0`: send a fresh nonce, read
 * the joiner's proof, and decide. The joiner's peer ID is the one the Noise
 * handshake proved; the proof must be the HMAC of the invitation's secret
 * over that ID, ours and the nonce (protocol/invite-proof.ts), so a proof
 * seen elsewhere is worth nothing here.
 *
 * Checks, in this order, so that only a holder of the secret learns anything
 * about an invitation: the id is known and the proof matches (else
 * INVITE_UNKNOWN) → not expired (INVITE_EXPIRED) → not used by another agent
 * (INVITE_USED) → `admit` takes the joiner into the config (it claims the
 * invitation on disk first; INVITE_REFUSED when the config cannot take it).
 * The same joiner presenting the same invitation again gets its welcome
 * again (its first answer may have been lost), as long as it is still in
 * the config.
 *
 * A bad frame, a timeout or a failed check closes the stream with an error
 * frame and a log line; nothing else changes.
 */
import { randomBytes } from 'node:crypto'
import type { Connection, Stream } from '@libp2p/interface'
import { AgentError, InviteError, describeError } from '../../protocol/errors.js'
import { INVITE_HANDSHAKE_TIMEOUT_MS, INVITE_NONCE_BYTES } from '../../protocol/invite-constants.js'
import { decodeJoinerMessage, type InviterMessage, type JoinerMessage, type ProofMessage } from '../../protocol/invite-messages.js'
import { proofMatches } from '../../protocol/invite-proof.js'
import { shortPeerId, type Logger } from '../runtime/logger.js'
import { inviteFraming, nextMessage } from './framing.js'
import { usedError, type InviteBook, type InviteRecord } from './invite-book.js'

/** The agent asking to join, as the handshake established it. */
export interface Joiner {
  /** proven by Noise */
  readonly peerId: string
  readonly domain: string
  readonly addrs: readonly string[]
}

export interface InviteHostDeps {
  readonly book: InviteBook
  readonly peerId: string
  readonly domain: string
  /** where this agent listens now (sent with the welcome) */
  readonly listenAddrs: () => readonly string[]
  readonly now: () => number
  readonly log: Logger
  /** the peer is in the running config */
  readonly isPeer: (peerId: string) => boolean
  /** take the joiner into the config (claiming `record` first); returns the name it got there */
  readonly admit: (joiner: Joiner, record: InviteRecord) => Promise<string>
}

/** The stream handler of the invite protocol, for the mesh's guest door. */
export function inviteHandler (deps: InviteHostDeps): (stream: Stream, connection: Connection) => void {
  return (stream, connection) => {
    void hostHandshake(deps, stream, connection.remotePeer.toString())
  }
}

async function hostHandshake (deps: InviteHostDeps, stream: Stream, joinerId: string): Promise<void> {
  const log = deps.log.child({ joiner: shortPeerId(joinerId) })
  const framed = inviteFraming<JoinerMessage, InviterMessage>(stream, decodeJoinerMessage)
  const messages = framed[Symbol.asyncIterator]()
  const timer = setTimeout(() => stream.abort(new InviteError('INVITE_REFUSED', 'the invite handshake took too long')), INVITE_HANDSHAKE_TIMEOUT_MS)
  try {
    const nonce = randomBytes(INVITE_NONCE_BYTES).toString('hex')
    await framed.send({ type: 'challenge', v: 1, nonce })
    const proof = await nextMessage(messages, 'the joiner')
    if (proof.type === 'error') {
      log.info({ code: proof.code, reason: proof.message }, 'the joiner gave up the invite handshake')
      stream.abort(new InviteError('INVITE_REFUSED', proof.message))
      return
    }
    const name = await decide(deps, proof, joinerId, nonce)
    await framed.send({ type: 'welcome', v: 1, domain: deps.domain, addrs: [...deps.listenAddrs()], name })
    log.info({ peer: name, domain: proof.domain }, `invitation ${proof.invite} used: ${proof.domain} joined as peer "${name}"`)
    await framed.close()
  } catch (err) {
    const code = err instanceof AgentError ? err.code : 'INVITE_REFUSED'
    log.warn({ code, err: describeError(err) }, 'invite handshake refused')
    await framed.fail(code, err instanceof AgentError ? err.message : `the invite handshake failed: ${describeError(err)}`)
  } finally {
    clearTimeout(timer)
  }
}

async function decide (deps: InviteHostDeps, proof: ProofMessage, joinerId: string, nonce: string): Promise<string> {
  const record = deps.book.find(proof.invite)
  const input = { inviteId: proof.invite, inviterPeerId: deps.peerId, joinerPeerId: joinerId, nonce }
  if (record === undefined || !proofMatches(record.secret, input, proof.mac)) {
    throw new InviteError('INVITE_UNKNOWN', `${deps.domain} did not issue this invite code, or revoked it (or the code's secret was changed): ask ${deps.domain}'s admin for a new code`)
  }
  if (record.expiresAt <= deps.now()) {
    throw new InviteError('INVITE_EXPIRED', `this invite code expired at ${new Date(record.expiresAt).toISOString()}: ask ${deps.domain}'s admin for a new code`)
  }
  if (record.usedBy !== undefined) {
    // its own invitation again, while it is still our peer: its first answer was lost. Removed since: the admin meant it
    if (record.usedBy !== joinerId || !deps.isPeer(joinerId)) throw usedError(record)
    if (record.usedName !== undefined) return record.usedName
  }
  return await deps.admit({ peerId: joinerId, domain: proof.domain, addrs: proof.addrs }, record)
}
