/**
 * Checking the provenance of pulled versions before they are applied
 * (protocol/provenance.ts says what is signed). One checker per agent: it
 * knows which peer ID speaks for which domain, and remembers the groups of
 * versions whose signature it has verified.
 *
 * A signed version passes when
 * - its content hashes to the `h` it carries (canonical JSON, recomputed
 *   here: a relay that changed anything the signer signed is caught), and
 *   its audit path leads to a root whose signature verifies under `peer`;
 * - its signer may speak for the version: `by` (a domain) has a positive
 *   entry of its own in the version's vector — `by`, or one of its restore
 *   entries `by~tag` (version-vector.ts restoreEntry) — (a version is signed
 *   by an agent whose entry it carries: the one a local write or a
 *   resolution raises; a restored agent raises its restore entry and still
 *   signs as its domain, with its one key), and `peer` is the key of
 *   domain `by` as far as this agent knows — bindings come from the config
 *   (a peer's name is its domain), from each peer's hello over the
 *   connection Noise authenticated, and from this agent itself. A relay
 *   cannot re-sign a lab's version as its own: its own key is bound to its
 *   own domain, which the lab's vector does not carry.
 * An unsigned version (from a store older than signing, or relayed by an
 * older agent) is accepted and marked unsigned — or refused, with
 * `provenance.requireSigned`.
 *
 * Cost (the hot path of an initial sync): the content hash reuses the text
 * the store will write (`dataText`); a group's signature (~100 µs on this
 * hardware, more than applying an object) is verified once per group, on
 * libuv's thread pool, the groups of one batch in parallel; each further
 * version of a verified group only hashes its way up to a node already
 * known to belong to it (usually one hash).
 */
import type { KeyObject } from 'node:crypto'
import { versionsOf, type ObjectVersion, type VersionSignature, type WireObject } from '../../protocol/object.js'
import { decodePath, leafHash, matchContentHash, publicKeyOfPeer, rootFromPath, verifyGroupSignature } from '../../protocol/provenance.js'
import { hasEntryOf, RESTORE_ENTRY_MARK } from '../../protocol/version-vector.js'

/** What a check of some versions found. */
export interface ProvenanceResult {
  /** uids whose versions (one of them at least) fail: why */
  readonly bad: ReadonlyMap<string, string>
  /** versions accepted without a signature */
  readonly unsigned: number
  /** the canonical text of checked `data` objects, for the store to write as is */
  dataText (data: object): string | undefined
}

export interface ProvenanceChecker {
  /**
   * Domain `domain` is the agent with this peer ID (config, hello). Returns
   * a warning when that replaces another binding, else undefined.
   */
  bind (domain: string, peerId: string): string | undefined
  /** the peer ID bound to a domain, if known */
  keyOf (domain: string): string | undefined
  /** check every version of these wire objects, as received (ids as their sender presented them) */
  check (objects: readonly WireObject[], received?: ReadonlyMap<object, string>): Promise<ProvenanceResult>
}

export interface ProvenanceOptions {
  /** refuse versions without a signature (default: accept them, marked unsigned) */
  readonly requireSigned?: boolean
}

/** verified groups remembered (a group is one signature: up to SIGN_GROUP_MAX versions) */
const MAX_GROUPS = 4096

interface Group {
  /** nodes (latin1 text of the hash) of the group's tree on the paths checked so far, the root among them */
  readonly nodes: Set<string>
  /**
   * whether its signature verifies: set (and the check started) in the same
   * synchronous stretch as the group is remembered, so a concurrent check
   * always finds it
   */
  verdict?: Promise<boolean>
}

/** A version whose acceptance waits for its group's signature. */
interface Waiting { readonly group: Group, readonly uid: string, readonly sig: VersionSignature }

/** A group first seen in this check: its signature is to be verified. */
interface NewGroup { readonly group: Group, readonly key: KeyObject, readonly sig: VersionSignature, readonly root: Buffer }

