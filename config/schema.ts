/**
 * The agent's configuration schema (one YAML file per agent). The TypeScript
 * type is inferred from it, so code and validation cannot drift apart.
 *
 * Keys named in the issues (domain, dataDir, listen, http.listen, instance,
 * localPrefix, peers[].{name, peerId, addrs, pull, autoSync, prefix, types,
 * import}) are part of the admin's contract: add keys, never rename them.
 * Every object is strict, so a misspelt key is an error, not a silent no-op.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { z } from 'zod'
import { MAX_BLOB_BYTES } from '../protocol/blob-ref.js'
import { DEFAULT_BATCH_OBJECTS, DEFAULT_HISTORY_VERSIONS, DEFAULT_PULL_WINDOW, MAX_BATCH_OBJECTS, MAX_HISTORY_VERSIONS, MAX_PULL_WINDOW } from '../protocol/constants.js'
import { CODEC_NAMES } from '../protocol/frame-compression.js'
import { durationSchema } from './duration.js'
import { senaiteInstanceSchema } from './senaite-schema.js'

/** http.maxBlobBytes by default: 4 GiB, twice the 2 GiB files labs must be able to attach */
export const DEFAULT_MAX_BLOB_BYTES = 4 * 1024 ** 3

/** the longest lab prefix (peers[].prefix, localPrefix) */
export const MAX_PREFIX_LENGTH = 64

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

/** a domain or peer name */
export const nameSchema = z.string().regex(NAME_RE, { message: 'must be 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit' })
const name = nameSchema

export const multiaddrString = z.string().refine((value) => {
  try {
    const ma = multiaddr(value)
    return ma.toString().length > 0 && value.startsWith('/')
  } catch {
    return false
  }
}, { message: 'is not a valid multiaddr' })

const peerIdString = z.string().refine((value) => {
  try {
    peerIdFromString(value)
    return true
  } catch {
    return false
  }
}, { message: 'is not a valid libp2p peer ID' })

const hostPort = z.string().refine(
  (v) => /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(v) && Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535,
  { message: 'must be HOST:PORT with a port up to 65535, e.g. 127.0.0.1:8101' })

const typeList = z.array(z.string().min(1)).prefault([])

/** a lab's id prefix: a short code (ids are limited to MAX_ID_LENGTH characters, prefix included) */
const labPrefix = z.string().max(MAX_PREFIX_LENGTH, `must be at most ${MAX_PREFIX_LENGTH} characters: a lab prefix is a short code such as LAB-A`).default('')

export const typeRulesSchema = z.strictObject({
  /** Full Sync Content Types: when non-empty, only these are imported (plus what they require) */
  only: typeList,
  /** Content Types to be Skipped (unless required by an imported object) */
  skip: typeList,
  /** types whose id gets this peer's prefix */
  prefixable: typeList,
  /** imported normally, never editable here */
  readOnly: typeList,
  /** applied only when the object originated here */
  updateOnly: typeList
})

export const serveRulesSchema = z.strictObject({
  /** what this peer may pull from us; empty `only` means everything */
  types: z.strictObject({ only: typeList, skip: typeList }).prefault({}),
  users: z.boolean().default(true),
  registry: z.boolean().default(true),
  settings: z.boolean().default(true)
})

export const peerSchema = z.strictObject({
  name,
  peerId: peerIdString,
  addrs: z.array(multiaddrString).prefault([]),
  /** we import from this peer (it is our "remote") */
  pull: z.boolean().default(false),
  autoSync: z.strictObject({
    interval: durationSchema.prefault('60s'),
    live: z.boolean().default(true)
  }).prefault({}),
  prefix: labPrefix,
  types: typeRulesSchema.prefault({}),
  import: z.strictObject({
    users: z.boolean().default(false),
    registry: z.boolean().default(false),
    settings: z.boolean().default(false)
  }).prefault({}),
  serve: serveRulesSchema.prefault({}),
  /** periodic verify with this peer (labmesh verify): off unless `interval` is set */
  verify: z.strictObject({
    /** how often; none: never by itself */
    interval: durationSchema.optional(),
    /** also fetch and apply what the peer has and we lack (never an overwrite) */
    repair: z.boolean().default(false),
    /** compare the digests only, without rebuilding them from the records */
    quick: z.boolean().default(false)
  }).prefault({})
})

export const embeddedInstanceSchema = z.strictObject({ kind: z.literal('embedded') })

