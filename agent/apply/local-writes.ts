/**
 * Writes made at this agent: document API edits, edits a connector detected
 * in the instance (judged by the echo-loop guard in the same transaction),
 * and conflict resolutions. Each bumps this agent's own
 * vector entry and appends the object to the feed, atomically; each version
 * is signed with this agent's key (the versions of one transaction as one
 * group, protocol/provenance.ts) and its data stored in canonical key order,
 * so receivers hash it without re-ordering.
 *
 * Read-only types are enforced here: an object of a type some remote marks
 * read-only, and that did not originate here, cannot be edited locally. So is
 * the size of an object (MAX_LOCAL_OBJECT_BYTES): an edit that would make it
 * larger is refused with ObjectTooLargeError, and its transaction writes
 * nothing (a bulk write: none of its objects). And so are blobs: a version
 * may reference only blobs stored here, with their true size (BlobMissingError,
 * BadRequestError) — checked inside the transaction, where garbage
 * collection cannot remove one between the check and the write.
 */
import { canonicalForm, canonicalJson } from '../../protocol/canonical.js'
import { MAX_LOCAL_OBJECT_BYTES } from '../../protocol/constants.js'
import { fastWireObject } from '../../protocol/fast-decode.js'
import { wireObjectSchema } from '../../protocol/messages.js'
import { blobRefsOf, type BlobRef } from '../../protocol/blob-ref.js'
import type { ObjectContent, ObjectVersion } from '../../protocol/object.js'
import { contentHashOfText, signVersions, type ContentHash, type VersionSigner } from '../../protocol/provenance.js'
import { merge, raise, type VersionVector } from '../../protocol/version-vector.js'
import type { PutLimits, Store, StoredObject, WriteTx } from '../../store/types.js'
import { BadRequestError, BlobMissingError, NotFoundError, RuleViolationError } from '../errors.js'
import { InvalidObjectError } from '../../protocol/errors.js'
import { readOnlyRuleFor } from '../rules/read-only.js'
import type { InboundRules } from '../rules/types.js'
import type { BlobAccess } from './blob-access.js'
import type { LocalChange } from '../connectors/connector.js'
import type { EchoJudgement, EchoLoopGuard } from './echo-holds.js'
import { isMergeResolution, mergedContent, remoteSibling, type MergeResolution } from './conflict-merge.js'
import type { MergeContent } from '../../protocol/merge.js'

export interface LocalWriteDeps {
  readonly store: Store
  readonly domain: string
  readonly now: () => number
  /** the inbound rules of every remote (read-only enforcement) */
  readonly rules: readonly InboundRules[]
  /**
   * the blobs here: a version may reference only these. Without it (tools
   * that seed a bare store) references are written unchecked.
   */
  readonly blobs?: BlobAccess
  /**
   * signs every version written here (the agent always has one; tools that
   * seed a store may leave it out, making unsigned versions as an older
   * agent did)
   */
  readonly signer?: VersionSigner
}

/** A document as an application writes it: parent and refs may be left out (none). */
export type DocumentInput = Omit<ObjectContent, 'parent' | 'refs'> & Partial<Pick<ObjectContent, 'parent' | 'refs'>>

/** Create or update an object. Returns the stored result. */
export async function writeDocument (deps: LocalWriteDeps, input: DocumentInput): Promise<StoredObject> {
  return (await writeDocuments(deps, [input]))[0]!
}

/** A row of a connector's own table, committed with the write it belongs to. */
export interface AuxRow { readonly space: string, readonly key: string, readonly value: unknown }

/** Create or update many objects in one atomic transaction (imports, seeding). */
export async function writeDocuments (deps: LocalWriteDeps, inputs: readonly DocumentInput[], rows: readonly AuxRow[] = [], precondition?: () => boolean): Promise<StoredObject[]> {
  return await deps.store.write(async (tx) => {
    if (precondition !== undefined && !precondition()) return []
    for (const row of rows) tx.putAux(row.space, row.key, row.value)
    for (const input of inputs) await assertBlobsHere(deps, input.uid, input.data)
    const previous = await tx.getMany(inputs.map((i) => i.uid))
    // a uid written twice in one transaction: its second version follows its first
    const made = new Map<string, LocalWrite>()
    const writes = inputs.map((input, i) => {
      const write = localVersion(deps, input, made.get(input.uid) ?? previous[i])
      made.set(input.uid, write)
      return write
    })
    return putLocal(tx, deps, writes)
  })
}

