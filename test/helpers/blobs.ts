/**
 * Files for blob tests: deterministic pseudo-random bytes (in memory or
 * written to disk a chunk at a time, so a 500 MiB file never sits in
 * memory), their hash, uploads through the document API, and the blob files
 * an agent holds on disk.
 */
import { createCipheriv, createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { Agent } from '../../agent/agent.js'
import { BLOB_HASH_PREFIX } from '../../protocol/blob-ref.js'
import { authHeader } from './admin.js'

const CHUNK = 1024 * 1024

/** `size` bytes from offset `start` of a stream that depends only on `seed` (AES-128-CTR of zeros: GB/s, and no two seeds alike). */
export function seededBytes (size: number, seed: string, start = 0): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16)
  const iv = Buffer.alloc(16)
  iv.writeBigUInt64BE(BigInt(Math.floor(start / 16)), 8)
  const skip = start % 16
  const cipher = createCipheriv('aes-128-ctr', key, iv)
  return cipher.update(Buffer.alloc(skip + size)).subarray(skip)
}

export function sha256Of (bytes: Uint8Array): string {
  return BLOB_HASH_PREFIX + createHash('sha256').update(bytes).digest('hex')
}

/** Write `size` seeded bytes to `file`, a MiB at a time; returns their hash. */
export async function writeSeededFile (file: string, size: number, seed: string): Promise<string> {
  const handle = await open(file, 'w')
  const digest = createHash('sha256')
  try {
    for (let at = 0; at < size; at += CHUNK) {
      const chunk = seededBytes(Math.min(CHUNK, size - at), seed, at)
      digest.update(chunk)
      await handle.write(chunk)
    }
  } finally {
    await handle.close()
  }
  return BLOB_HASH_PREFIX + digest.digest('hex')
}

/** The hash of a stream of bytes (a download), read a chunk at a time. */
export async function hashStream (stream: AsyncIterable<Uint8Array>): Promise<{ hash: string, size: number }> {
  const digest = createHash('sha256')
  let size = 0
  for await (const chunk of stream) { digest.update(chunk); size += chunk.byteLength }
  return { hash: BLOB_HASH_PREFIX + digest.digest('hex'), size }
}

/** A blob reference as an object's data holds it. */
export function blobRef (hash: string, size: number, name = 'report.pdf', mediaType = 'application/pdf'): { blob: string, size: number, name: string, mediaType: string } {
  return { blob: hash, size, name, mediaType }
}

/** PUT /api/blobs on an in-process agent; the JSON answer. */
export async function putBlob (agent: Agent, bytes: Uint8Array): Promise<{ status: number, json: { hash: string, size: number, created: boolean } }> {
  const response = await agent.request('/api/blobs', { method: 'PUT', headers: { ...authHeader(agent), 'content-type': 'application/octet-stream' }, body: bytes as Uint8Array<ArrayBuffer> })
  return { status: response.status, json: await response.json() as { hash: string, size: number, created: boolean } }
}

/** PUT /api/blobs over HTTP, streaming `file` from disk. */
export async function putBlobFile (httpUrl: string, token: string, file: string): Promise<{ hash: string, size: number }> {
  const response = await fetch(`${httpUrl}/api/blobs`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(createReadStream(file, { highWaterMark: CHUNK })) as ReadableStream,
    duplex: 'half'
  } as RequestInit)
  const json = await response.json() as { hash: string, size: number }
  if (!response.ok) throw new Error(`PUT /api/blobs: ${response.status} ${JSON.stringify(json)}`)
  return json
}

/** The blob files of an agent's data directory (hashes of the visible blobs). */
export async function blobFiles (dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'blobs', 'sha256')
  const out: string[] = []
  for (const prefix of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, prefix))) out.push(BLOB_HASH_PREFIX + name)
  }
  return out.sort()
}

/** The path of a blob's file in an agent's data directory. */
export function blobPath (dataDir: string, hash: string): string {
  const hex = hash.slice(BLOB_HASH_PREFIX.length)
  return join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex)
}
