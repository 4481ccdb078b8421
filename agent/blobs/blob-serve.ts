/**
 * The serving side of the blob protocol: a peer opened a stream to fetch
 * one blob from us (protocol/blob-messages.ts).
 *
 * Serve rule: a peer gets a blob only if it may see an object that
 * references it (mayHave: the reference index and its serve rules); anything
 * else is refused with BLOB_NOT_SERVED — whether we hold the blob or not is
 * not told to a peer that may not have it. Bytes go out strictly in order,
 * read from the file straight into the frame that is sent, and never more
 * than the peer granted (`credit`): the peer's writes pace us, and what we
 * hold in memory is bounded by its window. A malformed or unexpected
 * message closes the stream with an error frame and a log line naming the
 * peer; the agent carries on.
 */
import type { Stream } from '@libp2p/interface'
import type { FileHandle } from 'node:fs/promises'
import { allocBlobDataFrame, blobFraming } from '../../protocol/blob-codec.js'
import { BLOB_CHUNK_BYTES, BLOB_IDLE_TIMEOUT_MS, BLOB_OPEN_TIMEOUT_MS, BLOB_PROTOCOL_VERSION, BLOB_WINDOW_BYTES } from '../../protocol/blob-constants.js'
import { decodeBlobClientMessage, type BlobClientMessage, type BlobControlMessage, type BlobGetMessage } from '../../protocol/blob-messages.js'
import { AgentError, describeError, MessageTooLargeError, ProtocolError, UnsupportedProtocolVersionError } from '../../protocol/errors.js'
import type { BlobStore } from '../../store/blobs/blob-store.js'
import { TimeoutError } from '../errors.js'
import type { Logger } from '../runtime/logger.js'
import { FramedStream } from '../sync/framed-stream.js'
import { withTimeout } from '../sync/waiting.js'

export interface BlobServeDeps {
  readonly blobs: BlobStore
  /** whether this peer may have the blob: it may see an object that references it */
  readonly mayHave: (hash: string) => Promise<boolean>
  readonly log: Logger
  /** bytes of blob data handed to the stream */
  readonly onServed?: (bytes: number) => void
  /** a blob was sent to its end */
  readonly onCompleted?: (hash: string) => void
}

/** Serve one blob stream until the blob is sent, the peer goes away, or `signal` aborts. */
export async function serveBlobStream (stream: Stream, deps: BlobServeDeps, signal: AbortSignal): Promise<void> {
  const framed = new FramedStream<BlobClientMessage, BlobControlMessage>(stream, decodeBlobClientMessage, blobFraming())
  const onAbort = (): void => { stream.abort(new ProtocolError('agent stopping')) }
  signal.addEventListener('abort', onAbort, { once: true })
  const messages = framed[Symbol.asyncIterator]()
  let handle: FileHandle | undefined
  try {
    const first = await withTimeout(messages.next(), BLOB_OPEN_TIMEOUT_MS, `no get within ${BLOB_OPEN_TIMEOUT_MS} ms`)
    if (first.done === true) return
    if (first.value.type !== 'get') throw new ProtocolError(`expected get, got ${first.value.type}`)
    const get = first.value
    const opened = await open(framed, deps, get)
    if (opened === undefined) return
    handle = opened.handle
    await framed.send({ type: 'info', v: BLOB_PROTOCOL_VERSION, hash: get.hash, size: opened.size })
    const { rest } = await sendBytes(framed, messages, handle, get.offset, opened.size, deps)
    deps.onCompleted?.(get.hash)
    await framed.close()
    // the peer closes its side once it has verified the blob; one that does not is cut off
    await withTimeout(rest, BLOB_OPEN_TIMEOUT_MS, 'the peer did not close the blob stream')
  } catch (err) {
    if (signal.aborted) return
    const code = err instanceof AgentError ? err.code : 'INTERNAL'
    const bad = err instanceof ProtocolError || err instanceof MessageTooLargeError || err instanceof UnsupportedProtocolVersionError || err instanceof TimeoutError
    deps.log.warn({ err: describeError(err), code }, bad ? 'closing blob stream: bad message from peer' : 'blob stream failed')
    if (stream.status === 'open') await framed.fail(code, describeError(err))
  } finally {
    signal.removeEventListener('abort', onAbort)
    await handle?.close().catch(() => {})
  }
}

