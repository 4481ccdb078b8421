/**
 * Signed provenance: what an agent signs when it makes versions, and how
 * anyone checks it with nothing but the version (the signer's peer ID is its
 * Ed25519 public key). Pure functions over node:crypto; the caches and the
 * rules about who may sign what are the agent's (agent/apply/provenance.ts).
 *
 * What is signed, per version (docs/architecture/provenance.md):
 *   h    = SHA-256(canonical JSON of [type, id, parent, refs, data])  (canonical.ts)
 *   leaf = SHA-256(0x00 ‖ UTF-8 of JSON ["labmesh/version/1", uid, vector
 *          entries sorted by domain as [domain, counter] pairs, deleted, h,
 *          origin, at])
 * The versions of one local transaction are signed together, at most
 * SIGN_GROUP_MAX at a time, as the leaves of a Merkle tree (RFC 9162 §2.1:
 * node = SHA-256(0x01 ‖ left ‖ right)); the signature is Ed25519 over
 *   "labmesh/group/1\0" ‖ UTF-8(signer's domain) ‖ "\0" ‖ root
 * and each version carries the signature, its index, the group's size and
 * its audit path. A group of one is its leaf's root, with no path.
 *
 * The signer's domain is part of the signed message, so a signature cannot
 * be re-labelled as another domain's; `id` is the signer's (prefix rules
 * rewrite the presented id in transit; the signed one travels in `sig.id`).
 */
import { createPrivateKey, createPublicKey, hash, sign, verify, type KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { canonicalJson, canonicalText } from './canonical.js'
import { SIGN_GROUP_MAX } from './constants.js'
import type { ObjectVersion, VersionSignature } from './object.js'

/** What signs local versions: this agent's domain, peer ID and Ed25519 key. */
export interface VersionSigner {
  readonly domain: string
  readonly peerId: string
  /** Ed25519 signature of `message` */
  sign (message: Uint8Array): Buffer
}

const LEAF_TAG = 'labmesh/version/1'
const GROUP_TAG = 'labmesh/group/1\0'

/** The content hash (base64url) and the canonical text of `data` it was computed from. */
export interface ContentHash {
  readonly h: string
  /** canonical JSON of the version's data (putObject can store it as it is) */
  readonly dataText: string
}

type Content = Pick<ObjectVersion, 'type' | 'parent' | 'refs' | 'data'>

/** Hash of what a version says (type, id as signed, parent, refs, data). */
export function contentHash (v: Content, signedId: string): ContentHash {
  const dataText = canonicalText(v.data)
  return { h: hashContent(v, signedId, dataText), dataText }
}

/** The content hash of `v` whose data's canonical text is `dataText` (the caller knows it is: see canonical.ts). */
export function contentHashOfText (v: Content, signedId: string, dataText: string): ContentHash {
  return { h: hashContent(v, signedId, dataText), dataText }
}

function hashContent (v: Content, signedId: string, dataText: string): string {
  // one call on one string: cheaper here than an incremental hash of its parts
  return hash('sha256', `[${JSON.stringify(v.type)},${JSON.stringify(signedId)},${JSON.stringify(v.parent)},${JSON.stringify(v.refs)},${dataText}]`, 'base64url')
}

/**
 * Whether `v`'s content hashes to `expected`, and the data text that did.
 * Optimistic: JSON.stringify's text is tried first — when it hashes to the
 * signer's hash it IS the canonical text (else SHA-256 would have a
 * collision), which spares the walk that checks key order; only a text that
 * does not match is rebuilt canonically and hashed again.
 */
export function matchContentHash (v: Content, signedId: string, expected: string, receivedText?: string): { readonly ok: boolean, readonly dataText: string } {
  // the text `data` was parsed from (protocol v2): when it hashes to the
  // signer's hash it is the canonical text (as above), and so the canonical
  // text of `data` too, since canonical JSON survives a parse unchanged —
  // the verdict and the text are what the lines below would give
  if (receivedText !== undefined && hashContent(v, signedId, receivedText) === expected) return { ok: true, dataText: receivedText }
  const plain = JSON.stringify(v.data)
  if (hashContent(v, signedId, plain) === expected) return { ok: true, dataText: plain }
  const canonical = canonicalJson(v.data)
  if (canonical === plain) return { ok: false, dataText: plain }
  return { ok: hashContent(v, signedId, canonical) === expected, dataText: canonical }
}

/** The id the signer wrote: `sig.id` when prefix rules changed the presented one. */
export function signedIdOf (v: ObjectVersion): string {
  return v.sig?.id ?? v.id
}

/** The leaf hash of a version whose content hash is `h`. */
export function leafHash (v: Pick<ObjectVersion, 'uid' | 'vector' | 'deleted' | 'origin' | 'at'>, h: string): Buffer {
  const domains = Object.keys(v.vector)
  if (domains.length > 1) domains.sort()
  let vector = ''
  for (const d of domains) vector += `${vector === '' ? '' : ','}[${JSON.stringify(d)},${v.vector[d]!}]`
  // the leaf prefix byte 0x00 leads the text (U+0000 encodes as that one byte)
  const text = `\0[${JSON.stringify(LEAF_TAG)},${JSON.stringify(v.uid)},[${vector}],${String(v.deleted)},${JSON.stringify(h)},${JSON.stringify(v.origin)},${JSON.stringify(v.at)}]`
  return hash('sha256', text, 'buffer')
}

/** an interior node's preimage: 0x01 ‖ left ‖ right, in one buffer reused (hashing is synchronous) */
const nodeInput = Buffer.alloc(65, 1)

export function nodeHash (left: Uint8Array, right: Uint8Array): Buffer {
  nodeInput.set(left, 1)
  nodeInput.set(right, 33)
  return hash('sha256', nodeInput, 'buffer')
}

/** The largest power of two below n (n ≥ 2). */
function split (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** The Merkle tree hash of these leaf hashes (RFC 9162 MTH). */
export function merkleRoot (leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!
  const k = split(leaves.length)
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)))
}

