/**
 * One transfer of the blob protocol, fetching side: one stream, one blob,
 * from where the partial file left off.
 *
 * Back-pressure is request-driven: we grant the server a window of bytes
 * (`credit`) and more only as what arrived is written to disk, so however
 * fast the peer and however slow our disk, at most one window is in flight
 * or buffered. Every data frame is checked before its bytes are written: its
 * offset is the next one expected, it stays within the credit granted and
 * the blob's size. The progress is made durable every BLOB_CHECKPOINT_BYTES
 * (an fsync running beside the transfer, not in its way, unless two
 * intervals are not yet durable), so a crash costs at most twice that
 * again, plus the window in flight. The whole is verified
 * against the hash before it becomes visible (PartialBlob.finish): bytes that
 * do not match are deleted, refused, and reported as BlobMismatchError.
 */
import type { Stream } from '@libp2p/interface'
import { blobFraming } from '../../protocol/blob-codec.js'
import { BLOB_IDLE_TIMEOUT_MS, BLOB_OPEN_TIMEOUT_MS, BLOB_PROTOCOL_VERSION, BLOB_WINDOW_BYTES } from '../../protocol/blob-constants.js'
import { decodeBlobServerMessage, type BlobControlMessage, type BlobServerMessage } from '../../protocol/blob-messages.js'
import { AgentError, ProtocolError } from '../../protocol/errors.js'
import type { PartialBlob } from '../../store/blobs/blob-store.js'
import { FramedStream } from '../sync/framed-stream.js'
import { withTimeout } from '../sync/waiting.js'

/** bytes between two durable progress marks: at most this much is fetched again after a crash */
export const BLOB_CHECKPOINT_BYTES = 2 * 1024 * 1024

/** The peer will not give us this blob (it does not have it, or may not give it to us): fetching again now would not help. */
export class BlobUnavailableError extends AgentError {
  constructor (peer: string, hash: string, code: string, message: string) {
    super(code === 'BLOB_NOT_SERVED' ? 'BLOB_NOT_SERVED' : 'NOT_FOUND', `peer ${peer} does not give blob ${hash}: ${code}: ${message.slice(0, 300)}`)
  }
}

export interface FetchBlobOptions {
  readonly stream: Stream
  readonly peerName: string
  readonly partial: PartialBlob
  /** after each data frame is written: bytes of the blob here now */
  readonly onProgress?: (written: number) => void
}

/** Fetch the rest of `partial` over `stream`; resolves once the blob is verified and visible. */
export async function fetchBlob (options: FetchBlobOptions): Promise<{ created: boolean, received: number }> {
  const { stream, partial, peerName } = options
  const framed = new FramedStream<BlobServerMessage, BlobControlMessage>(stream, decodeBlobServerMessage, blobFraming())
  const messages = framed[Symbol.asyncIterator]()
  const next = async (ms: number, what: string): Promise<BlobServerMessage> => {
    const m = await withTimeout(messages.next(), ms, `peer ${peerName} sent nothing for ${ms} ms (${what})`)
    if (m.done === true) throw new ProtocolError(`peer ${peerName} closed the blob stream at ${partial.written} of ${partial.size} bytes`)
    if (m.value.type === 'error') throw new BlobUnavailableError(peerName, partial.hash, m.value.code, m.value.message)
    return m.value
  }
  try {
    await framed.send({ type: 'get', v: BLOB_PROTOCOL_VERSION, hash: partial.hash, offset: partial.written })
    const info = await next(BLOB_OPEN_TIMEOUT_MS, 'answer to get')
    if (info.type !== 'info' || info.hash !== partial.hash) throw new ProtocolError(`peer ${peerName} answered get with ${info.type === 'info' ? `info for ${info.hash}` : info.type}`)
    if (info.size !== partial.size) throw new ProtocolError(`peer ${peerName} says blob ${partial.hash} has ${info.size} bytes; the object that references it says ${partial.size}`)
    const received = await receive(framed, next, options)
    const { created } = await partial.finish(`blob bytes from peer ${peerName}`)
    await framed.close()
    // the server closes its side after the last byte: nothing more may come
    const end = await withTimeout(messages.next(), BLOB_OPEN_TIMEOUT_MS, 'end of stream').catch(() => ({ done: true }))
    if (end.done !== true) throw new ProtocolError(`peer ${peerName} sent more after the last byte of ${partial.hash}`)
    return { created, received }
  } catch (err) {
    if (stream.status === 'open') await framed.fail(err instanceof AgentError ? err.code : 'INTERNAL', (err as Error).message)
    throw err
  }
}