export function createProvenanceChecker (options: ProvenanceOptions = {}): ProvenanceChecker {
  return new Checker(options)
}

/** What one check collects as it goes. */
interface CheckRun {
  /** a Map, not a WeakMap: it lives for one batch, and weak entries cost the garbage collector more */
  readonly texts: Map<object, string>
  readonly fresh: NewGroup[]
  readonly waiting: Waiting[]
}

class Checker implements ProvenanceChecker {
  readonly #options: ProvenanceOptions
  readonly #peerOfDomain = new Map<string, string>()
  readonly #domainOfPeer = new Map<string, string>()
  readonly #keys = new Map<string, KeyObject | undefined>()
  readonly #groups = new Map<string, Group>()

  constructor (options: ProvenanceOptions) {
    this.#options = options
  }

  bind (domain: string, peerId: string): string | undefined {
    const before = this.#peerOfDomain.get(domain)
    if (before === peerId) return undefined
    if (before !== undefined) this.#domainOfPeer.delete(before)
    const formerDomain = this.#domainOfPeer.get(peerId)
    if (formerDomain !== undefined) this.#peerOfDomain.delete(formerDomain)
    this.#peerOfDomain.set(domain, peerId)
    this.#domainOfPeer.set(peerId, domain)
    if (before !== undefined) return `domain ${domain} was peer ${before} and is now peer ${peerId}`
    if (formerDomain !== undefined) return `peer ${peerId} was domain ${formerDomain} and is now ${domain}`
    return undefined
  }

  keyOf (domain: string): string | undefined {
    return this.#peerOfDomain.get(domain)
  }

