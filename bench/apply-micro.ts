/**
 * In-process microbenchmark of the puller's hot path, without A, the network
 * or another process: batch frames built exactly as a serve session builds
 * them (toWire + JSON splice, closed at BATCH_TARGET_BYTES or --batch-size
 * objects) are decoded (FrameDecoder + decodeServerMessage) and applied with
 * applyRemoteBatch into a fresh LevelDB store, frame after frame, as a pull
 * session does. Reports wall and CPU time per stage and peak heap, so an
 * optimisation of the apply path can be judged on a busy machine (take the
 * best of several --rounds).
 *
 * With --signed (the default) the versions carry signatures as a signing
 * agent's seed makes them (canonical data, groups of SIGN_GROUP_MAX), so the
 * provenance check runs as in a real pull; --no-signed applies unsigned ones.
 * --history N sets the store's history.versions (0: no history rows).
 * --protocol 1,2 (the default) alternates rounds of the two sync protocol
 * versions — JSON batch frames, and version 2's bulk frames whose data texts
 * the apply path stores as received — and reports the best round of each.
 *
 * --no-bulk-load writes the type index with every batch, as before bulk
 * loads (store/type-index.ts); with it (the default) the index is built
 * after the last batch, and that build is timed apart (buildMs).
 *
 *   node dist/bench/apply-micro.js [--objects 50000] [--batch-size 500] [--rounds 3] [--no-signed] [--history 20] [--protocol 1,2] [--no-bulk-load]
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateLimsObjects } from '../agent/demo/lims-data.js'
import { applyRemoteBatch, type ApplyContext } from '../agent/apply/apply-remote.js'
import { createEmbeddedConnector } from '../agent/connectors/embedded.js'
import { compileInboundRules, inboundRulesHash } from '../agent/rules/inbound.js'
import { toWire } from '../store/stored-wire.js'
import type { PeerConfig } from '../config/schema.js'
import { encodeJsonFrame, FrameDecoder } from '../protocol/codec.js'
import { BATCH_TARGET_BYTES, PROTOCOL_VERSION } from '../protocol/constants.js'
import { bulkBatchText } from '../protocol/bulk-frame.js'
import { serverDecoderFor } from '../protocol/session-decoders.js'
import type { SyncVersion } from '../protocol/versions.js'
import { type BatchMessage } from '../protocol/messages.js'
import { localBlobAccess } from '../agent/apply/blob-access.js'
import { createBlobStore } from '../store/blobs/blob-store.js'
import { createLevelStore } from '../store/level-store.js'
import { isMainModule, parseBenchArgs } from './lib/args.js'
import { createTempDir } from './lib/tmp.js'
import { createProvenanceChecker } from '../agent/apply/provenance.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { canonicalize } from '../protocol/canonical.js'
import { DEFAULT_HISTORY_VERSIONS } from '../protocol/constants.js'
import type { ObjectVersion } from '../protocol/object.js'
import { contentHash, createVersionSigner, signVersions, type VersionSigner } from '../protocol/provenance.js'

const DEFAULTS = Object.freeze({ objects: 50_000, batchSize: 500, rounds: 3, seed: 1, writeBufferMb: 0, leveldb: '{}', signed: true, history: DEFAULT_HISTORY_VERSIONS, protocol: '1,2', bulkLoad: false })

/** The generated objects as a signing agent writes them: canonical data, signed in groups of SIGN_GROUP_MAX. */
function signed (list: ObjectVersion[], signer: VersionSigner): ObjectVersion[] {
  const versions = list.map((o) => ({ ...o, data: canonicalize(o.data) }))
  const sigs = signVersions(signer, versions, versions.map((v) => contentHash(v, v.id).h))
  return versions.map((v, i) => ({ ...v, sig: sigs[i]! }))
}

export function buildFrames (objects: number, seed: number, batchSize: number, signer?: VersionSigner, version: SyncVersion = PROTOCOL_VERSION): Uint8Array[] {
  const frames: Uint8Array[] = []
  let parts: string[] = []
  let bytes = 0
  let seq = 0
  const flush = (): void => {
    frames.push(encodeJsonFrame(version === PROTOCOL_VERSION
      ? `{"type":"batch","v":${PROTOCOL_VERSION},"id":1,"changes":[${parts.join(',')}],"lastSeq":${seq},"last":false,"more":true,"remaining":${objects - seq}}`
      : bulkBatchText({ id: 1, lastSeq: seq, last: false, more: true, remaining: objects - seq }, parts)))
    parts = []
    bytes = 0
  }
  const generated = generateLimsObjects({ domain: 'lab-a', seed, count: objects })
  for (const o of signer !== undefined ? signed([...generated], signer) : generated) {
    const json = JSON.stringify(toWire({ ...o, seq: ++seq, conflicts: [], via: null }))
    if ((bytes + json.length > BATCH_TARGET_BYTES && parts.length > 0) || parts.length >= batchSize) flush()
    parts.push(json)
    bytes += json.length
  }
  if (parts.length > 0) flush()
  return frames
}

/** CPU time of this process's main thread alone (ms; Linux), to tell JS work from LevelDB's threads. */
function mainThreadCpuMs (): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return Number.NaN
  }
}

