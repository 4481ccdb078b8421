/**
 * The apply path and the object size limit: versions pulled from a remote
 * whose stored record — with this store's own fields and any conflict
 * siblings — would not fit in one frame are parked as OBJECT_TOO_LARGE, and
 * the rest of the batch applies. applyRemoteBatch on a real LevelDB store in
 * a temporary directory, with wire objects built by hand.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyRemoteBatch, type ApplyContext } from '../../agent/apply/apply-remote.js'
import { localBlobAccess } from '../../agent/apply/blob-access.js'
import { writeDocuments } from '../../agent/apply/local-writes.js'
import type { InstanceConnector } from '../../agent/connectors/connector.js'
import { createEmbeddedConnector } from '../../agent/connectors/embedded.js'
import { createMemoryConnector } from '../../agent/connectors/memory.js'
import { compileInboundRules, inboundRulesHash } from '../../agent/rules/inbound.js'
import { MAX_CONFLICT_SIBLINGS, MAX_ID_LENGTH, MAX_LOCAL_OBJECT_BYTES, MAX_OBJECT_BYTES } from '../../protocol/constants.js'
import type { WireObject } from '../../protocol/object.js'
import { createBlobStore } from '../../store/blobs/blob-store.js'
import { createLevelStore } from '../../store/level-store.js'
import type { Store } from '../../store/types.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig } from '../helpers/nodes.js'
import { auditStore } from '../helpers/store-audit.js'
import { createProvenanceChecker } from '../../agent/apply/provenance.js'

const AT = 1_700_000_000_000
const MiB = 1024 * 1024

function wire (uid: string, data: Record<string, unknown>, vector: Record<string, number> = { 'lab-a': 1 }): WireObject {
  return { uid, type: 'Sample', id: uid, parent: null, refs: [], data, vector, origin: 'lab-a', deleted: false, at: AT }
}

/** a version whose wire JSON takes exactly `bytes` */
function wireOfSize (uid: string, bytes: number): WireObject {
  const base = JSON.stringify(wire(uid, { filler: '' })).length
  return wire(uid, { filler: 'x'.repeat(bytes - base) })
}

