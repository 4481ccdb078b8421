/**
 * The invite protocol's streams as validated messages: the sync protocol's
 * framing (FramedStream) with the invite protocol's small frame cap and
 * version, and "the next message or a clear error" for a handshake that
 * reads exactly one message at each step.
 */
import type { Stream } from '@libp2p/interface'
import { ProtocolError } from '../../protocol/errors.js'
import type { DecodeResult } from '../../protocol/decode.js'
import { INVITE_PROTOCOL_VERSION, MAX_INVITE_FRAME_BYTES } from '../../protocol/invite-constants.js'
import { FramedStream } from '../sync/framed-stream.js'

export function inviteFraming<In, Out> (stream: Stream, decode: (value: unknown) => DecodeResult<In>): FramedStream<In, Out> {
  return new FramedStream<In, Out>(stream, decode, { maxFrameBytes: MAX_INVITE_FRAME_BYTES, version: INVITE_PROTOCOL_VERSION })
}

/**
 * The next message of `messages` (ONE iterator per stream: frames it has
 * decoded but not yet yielded live in it), or ProtocolError when the stream
 * ends first. An `error` frame is returned as it is.
 */
export async function nextMessage<In> (messages: AsyncIterator<In>, who: string): Promise<In> {
  const next = await messages.next()
  if (next.done === true) throw new ProtocolError(`${who} closed the invite handshake without an answer`)
  return next.value
}