/** A version made here, not yet signed or stored, with what its record keeps beside it. */
interface LocalWrite extends Pick<StoredObject, 'conflicts' | 'conflictVia' | 'origin' | 'vector'> {
  readonly version: ObjectVersion
  readonly limits: PutLimits | undefined
  /** JSON.stringify of the version's data is its canonical text (canonicalForm) */
  readonly exact: boolean
}

/**
 * Local writes stop at MAX_LOCAL_OBJECT_BYTES of wire JSON (the version and
 * the siblings it keeps), below the store's own MAX_OBJECT_BYTES: the
 * headroom between the two is what lets every agent that pulls the object
 * store it with its own, longer store-local fields. putObject measures it on
 * the text it encodes anyway. A refused write's transaction writes nothing.
 */
const LOCAL_LIMITS = Object.freeze({ maxWireBytes: MAX_LOCAL_OBJECT_BYTES })

/**
 * `vector` raised by one on this agent's entry: its domain, or in a restored
 * store the restore entry `<domain>~<tag>` the restore stored (store info
 * `entry`; docs/architecture/backup-restore.md). Read from the store, not
 * given: every writer — the agent, a tool seeding a stopped store — raises
 * what the store says.
 */
function raiseOwn (deps: LocalWriteDeps, vector: VersionVector): VersionVector {
  return raise(vector, deps.store.info().entry, deps.domain)
}

/** Sign `writes` as one group and store them, in order (putObject refuses what is too large). */
function putLocal (tx: WriteTx, deps: LocalWriteDeps, writes: readonly LocalWrite[]): StoredObject[] {
  const signer = deps.signer
  const hashes = signer !== undefined ? writes.map(hashOf) : undefined
  const sigs = signer !== undefined ? signVersions(signer, writes.map((w) => w.version), hashes!.map((h) => h.h)) : undefined
  return writes.map((w, i) => tx.putObject({
    ...w.version,
    ...(sigs !== undefined ? { sig: sigs[i]! } : {}),
    conflicts: w.conflicts,
    via: null,
    ...(w.conflictVia !== undefined ? { conflictVia: w.conflictVia } : {})
  }, hashes !== undefined ? { ...w.limits, dataText: hashes[i]!.dataText } : w.limits))
}

/** The content hash of a write, from its data's canonical text (known without walking the data again: canonicalForm). */
function hashOf (w: LocalWrite): ContentHash {
  const data = w.version.data
  return contentHashOfText(w.version, w.version.id, w.exact ? JSON.stringify(data) : canonicalJson(data))
}

/**
 * `version` as stored: its data in canonical key order (checked first:
 * canonicalize recurses). Objects of the data already in that order — an
 * edit of a stored version keeps most of its order — are kept, not copied
 * (protocol/canonical.ts).
 */
function local (version: ObjectVersion, conflicts: readonly ObjectVersion[], conflictVia: readonly string[] | undefined, limits: PutLimits | undefined): LocalWrite {
  assertReplicable(version, conflicts)
  const { value: data, exact } = canonicalForm(version.data)
  const stored = data === version.data ? version : { ...version, data }
  return { version: stored, vector: stored.vector, origin: stored.origin, conflicts, ...(conflictVia !== undefined ? { conflictVia } : {}), limits, exact }
}

function localVersion (deps: LocalWriteDeps, input: DocumentInput, previous: Pick<StoredObject, 'conflicts' | 'conflictVia' | 'origin' | 'vector' | 'type'> | LocalWrite | undefined): LocalWrite {
  assertEditable(deps, previous !== undefined ? { type: 'version' in previous ? previous.version.type : previous.type, origin: previous.origin } : undefined, input.type)
  const version: ObjectVersion = {
    uid: input.uid,
    type: input.type,
    id: input.id,
    parent: input.parent ?? null,
    refs: [...(input.refs ?? [])],
    data: input.data,
    vector: raiseOwn(deps, previous?.vector ?? {}),
    origin: previous?.origin ?? deps.domain,
    deleted: false,
    at: deps.now()
  }
  return local(version, previous?.conflicts ?? [], previous?.conflictVia, LOCAL_LIMITS)
}

/** Write a tombstone. Deleting an absent or already deleted object is a NotFoundError. */
export async function deleteDocument (deps: LocalWriteDeps, uid: string, rows: readonly AuxRow[] = []): Promise<StoredObject> {
  return await deps.store.write(async (tx) => {
    for (const row of rows) tx.putAux(row.space, row.key, row.value)
    const previous = await tx.get(uid)
    if (previous === undefined || previous.deleted) throw new NotFoundError(`object ${uid} does not exist${previous?.deleted === true ? ' (already deleted)' : ''}`)
    return tombstone(deps, tx, previous)
  })
}