/**
 * Data frames until the blob is whole, granting credit as they are written;
 * returns the bytes received. Reading and writing overlap: frames that
 * arrive while a write runs are queued and written together by the next one
 * (one writev of up to half a checkpoint interval), so a busy machine's
 * slow disk round trips are paid per batch, not per 256 KiB frame. Credit counts what is not yet written, so
 * the queue never holds more than the window.
 */
async function receive (framed: FramedStream<BlobServerMessage, BlobControlMessage>, next: (ms: number, what: string) => Promise<BlobServerMessage>, options: FetchBlobOptions): Promise<number> {
  const { partial, peerName } = options
  const size = partial.size
  /** the offset the next frame must have, and the offset up to which credit was granted */
  let expected = partial.written
  let granted = partial.written
  let received = 0
  const writer = createWriter(partial, options, async () => {
    const unwritten = granted - partial.written
    // top the window up once half of it is written: fewer, larger grants
    if (unwritten > BLOB_WINDOW_BYTES / 2 || granted >= size) return
    const wanted = Math.min(BLOB_WINDOW_BYTES - unwritten, size - granted)
    granted += wanted
    await framed.send({ type: 'credit', v: BLOB_PROTOCOL_VERSION, bytes: wanted })
  })
  await writer.grant()
  while (expected < size) {
    writer.throwIfFailed()
    const frame = await next(BLOB_IDLE_TIMEOUT_MS, 'blob data')
    if (frame.type !== 'data') throw new ProtocolError(`peer ${peerName} sent ${frame.type} in the middle of blob ${partial.hash}`)
    if (frame.offset !== expected) throw new ProtocolError(`peer ${peerName} sent blob bytes at offset ${frame.offset}, expected ${expected}`)
    const n = frame.bytes.byteLength
    if (expected + n > granted) throw new ProtocolError(`peer ${peerName} sent ${n} blob bytes with ${granted - expected} granted`)
    if (expected + n > size) throw new ProtocolError(`peer ${peerName} sent blob bytes past its end (${size} bytes)`)
    expected += n
    received += n
    writer.write(frame.bytes)
  }
  await writer.drained()
  return received
}

interface Writer {
  grant (): Promise<void>
  write (bytes: Uint8Array | Iterable<Uint8Array>): void
  throwIfFailed (): void
  /** everything queued is written and the last checkpoint done; throws what failed */
  drained (): Promise<void>
}

/**
 * Writes queued bytes to the partial file, one batch at a time; after each
 * batch: a checkpoint when due (an fsync running beside the transfer, waited
 * for only when two intervals are not yet durable), progress, and credit.
 */
function createWriter (partial: PartialBlob, options: FetchBlobOptions, grant: () => Promise<void>): Writer {
  let queue: Uint8Array[] = []
  let pumping: Promise<void> | undefined
  let failure: Error | undefined
  let sinceCheckpoint = 0
  let checkpointing: Promise<void> | undefined
  // at most half a checkpoint interval per write: what is not yet durable stays within its bound
  const takeBatch = (): Uint8Array[] => {
    let bytes = 0
    let i = 0
    while (i < queue.length && (i === 0 || bytes + queue[i]!.byteLength <= BLOB_CHECKPOINT_BYTES / 2)) bytes += queue[i++]!.byteLength
    return queue.splice(0, i)
  }
  const pump = async (): Promise<void> => {
    try {
      while (queue.length > 0 && failure === undefined) {
        const batch = takeBatch()
        const before = partial.written
        await partial.append(batch)
        sinceCheckpoint += partial.written - before
        // what a crash would cost again stays bounded: past two intervals not yet durable, wait for the fsync
        if (checkpointing !== undefined && partial.written - partial.have >= 2 * BLOB_CHECKPOINT_BYTES) await checkpointing
        if (sinceCheckpoint >= BLOB_CHECKPOINT_BYTES && partial.written < partial.size && checkpointing === undefined) {
          sinceCheckpoint = 0
          checkpointing = partial.checkpoint().catch((err: unknown) => { failure ??= err as Error }).finally(() => { checkpointing = undefined })
        }
        options.onProgress?.(partial.written)
        if (partial.written < partial.size) await grant()
      }
    } catch (err) {
      failure ??= err as Error
    } finally {
      // set in the same turn as the loop's last look at the queue: a write queued after it starts a new pump
      pumping = undefined
    }
  }
  const throwIfFailed = (): void => { if (failure !== undefined) throw failure }
  return {
    grant,
    write (bytes) {
      if (bytes instanceof Uint8Array) queue.push(bytes)
      else for (const b of bytes) queue.push(b)
      pumping ??= pump()
    },
    throwIfFailed,
    async drained () {
      while (pumping !== undefined) await pumping
      await checkpointing
      throwIfFailed()
    }
  }
}