  async check (objects: readonly WireObject[], received?: ReadonlyMap<object, string>): Promise<ProvenanceResult> {
    const bad = new Map<string, string>()
    const run: CheckRun = { texts: new Map(), fresh: [], waiting: [] }
    let unsigned = 0
    for (const wire of objects) {
      for (const v of versionsOf(wire)) {
        const sig = v.sig
        if (sig === undefined) {
          unsigned++
          if (this.#options.requireSigned === true) bad.set(wire.uid, `version ${JSON.stringify(v.vector)} is not signed, and provenance.requireSigned is on`)
          continue
        }
        const problem = this.#checkOne(v, sig, run, wire.uid, received?.get(v.data))
        if (problem !== undefined && !bad.has(wire.uid)) bad.set(wire.uid, `version ${JSON.stringify(v.vector)}: ${problem}`)
      }
    }
    // every group of this check gets its verdict before the first await (see Group.verdict)
    for (const g of run.fresh) {
      g.group.verdict = verifyGroupSignature(g.key, g.sig.by, g.root, g.sig.sig).then((ok) => {
        if (!ok && this.#groups.get(groupId(g.sig)) === g.group) this.#groups.delete(groupId(g.sig))
        return ok
      })
    }
    // one wait per group, not per version (a batch of 500 is ~16 groups): then each version's verdict is known
    const verdicts = new Map<Group, boolean>()
    for (const w of run.waiting) if (!verdicts.has(w.group)) verdicts.set(w.group, false)
    await Promise.all(Array.from(verdicts.keys(), async (group) => { verdicts.set(group, await group.verdict!) }))
    for (const w of run.waiting) {
      if (verdicts.get(w.group) === true) continue
      if (!bad.has(w.uid)) bad.set(w.uid, `version signed by ${w.sig.by}: its signature does not verify under peer ${w.sig.peer}`)
    }
    return { bad, unsigned, dataText: (data) => run.texts.get(data) }
  }

  /** Check what can be checked of one version now; its acceptance may wait for its group's signature. */
  #checkOne (v: ObjectVersion, sig: VersionSignature, run: CheckRun, uid: string, receivedText: string | undefined): string | undefined {
    const content = matchContentHash(v, sig.id ?? v.id, sig.h, receivedText)
    run.texts.set(v.data, content.dataText)
    if (!content.ok) return `its content does not hash to what its signer ${sig.by} signed: it was changed after signing`
    const problem = this.#signerProblem(v, sig)
    if (problem !== undefined) return problem
    const key = this.#keyFor(sig.peer)
    if (key === undefined) return `its signer ${sig.peer} is not an Ed25519 peer ID`
    const leaf = leafHash(v, sig.h)
    const known = this.#groups.get(groupId(sig))
    // a leaf already known to be in a verified tree (a sibling on an earlier path) needs no path at all
    if (known?.nodes.has(leaf.toString('latin1')) === true) {
      run.waiting.push({ group: known, uid, sig })
      return undefined
    }
    const path = decodePath(sig.p)
    if (path === undefined) return 'its audit path is not a list of hashes'
    if (known !== undefined) {
      if (!inTree(known, leaf, sig, path)) return 'it is not in the group of versions its signature covers'
      run.waiting.push({ group: known, uid, sig })
      return undefined
    }
    const nodes: string[] = path.map((p) => p.toString('latin1'))
    const root = rootFromPath(leaf, sig.i ?? 0, sig.n ?? 1, path, (node) => { nodes.push(node.toString('latin1')); return false })
    if (root === undefined) return 'its audit path does not fit its place in the group'
    // the path's nodes are the tree's too, if its root's signature verifies: siblings need no hashing up
    const group: Group = { nodes: new Set(nodes) }
    this.#remember(groupId(sig), group)
    run.fresh.push({ group, key, sig, root })
    run.waiting.push({ group, uid, sig })
    return undefined
  }

  /** Why the signer may not speak for `v`, or undefined. */
  #signerProblem (v: ObjectVersion, sig: VersionSignature): string | undefined {
    if (sig.by.includes(RESTORE_ENTRY_MARK)) return `its signer ${sig.by} is not a domain: a version is signed as its signer's domain, also when it raised a restore entry`
    if (!hasEntryOf(v.vector, sig.by)) return `its signer ${sig.by} has no entry in its vector ${JSON.stringify(v.vector)}: an agent signs only versions it made`
    const bound = this.#peerOfDomain.get(sig.by)
    if (bound !== undefined && bound !== sig.peer) return `it is signed as ${sig.by} by peer ${sig.peer}, but ${sig.by} is peer ${bound}`
    const domain = this.#domainOfPeer.get(sig.peer)
    if (domain !== undefined && domain !== sig.by) return `it is signed as ${sig.by} by peer ${sig.peer}, which is ${domain}`
    return undefined
  }

  #keyFor (peer: string): KeyObject | undefined {
    if (!this.#keys.has(peer)) {
      if (this.#keys.size > MAX_GROUPS) this.#keys.clear()
      this.#keys.set(peer, publicKeyOfPeer(peer))
    }
    return this.#keys.get(peer)
  }

  #remember (id: string, group: Group): void {
    this.#groups.set(id, group)
    // insertion order: the oldest groups go first
    if (this.#groups.size > MAX_GROUPS) this.#groups.delete(this.#groups.keys().next().value!)
  }
}

/**
 * Whether `leaf`'s path meets a node already known to be in the group's
 * tree; the nodes walked below it, and the path's nodes used on the way,
 * are then known to be too.
 */
function inTree (group: Group, leaf: Buffer, sig: VersionSignature, path: readonly Buffer[]): boolean {
  const walked: string[] = []
  let met = false
  rootFromPath(leaf, sig.i ?? 0, sig.n ?? 1, path, (node) => {
    const text = node.toString('latin1')
    met = group.nodes.has(text)
    if (!met) walked.push(text)
    return met
  })
  if (!met) return false
  for (const text of walked) group.nodes.add(text)
  // the walk used one path node per step up: as many as the nodes it walked below the one it met
  for (let i = 0; i < walked.length; i++) group.nodes.add(path[i]!.toString('latin1'))
  return true
}

function groupId (sig: VersionSignature): string {
  return `${sig.peer}\0${sig.by}\0${sig.sig}`
}
