/**
 * In-process microbenchmark of an incremental sync's two halves, without the
 * network or a second process: A's transaction of 1,000 edits through
 * `writeDocuments` (the document API's path), then B's apply of those edits
 * as batch frames built the way a serve session builds them (toWire + JSON
 * splice), decoded and applied with applyRemoteBatch. Both stores first hold
 * the same --objects generated objects. Reports the wall and CPU time of each
 * half, best of --rounds, so a change to either path can be judged on a busy
 * machine.
 *
 *   node dist/bench/edit-micro.js [--objects 50000] [--edits 1000] [--batch-size 500] [--rounds 5] [--profile FILE.cpuprofile] [--compare-past] [--no-signed] [--history 20]
 *
 * A signs its versions as an agent does (its key, groups of SIGN_GROUP_MAX)
 * and B checks them before applying; --no-signed writes unsigned versions
 * (as a store before signed provenance). --history N sets both stores'
 * history.versions (0: no history rows and no past versions).
 * --profile writes a CPU profile of the timed rounds alone (not the seeding).
 * --compare-past runs it all four times in this process, on fresh stores,
 * alternating: with no past versions kept (the baseline: the store before
 * the three-way merge) and as labmesh runs (past versions kept as merge
 * bases, store/past-versions.ts), printing one line each.
 */
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { applyRemoteBatch, type ApplyContext } from '../agent/apply/apply-remote.js'
import { createEmbeddedConnector } from '../agent/connectors/embedded.js'
import { createRng, editObject } from '../agent/demo/lims-data.js'
import { writeDocuments, type DocumentInput } from '../agent/apply/local-writes.js'
import { compileInboundRules, inboundRulesHash } from '../agent/rules/inbound.js'
import { toWire } from '../store/stored-wire.js'
import type { PeerConfig } from '../config/schema.js'
import { encodeJsonFrame, FrameDecoder } from '../protocol/codec.js'
import { DEFAULT_HISTORY_VERSIONS, PROTOCOL_VERSION } from '../protocol/constants.js'
import { decodeServerMessage } from '../protocol/decode.js'
import { type BatchMessage } from '../protocol/messages.js'
import type { ObjectVersion } from '../protocol/object.js'
import { localBlobAccess } from '../agent/apply/blob-access.js'
import { createBlobStore } from '../store/blobs/blob-store.js'
import { createLevelStore } from '../store/level-store.js'
import type { StoredObject } from '../store/types.js'
import { editTargetPicker } from './agents/agent-worker.js'
import { buildFrames } from './apply-micro.js'
import { isMainModule, parseBenchArgs } from './lib/args.js'
import { createTempDir } from './lib/tmp.js'
import { createProvenanceChecker } from '../agent/apply/provenance.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createVersionSigner, type VersionSigner } from '../protocol/provenance.js'

const DEFAULTS = Object.freeze({ objects: 50_000, edits: 1000, batchSize: 500, rounds: 5, seed: 1, profile: '', comparePast: false, signed: true, history: DEFAULT_HISTORY_VERSIONS })

type Flags = typeof DEFAULTS

const toInput = (o: ObjectVersion): DocumentInput => ({ uid: o.uid, type: o.type, id: o.id, parent: o.parent, refs: o.refs, data: o.data })

function frameOf (stored: readonly StoredObject[], lastSeq: number): Uint8Array {
  const parts = stored.map((o) => JSON.stringify(toWire(o)))
  return encodeJsonFrame(`{"type":"batch","v":${PROTOCOL_VERSION},"id":1,"changes":[${parts.join(',')}],"lastSeq":${lastSeq},"last":false,"more":true,"remaining":0}`)
}

function decode (decoder: FrameDecoder, frame: Uint8Array): BatchMessage[] {
  const out: BatchMessage[] = []
  for (const value of decoder.decode(frame)) {
    const r = decodeServerMessage(value)
    if (!r.ok || r.message.type !== 'batch') throw new Error('bad frame')
    out.push(r.message)
  }
  return out
}

const cpuMs = (since: NodeJS.CpuUsage): number => { const c = process.cpuUsage(since); return (c.user + c.system) / 1000 }

export interface EditRound { readonly writeMs: number, readonly writeCpuMs: number, readonly applyMs: number, readonly applyCpuMs: number }

async function main (): Promise<void> {
  const flags = parseBenchArgs(process.argv.slice(2), { ...DEFAULTS })
  const key = flags.signed ? await generateKeyPair('Ed25519') : undefined
  const signer = key !== undefined ? createVersionSigner('lab-a', peerIdFromPrivateKey(key).toString(), key.raw) : undefined
  if (!flags.comparePast) return await measure(flags, 'labmesh', undefined, signer)
  // twice each, alternating: the first run in a process pays for warming up the JIT
  for (let i = 0; i < 2; i++) {
    await measure(flags, 'baseline: no past versions', 0, signer)
    await measure(flags, 'labmesh (past versions kept)', undefined, signer)
  }
}