export interface MicroRound { readonly buildMs: number, readonly wallMs: number, readonly cpuMs: number, readonly mainThreadCpuMs: number, readonly decodeMs: number, readonly applyMs: number, readonly objectsPerSecond: number, readonly peakHeapMiB: number }

export async function round (frames: readonly Uint8Array[], objects: number, writeBufferMb: number, leveldb: Readonly<Record<string, unknown>> = {}, historyVersions = DEFAULT_HISTORY_VERSIONS, version: SyncVersion = PROTOCOL_VERSION, bulkLoad = true): Promise<MicroRound> {
  const tmp = await createTempDir('apply-micro')
  const store = createLevelStore({ location: join(tmp.path, 'store'), domain: 'lab-b', historyVersions, ...(bulkLoad ? {} : { bulkLoad: false as const }), ...(writeBufferMb > 0 ? { writeBufferSize: writeBufferMb * 1048576 } : {}), leveldb })
  await store.open()
  const peer = { name: 'lab-a', peerId: 'peer-a', prefix: '', types: { only: [], skip: [], prefixable: [], readOnly: [], updateOnly: [] }, import: { users: false, registry: false, settings: false } } as unknown as PeerConfig
  const rules = compileInboundRules({ domain: 'lab-b', localPrefix: '', prefixSeparator: '-' }, peer)
  const ctx: ApplyContext = {
    store,
    connector: createEmbeddedConnector(),
    rules,
    rulesHash: inboundRulesHash(rules),
    peerId: 'peer-a',
    now: Date.now,
    fetch: async () => { throw new Error('no dependency should be missing') },
    provenance: createProvenanceChecker(),
    blobs: localBlobAccess(createBlobStore(join(tmp.path, 'blobs')))
  }
  // bodies as bytes, as a sync session's FramedStream hands them to its decoder (agent/sync/framed-stream.ts `bodies`)
  const decoder = new FrameDecoder({ parse: (body) => body.subarray() })
  const decode = serverDecoderFor(version)
  let peakHeap = 0
  let decodeMs = 0
  let applyMs = 0
  let buildMs = 0
  const cpu0 = process.cpuUsage()
  const main0 = mainThreadCpuMs()
  const t0 = performance.now()
  try {
    for (const frame of frames) {
      const t1 = performance.now()
      const batches: BatchMessage[] = []
      for (const value of decoder.decode(frame)) {
        const r = decode(value)
        if (!r.ok || r.message.type !== 'batch') throw new Error('bad frame')
        batches.push(r.message)
      }
      const t2 = performance.now()
      for (const b of batches) await applyRemoteBatch(ctx, b.changes, { seq: b.lastSeq, epoch: 'e', servesHash: undefined }, undefined, b.dataTexts)
      applyMs += performance.now() - t2
      decodeMs += t2 - t1
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
    }
    if (store.info().objects !== objects) throw new Error(`applied ${store.info().objects} of ${objects}`)
    const b0 = performance.now()
    await store.finishBulkLoad()
    buildMs = performance.now() - b0
  } finally {
    await store.close()
    await tmp.remove()
  }
  const wallMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const mainMs = mainThreadCpuMs() - main0
  return {
    buildMs: Math.round(buildMs),
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    mainThreadCpuMs: mainMs,
    decodeMs: Math.round(decodeMs),
    applyMs: Math.round(applyMs),
    objectsPerSecond: Math.round(objects / wallMs * 1000),
    peakHeapMiB: Math.round(peakHeap / 1048576)
  }
}

if (isMainModule(import.meta.url)) {
  const flags = parseBenchArgs(process.argv.slice(2), { ...DEFAULTS })
  const key = flags.signed ? await generateKeyPair('Ed25519') : undefined
  const signer = key !== undefined ? createVersionSigner('lab-a', peerIdFromPrivateKey(key).toString(), key.raw) : undefined
  const versions = flags.protocol.split(',').map(Number) as SyncVersion[]
  const frames = new Map(versions.map((v) => [v, buildFrames(flags.objects, flags.seed, flags.batchSize, signer, v)]))
  process.stderr.write(`${frames.get(versions[0]!)!.length} frames per version\n`)
  const rounds = new Map<SyncVersion, MicroRound[]>(versions.map((v) => [v, []]))
  // versions alternate round by round, so that a busy machine weighs on both alike
  for (let i = 0; i < flags.rounds; i++) {
    for (const v of versions) {
      const r = await round(frames.get(v)!, flags.objects, flags.writeBufferMb, JSON.parse(flags.leveldb) as Record<string, unknown>, flags.history, v, flags.bulkLoad)
      rounds.get(v)!.push(r)
      process.stderr.write(`round ${i + 1}, protocol ${v}: ${JSON.stringify(r)}\n`)
    }
  }
  const best = Object.fromEntries([...rounds].map(([v, list]) => [`protocol${v}`, [...list].sort((a, b) => a.cpuMs - b.cpuMs)[0]]))
  process.stdout.write(JSON.stringify({ objects: flags.objects, batchSize: flags.batchSize, best, rounds: Object.fromEntries(rounds) }) + '\n')
}
