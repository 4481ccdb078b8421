/**
 * The frame decoders of a sync session, by protocol version: each takes a
 * frame's body as text (codec.ts FrameDecoder in text mode) and returns the
 * validated message or why it is refused. Version 1 frames are JSON
 * messages; version 2 adds the bulk batch frame (bulk-frame.ts).
 */
import { PROTOCOL_VERSION_2 } from './constants.js'
import { decodeServerTextV2 } from './bulk-frame.js'
import { decodeClientMessage, decodeServerMessage, type DecodeResult } from './decode.js'
import type { ClientMessage, ServerMessage } from './messages.js'
import type { SyncVersion } from './versions.js'

function parseJson (text: unknown): { ok: true, value: unknown } | { ok: false, error: string } {
  try {
    return { ok: true, value: JSON.parse(text as string) }
  } catch {
    return { ok: false, error: 'frame is not valid JSON' }
  }
}

/** What a puller decodes: the server's frames. */
export function serverDecoderFor (version: SyncVersion): (text: unknown) => DecodeResult<ServerMessage> {
  if (version === PROTOCOL_VERSION_2) return (text) => decodeServerTextV2(text as string)
  return (text) => {
    const parsed = parseJson(text)
    return parsed.ok ? decodeServerMessage(parsed.value, version) : parsed
  }
}

/** What a server decodes: the puller's frames (JSON messages in every version). */
export function clientDecoderFor (version: SyncVersion): (text: unknown) => DecodeResult<ClientMessage> {
  return (text) => {
    const parsed = parseJson(text)
    return parsed.ok ? decodeClientMessage(parsed.value, version) : parsed
  }
}