describe('applying versions too large to store', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-apply-size-' })
  let store: Store

  beforeEach(async () => {
    store = createLevelStore({ location: join(mesh.root, 'store'), domain: 'lab-b' })
    await store.open()
  })

  afterEach(async () => {
    await store.close()
  })

  /** lab-b's apply context for batches from lab-a */
  function contextFor (connector: InstanceConnector = createEmbeddedConnector(), peerExtra: Record<string, unknown> = {}): ApplyContext {
    const config = meshConfig(mesh.node('lab-b'), [{ node: mesh.node('lab-a'), pull: true, extra: peerExtra }])
    const rules = compileInboundRules(config, config.peers[0]!)
    return {
      store,
      connector,
      rules,
      rulesHash: inboundRulesHash(rules),
      peerId: mesh.node('lab-a').peerId,
      now: Date.now,
      fetch: async (uids) => ({ objects: [], missing: uids }),
      provenance: createProvenanceChecker(),
      blobs: localBlobAccess(createBlobStore(join(mesh.root, 'blobs')))
    }
  }

  it('a version whose id, with the peer\'s prefix, would pass the id limit is parked as ID_TOO_LONG; the rest applies', async () => {
    const ctx = contextFor(createEmbeddedConnector(), { prefix: 'LAB-A', types: { prefixable: ['Sample'] } })
    const fits = { ...wire('fits', { n: 1 }), id: 'x'.repeat(MAX_ID_LENGTH - 'LAB-A-'.length) }
    const over = { ...wire('over', { n: 2 }), id: 'y'.repeat(MAX_ID_LENGTH - 'LAB-A-'.length + 1) }
    const stats = await applyRemoteBatch(ctx, [fits, over, wire('s-3', { n: 3 })], { seq: 3, epoch: 'e1' })
    expect(stats).toMatchObject({ received: 3, applied: 2, failed: 1 })
    expect((await store.getObject('fits'))?.id).toHaveLength(MAX_ID_LENGTH)
    expect(await store.getObject('over')).toBeUndefined()
    const [parked] = await store.listFailed()
    expect(parked).toMatchObject({ uid: 'over', code: 'ID_TOO_LONG', peer: 'lab-a' })
    expect(parked!.reason).toContain(`${MAX_ID_LENGTH + 1} characters, over the ${MAX_ID_LENGTH}-character limit`)
    expect(parked!.reason).toContain('shorten peers[].prefix for lab-a')
    expect((await store.getCheckpoint(ctx.peerId))?.seq).toBe(3)
    expect(await auditStore(store)).toEqual([])
  })

  it('a version that would give an object more concurrent versions than one frame may carry is parked as TOO_MANY_CONFLICTS', async () => {
    const ctx = contextFor()
    // held here: a version of lab-b's own
    await writeDocuments({ store, domain: 'lab-b', now: Date.now, rules: [] }, [{ uid: 'x', type: 'Sample', id: 'x', data: { by: 'lab-b' } }])
    // from lab-a: its version and the most siblings a wire object may carry, all concurrent with each other and with ours
    const siblings = Array.from({ length: MAX_CONFLICT_SIBLINGS }, (_, i) => ({ ...wire('x', { by: `lab-${i}` }, { [`lab-${i}`]: 1 }), origin: `lab-${i}` }))
    const stats = await applyRemoteBatch(ctx, [{ ...wire('x', { by: 'lab-a' }), conflicts: siblings }, wire('s-2', { n: 2 })], { seq: 2, epoch: 'e1' })
    expect(stats).toMatchObject({ received: 2, applied: 1, failed: 1 })
    expect((await store.getObject('x'))!.conflicts).toHaveLength(0)
    const [parked] = await store.listFailed()
    expect(parked).toMatchObject({ uid: 'x', code: 'TOO_MANY_CONFLICTS' })
    expect(parked!.reason).toContain(`${MAX_CONFLICT_SIBLINGS + 2} concurrent versions, over the ${MAX_CONFLICT_SIBLINGS + 1}`)
    expect(await auditStore(store)).toEqual([])
  })

  it('a version too large to store is parked as OBJECT_TOO_LARGE; the rest of the batch applies and the checkpoint advances', async () => {
    const ctx = contextFor()
    const batch = [wire('s-1', { n: 1 }), wire('big', { filler: 'x'.repeat(MAX_OBJECT_BYTES) }), wire('s-2', { n: 2 })]
    const stats = await applyRemoteBatch(ctx, batch, { seq: 3, epoch: 'e1' })
    expect(stats).toMatchObject({ received: 3, applied: 2, failed: 1 })
    expect(await store.getObject('big')).toBeUndefined()
    expect((await store.getObject('s-2'))?.data).toEqual({ n: 2 })
    const [parked] = await store.listFailed()
    expect(parked).toMatchObject({ uid: 'big', code: 'OBJECT_TOO_LARGE', peer: 'lab-a' })
    expect(parked!.reason).toMatch(/^the version of object big from peer lab-a would take \d+ bytes as JSON here, over the 8323072-byte limit .*make it smaller where it was written \(lab-a\)/)
    expect((await store.getCheckpoint(ctx.peerId))?.seq).toBe(3)
    expect(await auditStore(store)).toEqual([])
  })

  it('a version that passes the limit only with this store\'s own fields (via, viaEpoch, seq) is parked, and the batch still commits', async () => {
    const ctx = contextFor()
    const stats = await applyRemoteBatch(ctx, [wireOfSize('edge', MAX_OBJECT_BYTES - 10), wire('s-1', { n: 1 })], { seq: 2, epoch: 'e1' })
    expect(stats).toMatchObject({ applied: 1, failed: 1 })
    expect((await store.listFailed()).map((f) => [f.uid, f.code])).toEqual([['edge', 'OBJECT_TOO_LARGE']])
    expect((await store.getCheckpoint(ctx.peerId))?.seq).toBe(2)
    // a newer, smaller version replaces the parked one
    await applyRemoteBatch(ctx, [wire('edge', { small: true }, { 'lab-a': 2 })], { seq: 3, epoch: 'e1' })
    expect((await store.getObject('edge'))?.data).toEqual({ small: true })
    expect(await store.listFailed()).toEqual([])
    expect(await auditStore(store)).toEqual([])
  })

  it('the largest version a local write may make is applied, even with a prefix rule lengthening its id', async () => {
    const ctx = contextFor(createEmbeddedConnector(), { prefix: 'LAB-A-PREFIX', types: { prefixable: ['Sample'] } })
    const stats = await applyRemoteBatch(ctx, [wireOfSize('largest', MAX_LOCAL_OBJECT_BYTES)], { seq: 1, epoch: 'e1' })
    expect(stats).toMatchObject({ applied: 1, failed: 0 })
    const stored = await store.getObject('largest')
    expect(stored?.id).toBe('LAB-A-PREFIX-largest')
    expect(Buffer.byteLength(JSON.stringify(stored))).toBeGreaterThan(MAX_LOCAL_OBJECT_BYTES)
    expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThanOrEqual(MAX_OBJECT_BYTES)
  })

  it('conflict siblings are kept while the holding fits, and a concurrent version that would pass the limit is parked', async () => {
    const ctx = contextFor()
    const blob = (mib: number, tag: string): Record<string, unknown> => ({ tag, filler: 'x'.repeat(Math.round(mib * MiB)) })
    await applyRemoteBatch(ctx, [wire('doc', blob(2.5, 'a'), { 'lab-a': 1 })], { seq: 1, epoch: 'e1' })
    await applyRemoteBatch(ctx, [wire('doc', blob(2.5, 'c'), { 'lab-c': 1 })], { seq: 2, epoch: 'e1' })
    // three versions of 2.5 MiB: 7.5 MiB, within the limit (counted once each)
    const third = await applyRemoteBatch(ctx, [wire('doc', blob(2.5, 'd'), { 'lab-d': 1 })], { seq: 3, epoch: 'e1' })
    expect(third).toMatchObject({ applied: 1, conflicts: 1, failed: 0 })
    expect((await store.getObject('doc'))?.conflicts.map((c) => c.data.tag)).toEqual(['c', 'd'])
    // a fourth would make 8.1 MiB
    const fourth = await applyRemoteBatch(ctx, [wire('doc', blob(0.6, 'e'), { 'lab-e': 1 }), wire('s-1', { n: 1 })], { seq: 5, epoch: 'e1' })
    expect(fourth).toMatchObject({ applied: 1, failed: 1 })
    const [parked] = await store.listFailed()
    expect(parked).toMatchObject({ uid: 'doc', code: 'OBJECT_TOO_LARGE' })
    expect(parked!.reason).toMatch(/^object doc would hold 4 concurrent versions taking ~\d+ bytes as JSON, over the 8323072-byte limit .*resolve the conflict/)
    const held = await store.getObject('doc')
    expect([held?.data.tag, ...held!.conflicts.map((c) => c.data.tag)]).toEqual(['a', 'c', 'd'])
    expect((await store.getCheckpoint(ctx.peerId))?.seq).toBe(5)
    expect(await auditStore(store)).toEqual([])
  })

  it('with a connector that writes its own instance, an oversized version is parked before the instance sees it', async () => {
    const instance = createMemoryConnector()
    const ctx = contextFor(instance)
    const stats = await applyRemoteBatch(ctx, [wire('s-1', { n: 1 }), wireOfSize('edge', MAX_OBJECT_BYTES - 10)], { seq: 2, epoch: 'e1' })
    expect(stats).toMatchObject({ applied: 1, failed: 1 })
    expect(instance.writes).toBe(1)
    expect(instance.get('edge')).toBeUndefined()
    expect((await store.listFailed()).map((f) => [f.uid, f.code])).toEqual([['edge', 'OBJECT_TOO_LARGE']])
  })
})
