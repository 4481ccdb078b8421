/**
 * The agent's identity and secrets on disk: its Ed25519 libp2p key (the peer
 * ID is derived from it), the admin bearer token, and the optional
 * private-network key. Secrets are written with mode 0600 and never
 * overwritten silently.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { IdentityError } from '../errors.js'

export async function createIdentityKey (file: string): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519')
  await writeSecret(file, privateKeyToProtobuf(key))
  return key
}

export async function loadIdentityKey (file: string): Promise<PrivateKey> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new IdentityError(code === 'ENOENT'
      ? `identity key ${file} does not exist: create it with \`labmesh init\`, or set identity.keyFile to the agent's key`
      : `cannot read identity key ${file} (${code ?? (err as Error).message}): check the file's permissions`, { cause: err })
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new IdentityError(`identity key ${file} is not a libp2p private key: restore it from backup or create a new one with \`labmesh init\` (the peer ID will change)`, { cause: err })
  }
}

export function peerIdOf (key: PrivateKey): string {
  return peerIdFromPrivateKey(key).toString()
}

export async function createAdminToken (file: string): Promise<string> {
  const token = randomBytes(32).toString('hex')
  await writeSecret(file, `${token}\n`)
  return token
}

export async function loadAdminToken (file: string): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new IdentityError(code === 'ENOENT'
      ? `admin token file ${file} (http.tokenFile) does not exist: create one with \`labmesh init\` or write a long random string into it (mode 0600)`
      : `cannot read admin token file ${file} (http.tokenFile) (${code ?? (err as Error).message}): check the file's permissions, or point http.tokenFile at the token file`, { cause: err })
  }
  const token = text.trim()
  if (token.length < 16) throw new IdentityError(`admin token in ${file} (http.tokenFile) is shorter than 16 characters: write a longer random token`)
  return token
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches (presented: string, expected: string): boolean {
  const a = Buffer.from(presented)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** A libp2p private-network key in the `/key/swarm/psk/1.0.0/` text format. */
export async function createSwarmKey (file: string): Promise<void> {
  const text = `/key/swarm/psk/1.0.0/\n/base16/\n${randomBytes(32).toString('hex')}`
  await writeSecret(file, text)
}

export async function loadSwarmKey (file: string): Promise<Uint8Array> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    throw new IdentityError(`private network key ${file} (privateNetwork.pskFile) cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): copy the mesh's swarm key there, or point privateNetwork.pskFile at it`, { cause: err })
  }
  const lines = bytes.toString('utf8').trim().split(/\r?\n/)
  if (lines[0] !== '/key/swarm/psk/1.0.0/' || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2] ?? '')) {
    throw new IdentityError(`private network key ${file} (privateNetwork.pskFile) is not a /key/swarm/psk/1.0.0/ base16 key: copy the mesh's swarm key file unchanged`)
  }
  return new Uint8Array(Buffer.from(lines.join('\n')))
}

async function writeSecret (file: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  try {
    await writeFile(file, content, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new IdentityError(`${file} already exists: refusing to overwrite a secret; move it away first if you really mean to replace it`)
    throw err
  }
  // the umask may have narrowed or widened the mode; make it exact
  await chmod(file, 0o600)
}

export async function fileMode (file: string): Promise<number> {
  return (await stat(file)).mode & 0o777
}