export const configSchema = z.strictObject({
  /** unique name of this agent in the mesh; the key of its version-vector entries */
  domain: name,
  /** LevelDB, identity key and admin token live here (relative to the config file) */
  dataDir: z.string().min(1).default('./data'),
  listen: z.array(multiaddrString).prefault(['/ip4/127.0.0.1/tcp/0']),
  http: z.strictObject({
    listen: hostPort.default('127.0.0.1:8101'),
    /** let the status page's reads (GET status, peers, jobs, events, conflicts, failed) work without the token; never writes or /api/objects */
    publicStatus: z.boolean().default(false),
    /** let GET /metrics work without the token (a Prometheus scraper can also send it as a bearer token) */
    publicMetrics: z.boolean().default(false),
    /** admin bearer token file (default: <dataDir>/admin.token) */
    tokenFile: z.string().min(1).optional(),
    /** host names (besides IP addresses, localhost and the host of http.listen) that requests may be addressed to; `.example.org` allows every name under it */
    allowedHosts: z.array(z.string().regex(/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/, 'must be a host name without scheme or port, e.g. lims-sync.lab.example or .lab.example')).prefault([]),
    /** largest request body accepted by the document and admin API */
    maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    /** largest file PUT /api/blobs accepts (streamed to disk, never held in memory); separate from maxBodyBytes */
    maxBlobBytes: z.number().int().min(1024).max(MAX_BLOB_BYTES).default(DEFAULT_MAX_BLOB_BYTES)
  }).prefault({}),
  blobs: z.strictObject({
    /** how long a blob no object references is kept before garbage collection removes it */
    gcGrace: durationSchema.prefault('24h'),
    /** how often garbage collection runs (0: never) */
    gcInterval: durationSchema.prefault('1h')
  }).prefault({}),
  identity: z.strictObject({
    /** Ed25519 private key, protobuf-encoded (default: <dataDir>/identity.key) */
    keyFile: z.string().min(1).optional()
  }).prefault({}),
  instance: z.discriminatedUnion('kind', [embeddedInstanceSchema, senaiteInstanceSchema]).prefault({ kind: 'embedded' }),
  /** this agent's prefix on the other side */
  localPrefix: labPrefix,
  /** glue between prefix and id */
  prefixSeparator: z.string().max(8).default('-'),
  /** libp2p private network: only agents holding this pre-shared key can connect */
  privateNetwork: z.strictObject({ pskFile: z.string().min(1) }).optional(),
  peers: z.array(peerSchema).prefault([]),
  sync: z.strictObject({
    /** objects per batch frame */
    batchSize: z.number().int().min(1).max(MAX_BATCH_OBJECTS).default(DEFAULT_BATCH_OBJECTS),
    /** objects asked for per pull request */
    window: z.number().int().min(1).max(MAX_PULL_WINDOW).default(DEFAULT_PULL_WINDOW),
    /**
     * frame compression of protocol-2 sessions (agent/sync/compression-policy.ts):
     * `auto` on every link but loopback, `off`, or a codec to prefer
     * (`zstd` needs Node 22.15+; older nodes use brotli instead)
     */
    compression: z.enum(['auto', 'off', ...CODEC_NAMES]).default('auto')
  }).prefault({}),
  /** the echo-loop guard (agent/apply/echo-guard.ts): stops an object bouncing between two instances that each change what is written into them */
  echoGuard: z.strictObject({
    enabled: z.boolean().default(true),
    /** consecutive round trips with the same fields changed, and no one editing, that make a loop */
    bounces: z.number().int().min(2).max(20).default(3),
    /** longest time from a write into the instance to the instance's change of it that counts as an echo (default: 2 × instance.pollInterval + 30s for SENAITE, 30s otherwise) */
    window: durationSchema.optional()
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
  }).prefault({}),
  history: z.strictObject({
    /** versions kept per object in its history (GET /api/objects/:uid/history); 0 keeps none */
    versions: z.number().int().min(0).max(MAX_HISTORY_VERSIONS).default(DEFAULT_HISTORY_VERSIONS)
  }).prefault({}),
  provenance: z.strictObject({
    /** refuse pulled versions without a signature (parked as BAD_SIGNATURE), once every agent of the mesh signs */
    requireSigned: z.boolean().default(false)
  }).prefault({})
})

export type AgentConfigInput = z.input<typeof configSchema>
export type AgentConfig = z.output<typeof configSchema>
export type PeerConfig = AgentConfig['peers'][number]
export type TypeRules = PeerConfig['types']