/** The blob's file, or undefined after refusing the request (error frame sent, stream closed). */
async function open (framed: FramedStream<BlobClientMessage, BlobControlMessage>, deps: BlobServeDeps, get: BlobGetMessage): Promise<{ handle: FileHandle, size: number } | undefined> {
  if (!await deps.mayHave(get.hash)) {
    deps.log.info({ hash: get.hash }, 'refused a blob: no object this peer may see references it')
    await framed.fail('BLOB_NOT_SERVED', `blob ${get.hash} is not served to you: no object you may see references it`)
    return undefined
  }
  const opened = await deps.blobs.openFile(get.hash).catch(() => undefined)
  if (opened === undefined) {
    deps.log.info({ hash: get.hash }, 'asked for a blob that is not here')
    await framed.fail('NOT_FOUND', `blob ${get.hash} is not stored here (yet)`)
    return undefined
  }
  if (get.offset > opened.size) {
    await opened.handle.close()
    throw new ProtocolError(`get from offset ${get.offset}, past the end of blob ${get.hash} (${opened.size} bytes)`)
  }
  return opened
}

/**
 * Send the bytes from `offset` to `size`, within the credit the peer grants.
 * Credits arrive on the same stream while data goes out: read them as they
 * come, wait for them when the credit runs out. Resolves with the reading
 * of the rest of the stream (it ends when the peer closes its side).
 */
async function sendBytes (framed: FramedStream<BlobClientMessage, BlobControlMessage>, messages: AsyncIterator<BlobClientMessage>, handle: FileHandle, offset: number, size: number, deps: BlobServeDeps): Promise<{ rest: Promise<void> }> {
  let credit = 0
  let readerError: Error | undefined
  let wake: (() => void) | undefined
  let ended = false
  const reader = (async () => {
    try {
      for (let m = await messages.next(); m.done !== true; m = await messages.next()) {
        const message = m.value
        if (message.type === 'credit') {
          credit += message.bytes
          // a window of unused credit is all a client may hold: more would be asking us to buffer for it
          if (credit > BLOB_WINDOW_BYTES) throw new ProtocolError(`credit of ${credit} bytes outstanding, over the ${BLOB_WINDOW_BYTES}-byte window`)
        } else if (message.type === 'error') {
          throw new ProtocolError(`peer closed the blob stream: ${message.code}: ${message.message}`)
        } else {
          throw new ProtocolError(`unexpected ${message.type} during a transfer`)
        }
        wake?.()
      }
    } catch (err) {
      readerError = err as Error
    }
    ended = true
    wake?.()
    if (readerError !== undefined) throw readerError
  })()
  // awaited by the caller once everything is sent; a failure before that is thrown from the loop below
  reader.catch(() => {})
  let position = offset
  while (position < size) {
    while (credit === 0 && readerError === undefined && !ended) {
      await withTimeout(new Promise<void>((resolve) => { wake = resolve }), BLOB_IDLE_TIMEOUT_MS, `no credit for ${BLOB_IDLE_TIMEOUT_MS} ms`)
      wake = undefined
    }
    if (readerError !== undefined) throw readerError
    if (credit === 0) throw new ProtocolError(`peer closed the blob stream at ${position} of ${size} bytes`)
    const n = Math.min(BLOB_CHUNK_BYTES, credit, size - position)
    const { frame, data } = allocBlobDataFrame(position, n)
    let got = 0
    while (got < n) {
      const { bytesRead } = await handle.read(data, got, n - got, position + got)
      if (bytesRead === 0) throw new AgentError('NOT_FOUND', `blob file ended at ${position + got} of ${size} bytes`)
      got += bytesRead
    }
    credit -= n
    position += n
    await framed.sendFrame(frame)
    deps.onServed?.(n)
  }
  return { rest: reader }
}
