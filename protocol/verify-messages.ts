/**
 * Wire messages of `/labmesh/verify/1.0.0` and their zod schemas (the
 * specification; verify-decode.ts applies them to untrusted input).
 *
 * A session is one stream opened by the verifier (the "client") to the peer
 * it compares itself with (the "server"). The client sends `open` with the
 * types it would import from the server; the server answers `summary`: the
 * groups (type × origin) it would serve the client, each with a count and
 * hash, and which of the client's types it would not serve. Where the two
 * sides differ the client asks for `ranges` — a group, or a bucket of it at
 * a level of the digest's tree — and the server answers `nodes`: a range's
 * children (count and hash each) or, once small, its leaves (uid, vectors,
 * deleted, hash). So the messages grow with the differences, not the store.
 * With `check`, the server also rebuilds its digest from its records and
 * reports what disagrees (`progress` while it reads, then `checked`).
 * `get` / `objects` (the sync protocol's) fetch what a repair applies.
 */
import { z } from 'zod'
import { DIGEST_LEVELS } from './digest.js'
import { MAX_CONFLICT_SIBLINGS, MAX_TYPE_LENGTH } from './constants.js'
import { errorSchema, fieldSchemas, getSchema, objectsSchema, type ErrorMessage, type GetMessage, type ObjectsMessage } from './messages.js'
import {
  MAX_CHECK_PROBLEMS, MAX_FRAME_LEAVES, MAX_SUMMARY_GROUPS, MAX_VERIFY_RANGES, MAX_VERIFY_TYPES, VERIFY_PROTOCOL_VERSION
} from './verify-constants.js'
import type { VersionVector } from './version-vector.js'

/** A group of the digest: a (digest) type and an origin. */
export interface WireGroup { readonly type: string, readonly origin: string }

/** A group, or a bucket of it: the buckets whose first `bits` bits are `prefix` (bits 0: the whole group). */
export interface WireRange extends WireGroup { readonly bits: number, readonly prefix: number }

/** One uid's digest entry. */
export interface WireLeaf {
  readonly uid: string
  readonly vectors: readonly VersionVector[]
  readonly deleted: boolean
  readonly hash: string
}

/** A group's or a child's count and hash. */
export interface WireCount { readonly count: number, readonly hash: string }

/**
 * What the server holds in a range: its count and hash, and either its
 * non-empty children one level down (`childBits`) or (part of) its leaves.
 * Leaves of one range may come in several nodes, over several frames.
 */
export interface WireNode extends WireRange, WireCount {
  readonly childBits?: number
  readonly children?: ReadonlyArray<WireCount & { readonly prefix: number }>
  readonly leaves?: readonly WireLeaf[]
}

/** One uid whose record and digest disagree at the server (its check). */
export interface WireProblem {
  readonly uid: string
  readonly stored?: WireGroup & { readonly leaf: WireLeaf }
  readonly actual?: WireGroup & { readonly leaf: WireLeaf }
}

/** Client → server, first: compare under these types (what I would import); `check`: rebuild your digest too. */
export interface OpenMessage { readonly type: 'open', readonly v: number, readonly domain: string, readonly types: readonly string[], readonly check: boolean }

/** A range asked for: as children or, once small, as leaves; `leaves`: as leaves whatever its size (a range the client lacks). */
export interface WireRangeRequest extends WireRange { readonly leaves?: boolean }

/** Client → server: these ranges. */
export interface RangesMessage { readonly type: 'ranges', readonly v: number, readonly id: number, readonly ranges: readonly WireRangeRequest[] }

/** Server → client: the groups I would serve you, and which of your types I would not. `last` ends the summary. */
export interface SummaryMessage {
  readonly type: 'summary'
  readonly v: number
  readonly domain: string
  readonly groups: ReadonlyArray<WireGroup & WireCount>
  readonly refused: readonly string[]
  readonly last: boolean
}

/** Server → client: (part of) the answer to ranges `id`; `last` ends it. */
export interface NodesMessage { readonly type: 'nodes', readonly v: number, readonly id: number, readonly nodes: readonly WireNode[], readonly last: boolean }

/** Server → client: my check has read `done` of `total` rows. */
export interface CheckProgressMessage { readonly type: 'progress', readonly v: number, readonly done: number, readonly total: number }

/** Server → client: my check is done; these uids (in the types I serve you) disagree with my digest. */
export interface CheckedMessage {
  readonly type: 'checked'
  readonly v: number
  readonly objects: number
  readonly problems: readonly WireProblem[]
  /** how many there are in all (problems lists at most MAX_CHECK_PROBLEMS) */
  readonly problemCount: number
  /** group aggregates of my digest that are not the sum of their leaves */
  readonly groupProblems: number
}

export type VerifyClientMessage = OpenMessage | RangesMessage | GetMessage | ErrorMessage
export type VerifyServerMessage = SummaryMessage | NodesMessage | CheckProgressMessage | CheckedMessage | ObjectsMessage | ErrorMessage
export type VerifyMessage = VerifyClientMessage | VerifyServerMessage

// ---- validation (trust boundary) ----

const { count, requestId, uid, domain, vector } = fieldSchemas
const v = z.literal(VERIFY_PROTOCOL_VERSION)
const digestType = z.string().min(1).max(MAX_TYPE_LENGTH + 16)
const hash = z.string().regex(/^[0-9a-f]{32}$/)
const group = { type: digestType, origin: domain }
const bits = z.number().int().refine((b) => (DIGEST_LEVELS as readonly number[]).includes(b), { message: `bits must be one of ${DIGEST_LEVELS.join(', ')}` })
const range = z.object({ ...group, bits, prefix: z.number().int().min(0).max(0xffff), leaves: z.boolean().optional() })
  .refine((r) => r.prefix < 2 ** r.bits, { message: 'prefix must have at most `bits` bits' })
const leaf = z.object({ uid, vectors: z.array(vector).min(1).max(MAX_CONFLICT_SIBLINGS + 1), deleted: z.boolean(), hash })
const counted = { count, hash }
const node = z.object({
  ...group,
  bits,
  prefix: z.number().int().min(0).max(0xffff),
  ...counted,
  childBits: bits.optional(),
  children: z.array(z.object({ prefix: z.number().int().min(0).max(0xffff), ...counted })).max(1 << 16).optional(),
  leaves: z.array(leaf).max(MAX_FRAME_LEAVES).optional()
})
const problemSide = z.object({ ...group, leaf })

export const verifyClientSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('open'), v, domain, types: z.array(digestType).max(MAX_VERIFY_TYPES), check: z.boolean() }),
  z.object({ type: z.literal('ranges'), v, id: requestId, ranges: z.array(range).min(1).max(MAX_VERIFY_RANGES) }),
  getSchema,
  errorSchema
])

export const verifyServerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('summary'), v, domain, groups: z.array(z.object({ ...group, ...counted })).max(MAX_SUMMARY_GROUPS), refused: z.array(digestType).max(MAX_VERIFY_TYPES), last: z.boolean() }),
  z.object({ type: z.literal('nodes'), v, id: requestId, nodes: z.array(node).max(MAX_VERIFY_RANGES), last: z.boolean() }),
  z.object({ type: z.literal('progress'), v, done: count, total: count }),
  z.object({ type: z.literal('checked'), v, objects: count, problems: z.array(z.object({ uid, stored: problemSide.optional(), actual: problemSide.optional() })).max(MAX_CHECK_PROBLEMS), problemCount: count, groupProblems: count }),
  objectsSchema,
  errorSchema
])