function tombstone (deps: LocalWriteDeps, tx: WriteTx, previous: StoredObject): StoredObject {
  assertEditable(deps, previous, previous.type)
  const version: ObjectVersion = {
    uid: previous.uid,
    type: previous.type,
    id: previous.id,
    parent: previous.parent,
    refs: previous.refs,
    data: {},
    vector: raiseOwn(deps, previous.vector),
    origin: previous.origin,
    deleted: true,
    at: deps.now()
  }
  return putLocal(tx, deps, [local(version, previous.conflicts, previous.conflictVia, undefined)])[0]!
}

/** One version made here from `input` over `previous`, signed and stored. */
function writeOne (deps: LocalWriteDeps, tx: WriteTx, input: DocumentInput, previous: StoredObject | undefined): StoredObject {
  return putLocal(tx, deps, [localVersion(deps, input, previous)])[0]!
}

export type Resolution = { readonly pick: 'local' | 'remote' } | { readonly data: Readonly<Record<string, unknown>> } | MergeResolution

/**
 * Resolve a conflict: write a version whose vector dominates the current one
 * and every sibling (pointwise max, plus one on our entry), so it replaces all
 * of them wherever it travels and the conflict disappears there.
 *
 * `remote` picks the newest sibling by the deterministic vector order;
 * `merge`/`fields` merge it with the current version field by field against
 * their common ancestor (conflict-merge.ts), read in this same transaction.
 */
export async function resolveConflict (deps: LocalWriteDeps, uid: string, resolution: Resolution): Promise<StoredObject> {
  return await deps.store.write(async (tx) => {
    const current = await tx.get(uid)
    if (current === undefined) throw new NotFoundError(`object ${uid} does not exist`)
    if (current.conflicts.length === 0) throw new NotFoundError(`object ${uid} has no conflict to resolve`)
    const content = await resolvedContent(tx, current, resolution)
    // data given or picked field by field may reference blobs: they must be here
    await assertBlobsHere(deps, uid, content.data)
    const vector = raiseOwn(deps, merge(current.vector, ...current.conflicts.map((c) => c.vector)))
    const version: ObjectVersion = {
      uid,
      type: content.type,
      id: content.id,
      parent: content.parent,
      refs: content.refs,
      data: content.data,
      vector,
      origin: current.origin,
      deleted: content.deleted,
      at: deps.now()
    }
    return putLocal(tx, deps, [local(version, [], undefined, LOCAL_LIMITS)])[0]!
  })
}

async function resolvedContent (tx: WriteTx, current: StoredObject, resolution: Resolution): Promise<MergeContent> {
  if (isMergeResolution(resolution)) return mergedContent(current, await tx.getPastVersions(current.uid), resolution)
  if ('pick' in resolution) return resolution.pick === 'remote' ? remoteSibling(current.conflicts) : current
  if (typeof resolution.data !== 'object' || resolution.data === null) throw new BadRequestError('data must be an object')
  return { ...current, data: resolution.data }
}

/**
 * Refuse (InvalidObjectError) an object the protocol would not carry: what
 * every receiver checks (protocol/fast-decode.ts, the same as the zod
 * schema), checked here, so that no connector can put into the feed an
 * object that would make every frame serving it invalid.
 */