/** The audit path of leaf `m` (RFC 9162 PATH), leaf side first. */
export function auditPath (m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length === 1) return []
  const k = split(leaves.length)
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), merkleRoot(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), merkleRoot(leaves.slice(0, k))]
}

/**
 * The root and every leaf's audit path (as auditPath gives them) of one
 * tree, hashing each interior node once: n − 1 hashes for the whole group,
 * where an auditPath per leaf rebuilds its sibling subtrees (~n hashes per
 * leaf, ~30 µs per signed version in groups of 32).
 */
export function merkleTree (leaves: readonly Buffer[]): { readonly root: Buffer, readonly paths: Buffer[][] } {
  const paths = leaves.map((): Buffer[] => [])
  // the root of leaves [lo, hi); each leaf below gets its sibling on the way up, leaf side first
  const build = (lo: number, hi: number): Buffer => {
    if (hi - lo === 1) return leaves[lo]!
    const mid = lo + split(hi - lo)
    const left = build(lo, mid)
    const right = build(mid, hi)
    for (let m = lo; m < mid; m++) paths[m]!.push(right)
    for (let m = mid; m < hi; m++) paths[m]!.push(left)
    return nodeHash(left, right)
  }
  return { root: build(0, leaves.length), paths }
}

/**
 * The root an audit path leads to from `leaf` at `index` of `size` leaves
 * (RFC 9162 §2.1.3.2), or undefined when the path does not fit that
 * position. `stop` is asked of every node on the way up: true ends the walk
 * there (the node is known to belong to a verified tree) and returns it.
 */
export function rootFromPath (leaf: Buffer, index: number, size: number, path: readonly Buffer[], stop?: (node: Buffer) => boolean): Buffer | undefined {
  if (index >= size) return undefined
  let fn = index
  let sn = size - 1
  let r = leaf
  if (stop?.(r) === true) return r
  for (const p of path) {
    if (sn === 0) return undefined
    if ((fn & 1) === 1 || fn === sn) {
      r = nodeHash(p, r)
      while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1 }
    } else {
      r = nodeHash(r, p)
    }
    fn >>= 1
    sn >>= 1
    if (stop?.(r) === true) return r
  }
  return sn === 0 ? r : undefined
}

/** The bytes an Ed25519 group signature covers. */
export function groupMessage (domain: string, root: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${GROUP_TAG}${domain}\0`), root])
}

/** Split an audit path's text into its hashes (undefined when it is not whole hashes). */
export function decodePath (text: string | undefined): Buffer[] | undefined {
  if (text === undefined || text === '') return []
  // (a non-canonical spelling of the same hashes leads to the same root: harmless)
  const bytes = Buffer.from(text, 'base64url')
  if (bytes.length % 32 !== 0) return undefined
  const out: Buffer[] = []
  for (let i = 0; i < bytes.length; i += 32) out.push(bytes.subarray(i, i + 32))
  return out
}

/**
 * Sign versions made together (one local transaction): groups of at most
 * SIGN_GROUP_MAX, one signature each. `contentHashes[i]` is versions[i]'s.
 * Returns each version's signature, in order.
 */
export function signVersions (signer: VersionSigner, versions: readonly ObjectVersion[], contentHashes: readonly string[]): VersionSignature[] {
  const out: VersionSignature[] = []
  for (let from = 0; from < versions.length; from += SIGN_GROUP_MAX) {
    const group = versions.slice(from, from + SIGN_GROUP_MAX)
    const hashes = contentHashes.slice(from, from + SIGN_GROUP_MAX)
    const tree = merkleTree(group.map((v, i) => leafHash(v, hashes[i]!)))
    const sig = signer.sign(groupMessage(signer.domain, tree.root)).toString('base64url')
    group.forEach((_v, i) => {
      const base = { by: signer.domain, peer: signer.peerId, h: hashes[i]!, sig }
      out.push(group.length === 1 ? base : { ...base, i, n: group.length, p: Buffer.concat(tree.paths[i]!).toString('base64url') })
    })
  }
  return out
}

/** A signer over a libp2p Ed25519 private key's raw bytes (seed ‖ public key, or the 32-byte seed). */
export function createVersionSigner (domain: string, peerId: string, rawPrivateKey: Uint8Array): VersionSigner {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, rawPrivateKey.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
  return { domain, peerId, sign: (message) => sign(null, message, key) }
}

/** The Ed25519 public key a peer ID stands for, or undefined when it is not an Ed25519 peer ID. */
export function publicKeyOfPeer (peerId: string): KeyObject | undefined {
  try {
    const id = peerIdFromString(peerId)
    if (id.type !== 'Ed25519' || id.publicKey === undefined) return undefined
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519, id.publicKey.raw]), format: 'der', type: 'spki' })
  } catch {
    return undefined
  }
}

/** Check a group signature on libuv's thread pool (crypto work off the event loop). */
export async function verifyGroupSignature (key: KeyObject, domain: string, root: Uint8Array, signature: string): Promise<boolean> {
  const sig = Buffer.from(signature, 'base64url')
  if (sig.length !== 64) return false
  return await new Promise<boolean>((resolve) => {
    verify(null, groupMessage(domain, root), key, sig, (err, ok) => resolve(err === null && ok))
  })
}

// DER prefixes of an Ed25519 key: PKCS #8 private (RFC 8410 §7) and SubjectPublicKeyInfo public
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')
