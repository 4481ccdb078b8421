/**
 * The blob API of the embedded instance: files that objects reference.
 *
 *   PUT  /api/blobs          body: the file, streamed   → 201 (200 if it was here) { hash, size, created, reference }
 *   GET  /api/blobs/:hash    the file, streamed; one `Range: bytes=…` → 206
 *   HEAD /api/blobs/:hash    its headers (size, ETag) without the bytes
 *
 * Bodies stream to and from disk: memory stays bounded whatever the file's
 * size. Uploads are capped by http.maxBlobBytes (not http.maxBodyBytes: the
 * app's body limit skips this route); a bigger one is refused with 413 and
 * nothing is kept. An upload becomes a blob only once whole, fsynced and
 * hashed; it then waits for an object to reference it (`{blob: hash, size,
 * name, mediaType}` anywhere in the object's data) — one left unreferenced
 * is collected after blobs.gcGrace.
 */
import { Readable } from 'node:stream'
import { Hono } from 'hono'
import { isBlobHash } from '../../protocol/blob-ref.js'
import { BlobTooLargeError } from '../../store/errors.js'
import { BadRequestError, NotFoundError } from '../errors.js'
import type { AdminDeps } from './deps.js'

type ByteRange = { start: number, end: number }

/**
 * The one range of a `Range` header within `size` bytes: undefined for the
 * whole file (no header, or one this server does not take: several ranges,
 * another unit), 'unsatisfiable' when it starts past the end.
 */
export function parseRange (header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null || (match[1] === '' && match[2] === '')) return undefined
  if (match[1] === '') {
    const suffix = Number(match[2])
    if (suffix === 0) return 'unsatisfiable'
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(match[1])
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  if (start >= size || end < start) return 'unsatisfiable'
  return { start, end }
}

function checkHash (value: string): string {
  if (!isBlobHash(value)) throw new BadRequestError(`"${String(value).slice(0, 100)}" is not a blob hash: expected "sha256:" followed by 64 lowercase hex digits (PUT /api/blobs answers it)`)
  return value
}

function fileHeaders (hash: string, size: number): Record<string, string> {
  return {
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    // content-addressed: the bytes of a hash never change
    etag: `"${hash.slice('sha256:'.length)}"`,
    'cache-control': 'private, max-age=31536000, immutable',
    'content-length': String(size)
  }
}

export function blobRoutes (deps: AdminDeps): Hono {
  const app = new Hono()

  app.put('/', async (c) => {
    const declared = c.req.header('content-length')
    if (declared !== undefined && Number(declared) > deps.maxBlobBytes) throw new BlobTooLargeError(deps.maxBlobBytes, `the upload (Content-Length ${declared}; http.maxBlobBytes)`)
    const body = c.req.raw.body ?? emptyBody()
    const result = await deps.blobs.put(body as unknown as AsyncIterable<Uint8Array>, { maxBytes: deps.maxBlobBytes })
    return c.json({ hash: result.hash, size: result.size, created: result.created, reference: { blob: result.hash, size: result.size } }, result.created ? 201 : 200)
  })

  // HEAD reaches this GET route too (Hono answers it without the body): no file is opened for it
  app.get('/:hash', async (c) => {
    const hash = checkHash(c.req.param('hash'))
    const stat = await deps.blobs.stat(hash)
    if (stat === undefined) throw new NotFoundError(`blob ${hash} is not stored here`)
    if (c.req.method === 'HEAD') return c.body(null, 200, fileHeaders(hash, stat.size))
    const range = parseRange(c.req.header('range'), stat.size)
    if (range === 'unsatisfiable') {
      return c.body(null, 416, { 'content-range': `bytes */${stat.size}`, 'accept-ranges': 'bytes' })
    }
    const { stream, size } = await deps.blobs.read(hash, range)
    const headers = fileHeaders(hash, range !== undefined ? range.end - range.start + 1 : size)
    if (range !== undefined) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`
    return new Response(Readable.toWeb(stream) as ReadableStream, { status: range !== undefined ? 206 : 200, headers })
  })

  return app
}

async function * emptyBody (): AsyncIterable<Uint8Array> {}