// one straight run of seeding and rounds (over 80 lines): splitting it would only pass the stores and targets around
async function measure (flags: Flags, label: string, pastVersions: number | undefined, signer: VersionSigner | undefined): Promise<void> {
  const tmp = await createTempDir('edit-micro')
  const stores = { historyVersions: flags.history, ...(pastVersions !== undefined ? { pastVersions } : {}) }
  const a = createLevelStore({ location: join(tmp.path, 'a'), domain: 'lab-a', ...stores })
  const b = createLevelStore({ location: join(tmp.path, 'b'), domain: 'lab-b', ...stores })
  await a.open()
  await b.open()
  const peer = { name: 'lab-a', peerId: 'peer-a', prefix: '', types: { only: [], skip: [], prefixable: [], readOnly: [], updateOnly: [] }, import: { users: false, registry: false, settings: false } } as unknown as PeerConfig
  const rules = compileInboundRules({ domain: 'lab-b', localPrefix: '', prefixSeparator: '-' }, peer)
  const ctx: ApplyContext = { store: b, connector: createEmbeddedConnector(), rules, rulesHash: inboundRulesHash(rules), peerId: 'peer-a', now: Date.now, fetch: async () => { throw new Error('no dependency should be missing') }, provenance: createProvenanceChecker(), blobs: localBlobAccess(createBlobStore(join(tmp.path, 'blobs'))) }
  const decoder = new FrameDecoder()
  const writer = { store: a, domain: 'lab-a', now: Date.now, rules: [], ...(signer !== undefined ? { signer } : {}) }
  try {
    // both hold the same objects: A by applying them as its own, B by pulling them
    const frames = buildFrames(flags.objects, flags.seed, flags.batchSize)
    let seq = 0
    const pick = editTargetPicker(flags.objects, flags.edits)
    const targets: string[] = []
    let index = 0
    for (const frame of frames) {
      for (const batch of decode(decoder, frame)) {
        await applyRemoteBatch(ctx, batch.changes, { seq: batch.lastSeq, epoch: 'e', servesHash: undefined })
        await writeDocuments(writer, batch.changes.map((c) => toInput(c as ObjectVersion)))
        for (const c of batch.changes) if (pick(c as ObjectVersion, index++)) targets.push(c.uid)
        seq = batch.lastSeq
      }
    }
    // A wrote its objects as its own versions {lab-a: 1}: B's copies (pulled) carry the generator's vectors; move B to A's
    const all = (await a.listObjects({ limit: flags.objects })).items
    for (let i = 0; i < all.length; i += flags.batchSize) {
      for (const batch of decode(decoder, frameOf(all.slice(i, i + flags.batchSize), ++seq))) await applyRemoteBatch(ctx, batch.changes, { seq, epoch: 'e', servesHash: undefined })
    }
    process.stderr.write(`${flags.objects} objects in both stores, ${targets.length} edit targets\n`)
    const rounds: EditRound[] = []
    const session = flags.profile !== '' ? new Session() : undefined
    if (session !== undefined) {
      session.connect()
      await session.post('Profiler.enable')
      await session.post('Profiler.start')
    }
    for (let r = 0; r < flags.rounds; r++) {
      const rng = createRng(`edit-round-${r}`)
      const inputs = (await a.getObjects(targets)).map((o) => toInput(editObject(o!, rng)))
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const written = await writeDocuments(writer, inputs)
      const writeMs = performance.now() - t0
      const writeCpuMs = cpuMs(c0)
      const out = []
      for (let i = 0; i < written.length; i += flags.batchSize) out.push(frameOf(written.slice(i, i + flags.batchSize), ++seq))
      const c1 = process.cpuUsage()
      const t1 = performance.now()
      for (const frame of out) {
        for (const batch of decode(decoder, frame)) await applyRemoteBatch(ctx, batch.changes, { seq: batch.lastSeq, epoch: 'e', servesHash: undefined })
      }
      const applyMs = performance.now() - t1
      rounds.push({ writeMs: Math.round(writeMs * 10) / 10, writeCpuMs: Math.round(writeCpuMs * 10) / 10, applyMs: Math.round(applyMs * 10) / 10, applyCpuMs: Math.round(cpuMs(c1) * 10) / 10 })
      process.stderr.write(`round ${r + 1}: ${JSON.stringify(rounds.at(-1))}\n`)
    }
    if (session !== undefined) {
      const { profile } = await session.post('Profiler.stop')
      await writeFile(flags.profile, JSON.stringify(profile))
      session.disconnect()
    }
    const best = (key: keyof EditRound): number => Math.min(...rounds.map((x) => x[key]))
    // the median beside the best: a round's CPU includes LevelDB's compactions, which land in some rounds and not others
    const median = (key: keyof EditRound): number => { const s = rounds.map((x) => x[key]).sort((x, y) => x - y); return s[(s.length - 1) >> 1]! }
    const figures = (pick: (key: keyof EditRound) => number): EditRound => ({ writeMs: pick('writeMs'), writeCpuMs: pick('writeCpuMs'), applyMs: pick('applyMs'), applyCpuMs: pick('applyCpuMs') })
    process.stdout.write(JSON.stringify({ run: label, objects: flags.objects, edits: targets.length, signed: signer !== undefined, history: flags.history, best: figures(best), median: figures(median), rounds }) + '\n')
  } finally {
    await a.close()
    await b.close()
    await tmp.remove()
  }
}

if (isMainModule(import.meta.url)) await main()