function assertReplicable (version: ObjectVersion, conflicts: readonly ObjectVersion[]): void {
  const wire = conflicts.length === 0 ? version : { ...version, conflicts }
  if (fastWireObject(wire) !== undefined) return
  // the fast check only says yes quickly; as at a receiver, the schema decides
  const checked = wireObjectSchema.safeParse(wire)
  if (checked.success) return
  throw new InvalidObjectError(version.uid, checked.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(object)'}: ${i.message}`).join('; '))
}

/**
 * Refuse a version whose data references a blob that is not here
 * (BlobMissingError) or gives a blob a size other than its own
 * (BadRequestError): every agent it reaches would otherwise park it.
 */
async function assertBlobsHere (deps: LocalWriteDeps, uid: string, data: unknown): Promise<void> {
  if (deps.blobs === undefined) return
  const refs = blobRefsOf(data)
  if (refs.length === 0) return
  const unique = [...new Map<string, BlobRef>(refs.map((r) => [r.blob, r])).values()]
  const sizes = await deps.blobs.sizes(unique.map((r) => r.blob))
  const missing = unique.filter((_, i) => sizes[i] === undefined).map((r) => r.blob)
  if (missing.length > 0) throw new BlobMissingError(uid, missing)
  for (const ref of refs) {
    const size = sizes[unique.findIndex((r) => r.blob === ref.blob)]
    if (size !== ref.size) throw new BadRequestError(`object ${uid.slice(0, 200)} references blob ${ref.blob} with size ${ref.size}, but that blob has ${size} bytes: give its true size (PUT /api/blobs answers it); nothing was written`)
  }
}

function assertEditable (deps: LocalWriteDeps, previous: { readonly type: string, readonly origin: string } | undefined, type: string): void {
  const target = previous !== undefined ? { type: previous.type, origin: previous.origin } : { type, origin: deps.domain }
  const verdict = readOnlyRuleFor(deps.rules, target)
  if (verdict !== undefined) {
    throw new RuleViolationError('read-only-type', `${verdict.type} objects imported from peer ${verdict.peer} are read-only here (types.readOnly of peer ${verdict.peer}): edit it on ${verdict.peer}, or remove ${verdict.type} from that rule`)
  }
}

export interface InstanceChangeDeps extends LocalWriteDeps {
  /** writes the stored version back into the instance (revert) */
  readonly revert: (object: StoredObject) => Promise<void>
  readonly onReverted: (object: StoredObject, verdict: { peer: string, type: string }) => void
  /** the echo-loop guard (none: every edit is recorded) */
  readonly echoGuard?: EchoLoopGuard
}

/**
 * An edit a connector detected in its instance. It becomes a local version —
 * unless the object is read-only here: an instance that cannot refuse the
 * edit (SENAITE) gets the last version from the peer written back, the revert
 * is reported, and the edit never reaches the feed, so it is never sent out.
 * The echo-loop guard decides inside the same transaction whether the edit
 * is recorded or held (then nothing but the hold is written, not even the
 * connector's rows: the observation was not taken).
 */
export async function recordInstanceChange (deps: InstanceChangeDeps, change: LocalChange, rows: readonly AuxRow[] = [], precondition?: () => boolean): Promise<StoredObject | undefined> {
  const previous = await deps.store.getObject(change.uid)
  const verdict = previous !== undefined ? readOnlyRuleFor(deps.rules, previous) : undefined
  if (previous !== undefined && verdict !== undefined) {
    await deps.revert(previous)
    deps.onReverted(previous, verdict)
    return undefined
  }
  if (change.deleted && (previous === undefined || previous.deleted)) return previous
  // an instance's attachment is put into the blob store before the change that references it
  if (!change.deleted) await assertBlobsHere(deps, change.uid, change.data)
  const guard = deps.echoGuard
  let judgement: EchoJudgement | undefined
  const stored = await deps.store.write(async (tx) => {
    if (precondition !== undefined && !precondition()) return undefined
    const current = await tx.get(change.uid)
    if (change.deleted && (current === undefined || current.deleted)) return current
    judgement = guard?.judge(tx, change, rows, current)
    if (judgement !== undefined && judgement.decision.action !== 'record') return undefined
    for (const row of rows) tx.putAux(row.space, row.key, row.value)
    return change.deleted ? tombstone(deps, tx, current!) : writeOne(deps, tx, change, current)
  })
  if (judgement !== undefined) guard!.settle(judgement, stored)
  return stored
}

/**
 * An admin ends the echo-loop guard's hold on an object: the hold row goes,
 * and the instance edit it held (if the guard still has it and it was made
 * on the current version) is recorded, in one transaction.
 */
export async function releaseEchoHold (deps: LocalWriteDeps & { readonly echoGuard: EchoLoopGuard }, uid: string): Promise<{ uid: string, released: true, recorded: boolean }> {
  const guard = deps.echoGuard
  const recorded = await deps.store.write(async (tx) => {
    const current = await tx.get(uid)
    const held = guard.stageRelease(tx, uid, current)
    if (held === undefined) return undefined
    for (const row of held.rows) tx.putAux(row.space, row.key, row.value)
    if (!held.change.deleted) return writeOne(deps, tx, held.change, current)
    return current === undefined || current.deleted ? undefined : tombstone(deps, tx, current)
  })
  guard.settleRelease(uid, recorded)
  return { uid, released: true, recorded: recorded !== undefined }
}
