/**
 * A file's bytes for a SENAITE write, as the JSON API takes them — base64
 * text inside the JSON body (payload.ts) — made while the request is sent,
 * from the blob store, instead of held whole.
 *
 * Why: building the body as one string held the file ~2.7 times over (the
 * bytes, their base64 text, the JSON text, and the request's copy of it),
 * for each file up to instance.maxFileBytes. Streamed, a write holds a few
 * chunks of it; the bytes sent are the same (test/unit/senaite-file-body).
 *
 * A body holding FileBody values is written with each one's place marked by
 * a string no data can contain (a random nonce per body), and the marks are
 * replaced by the base64 text as the request streams. Its length is known
 * before the first byte, so the request says `content-length` (no chunked
 * upload for the site's server to handle). Each attempt of a retried
 * request opens the blob again.
 */
import { randomUUID } from 'node:crypto'
import { ConnectorError } from '../../errors.js'

export class FileBody {
  /** `size` bytes, read from the start by `open` (once per attempt); `name` for errors */
  constructor (readonly size: number, readonly open: () => Promise<AsyncIterable<Uint8Array>>, readonly name: string) {}

  /** the length of the base64 text of `size` bytes (padded) */
  get base64Length (): number {
    return 4 * Math.ceil(this.size / 3)
  }
}

/** The base64 text of `source`'s bytes, a chunk at a time (each a whole number of 3-byte groups, the last padded). */
export async function * base64Text (source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let carry: Buffer = Buffer.alloc(0)
  for await (const chunk of source) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const whole = bytes.length - (bytes.length % 3)
    if (whole > 0) yield bytes.subarray(0, whole).toString('base64')
    // copied: the source may reuse its chunk's memory
    carry = Buffer.from(bytes.subarray(whole))
  }
  if (carry.length > 0) yield carry.toString('base64')
}

/** A JSON request body with its files streamed: its byte length, and its bytes (a new stream each call). */
export interface StreamedJson {
  readonly length: number
  bytes (): AsyncIterable<Uint8Array>
}

/**
 * `value` as JSON with each FileBody in it as its base64 text (a JSON
 * string): streamed when it holds one, else simply its text (serialised
 * once either way).
 */
export function jsonBody (value: unknown): StreamedJson | string {
  const files: FileBody[] = []
  const nonce = randomUUID()
  const text = JSON.stringify(value, (_key, v: unknown) => v instanceof FileBody ? `\u0000${nonce}:${files.push(v) - 1}\u0000` : v)
  if (files.length === 0) return text
  // JSON.stringify writes each mark as "\u0000<nonce>:<n>\u0000" (NUL escaped): split the text at them
  const pieces = text.split(new RegExp(`\\\\u0000${nonce}:(\\d+)\\\\u0000`))
  const parts: Array<string | FileBody> = pieces.map((piece, i) => i % 2 === 0 ? piece : files[Number(piece)]!)
  const length = parts.reduce((sum, p) => sum + (typeof p === 'string' ? Buffer.byteLength(p) : p.base64Length), 0)
  return {
    length,
    async * bytes () {
      for (const part of parts) {
        if (typeof part === 'string') {
          if (part !== '') yield Buffer.from(part)
          continue
        }
        let sent = 0
        for await (const text of base64Text(await part.open())) {
          sent += text.length
          yield Buffer.from(text, 'latin1')
        }
        // a blob shorter or longer than its reference says: the request's length would be wrong
        if (sent !== part.base64Length) throw new ConnectorError(`file ${part.name} gave ${sent} base64 characters instead of ${part.base64Length} while being sent (the blob changed or is damaged): retried later`, true)
      }
    }
  }
}
