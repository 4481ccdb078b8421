/**
 * The frame decoders of a sync session, by protocol version: each takes a
 * frame's body as its UTF-8 bytes (FramedStream with `bodies`: invalid UTF-8
 * throws codec.ts's ProtocolError) or as text, and returns the validated
 * message or why it is refused. Version 1 frames are JSON messages; version
 * 2 adds the bulk batch frame (bulk-frame.ts), decoded from its bytes object
 * by object rather than as one string.
 */
import { utf8Text } from './codec.js'
import { PROTOCOL_VERSION_2 } from './constants.js'
import { decodeServerBytesV2, decodeServerTextV2 } from './bulk-frame.js'
import { decodeClientMessage, decodeServerMessage, type DecodeResult } from './decode.js'
import type { ClientMessage, ServerMessage } from './messages.js'
import type { SyncVersion } from './versions.js'

function parseJson (body: unknown): { ok: true, value: unknown } | { ok: false, error: string } {
  const text = body instanceof Uint8Array ? utf8Text(body) : body as string
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false, error: 'frame is not valid JSON' }
  }
}

/** What a puller decodes: the server's frames. */
export function serverDecoderFor (version: SyncVersion): (body: unknown) => DecodeResult<ServerMessage> {
  if (version === PROTOCOL_VERSION_2) return (body) => body instanceof Uint8Array ? decodeServerBytesV2(body) : decodeServerTextV2(body as string)
  return (body) => {
    const parsed = parseJson(body)
    return parsed.ok ? decodeServerMessage(parsed.value, version) : parsed
  }
}

/** What a server decodes: the puller's frames (JSON messages in every version). */
export function clientDecoderFor (version: SyncVersion): (body: unknown) => DecodeResult<ClientMessage> {
  return (body) => {
    const parsed = parseJson(body)
    return parsed.ok ? decodeClientMessage(parsed.value, version) : parsed
  }
}
