/**
 * Files streamed into a SENAITE write's JSON body (agent/connectors/senaite/
 * file-body.ts): the bytes sent are exactly JSON.stringify's text with the
 * file's base64 inline, whatever the chunking, and the announced length is
 * the byte length; a string in the data that looks like a mark stays as it is.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { base64Text, FileBody, jsonBody, type StreamedJson } from '../../agent/connectors/senaite/file-body.js'
import { ConnectorError } from '../../agent/errors.js'

async function * chunked (bytes: Buffer, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!
    // a reused buffer, as a file stream may hand out
    yield Uint8Array.from(bytes.subarray(at, at + n))
    at += n
  }
}

async function sent (body: { bytes (): AsyncIterable<Uint8Array> }): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of body.bytes()) parts.push(Buffer.from(part))
  return Buffer.concat(parts)
}

const file = (bytes: Buffer, sizes: readonly number[] = [7]): FileBody => new FileBody(bytes.length, async () => chunked(bytes, sizes), 'test.bin')

describe('SENAITE file bodies', () => {
  it('base64 of any chunking is the base64 of the whole', async () => {
    for (const size of [0, 1, 2, 3, 4, 5, 6, 100, 4099]) {
      const bytes = randomBytes(size)
      for (const sizes of [[1], [2], [3], [5, 1, 64], [4096]]) {
        let text = ''
        for await (const t of base64Text(chunked(bytes, sizes))) text += t
        expect(text, `${size} bytes in chunks of ${sizes.join(',')}`).toBe(bytes.toString('base64'))
        expect(file(bytes).base64Length).toBe(bytes.toString('base64').length)
      }
    }
  })

  it('sends exactly the JSON text with the files inline, and announces its byte length', async () => {
    const a = randomBytes(300_001)
    const b = randomBytes(2)
    const body = { title: 'Résumé "x"\n', AttachmentFile: file(a, [65_536, 3, 1000]), filename: 'a.pdf', more: [{ data: file(b) }], note: null }
    const expected = JSON.stringify({ ...body, AttachmentFile: a.toString('base64'), more: [{ data: b.toString('base64') }] })
    const streamed = jsonBody(body) as StreamedJson
    const bytes = await sent(streamed)
    expect(bytes.toString('utf8')).toBe(expected)
    expect(streamed.length).toBe(Buffer.byteLength(expected))
    // a second attempt (a retry) opens the file again and sends the same bytes
    expect((await sent(streamed)).equals(bytes)).toBe(true)
  })

  it('leaves a body without files to JSON.stringify, and data shaped like a mark alone', async () => {
    // no file: the JSON text itself
    expect(jsonBody({ a: 1, b: ['\u0000x:0\u0000'] })).toBe(JSON.stringify({ a: 1, b: ['\u0000x:0\u0000'] }))
    const lookalike = '\u00000:0\u0000 and \\u0000'
    const streamed = jsonBody({ text: lookalike, file: file(Buffer.from('hi')) }) as StreamedJson
    expect((await sent(streamed)).toString()).toBe(JSON.stringify({ text: lookalike, file: Buffer.from('hi').toString('base64') }))
  })

  it('fails as a retryable connector error when the blob is not the size its reference says', async () => {
    const short = new FileBody(10, async () => chunked(randomBytes(7), [7]), 'short.bin')
    const err = await sent(jsonBody({ f: short }) as StreamedJson).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectorError)
    expect((err as ConnectorError).retryable).toBe(true)
    expect((err as Error).message).toContain('short.bin')
  })
})
