/**
 * Frames of the blob protocol: the sync protocol's varint-prefixed frames,
 * whose body is either a JSON control message or — when its first byte is
 * 0x00, which no JSON text starts with — a data frame:
 *
 *   0x00 | offset (8 bytes, big-endian) | 1 … BLOB_CHUNK_BYTES bytes of the blob
 *
 * Binary, because base64 in JSON would cost a third more bytes and a copy
 * per chunk. Control frames stay small (MAX_BLOB_CONTROL_BYTES); every frame
 * is capped at MAX_BLOB_FRAME_BYTES before its body is buffered.
 */
import { allocFrame, FrameDecoder, parseJson } from './codec.js'
import { BLOB_CHUNK_BYTES, BLOB_DATA_HEADER_BYTES, BLOB_PROTOCOL_VERSION, MAX_BLOB_CONTROL_BYTES, MAX_BLOB_FRAME_BYTES } from './blob-constants.js'
import { MessageTooLargeError, ProtocolError } from './errors.js'
import type { BlobDataFrame } from './blob-messages.js'
import { Uint8ArrayList } from 'uint8arraylist'

const DATA_TAG = 0x00

/**
 * A data frame with room for `length` bytes of blob data at `offset`: the
 * frame to send and the slice to fill (a file read lands there directly).
 */
export function allocBlobDataFrame (offset: number, length: number): { frame: Uint8Array, data: Uint8Array } {
  if (length < 1 || length > BLOB_CHUNK_BYTES) throw new RangeError(`a data frame carries 1 to ${BLOB_CHUNK_BYTES} bytes, not ${length}`)
  const { frame, body } = allocFrame(BLOB_DATA_HEADER_BYTES + length)
  body[0] = DATA_TAG
  new DataView(body.buffer, body.byteOffset, BLOB_DATA_HEADER_BYTES).setBigUint64(1, BigInt(offset))
  return { frame, data: body.subarray(BLOB_DATA_HEADER_BYTES) }
}

/** The frame of `bytes` at `offset` (tests, tools; the server fills frames in place). */
export function encodeBlobData (offset: number, bytes: Uint8Array): Uint8Array {
  const { frame, data } = allocBlobDataFrame(offset, bytes.byteLength)
  data.set(bytes)
  return frame
}

/**
 * A frame body: a data frame, or a control message as parsed JSON (not yet
 * validated: blob-messages.ts decides). Throws for a data frame without
 * data or with an offset past what JavaScript counts exactly, and for an
 * oversized control frame. A data frame's bytes stay the slices they
 * arrived in (written to disk as they are, never joined).
 */
export function parseBlobFrame (frame: Uint8ArrayList | Uint8Array): BlobDataFrame | unknown {
  const body = frame instanceof Uint8Array ? new Uint8ArrayList(frame) : frame
  if (body.byteLength === 0 || body.get(0) !== DATA_TAG) {
    if (body.byteLength > MAX_BLOB_CONTROL_BYTES) throw new MessageTooLargeError(body.byteLength, MAX_BLOB_CONTROL_BYTES)
    return parseJson(body.subarray())
  }
  if (body.byteLength <= BLOB_DATA_HEADER_BYTES) throw new ProtocolError('blob data frame without data')
  const header = body.subarray(0, BLOB_DATA_HEADER_BYTES)
  const offset = new DataView(header.buffer, header.byteOffset, BLOB_DATA_HEADER_BYTES).getBigUint64(1)
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError(`blob data frame offset ${offset} out of range`)
  return { type: 'data', offset: Number(offset), bytes: body.sublist(BLOB_DATA_HEADER_BYTES) } satisfies BlobDataFrame
}

/** A decoder of blob protocol frames: capped, with data frames kept binary. */
export function blobFrameDecoder (): FrameDecoder {
  return new FrameDecoder({ maxFrameBytes: MAX_BLOB_FRAME_BYTES, parse: parseBlobFrame })
}

/** How a blob stream is framed (agent/sync/framed-stream.ts FramingOptions): its frames, their cap, and the version of its error frames. */
export function blobFraming (): { readonly frames: FrameDecoder, readonly maxFrameBytes: number, readonly version: number } {
  return { frames: blobFrameDecoder(), maxFrameBytes: MAX_BLOB_FRAME_BYTES, version: BLOB_PROTOCOL_VERSION }
}
