/**
 * Serving cuts a stored record's JSON text into its wire JSON without parsing
 * it (agent/wire.ts storedJsonToWire). Whatever it returns must be exactly
 * JSON.stringify(toWire(record)), with the record's type and via; records it
 * cannot cut (siblings, escapes, other shapes) must be left to the parser.
 * Records are written through a real LevelDB store (putObject decides the
 * stored text) and read back with readFeed, as a serve session reads them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { generateLimsObjects } from '../../agent/demo/lims-data.js'
import { storedJsonToWire, toWire } from '../../store/stored-wire.js'
import { createLevelStore } from '../../store/level-store.js'
import type { ObjectWrite, Store, StoredObject } from '../../store/types.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'

let dir: string
let store: Store

const generated = [...generateLimsObjects({ domain: 'lab-a', seed: 5, count: 200 })]
const base = generated[150]!
const sibling = { ...generated[151]!, uid: base.uid, vector: { 'lab-b': 3 } }

const records: ObjectWrite[] = [
  ...generated.map((o, i) => ({
    ...o,
    conflicts: [],
    via: i % 3 === 0 ? null : i % 3 === 1 ? 'lab-a' : 'hub.1_x-y',
    ...(i % 3 !== 0 && i % 2 === 0 ? { viaEpoch: '0f1e2d3c4b5a6978' } : {})
  })),
  { ...base, uid: 'with-siblings', conflicts: [sibling], via: 'lab-a' },
  { ...base, uid: 'tomb', data: {}, deleted: true, conflicts: [], via: null },
  { ...base, uid: 'tail-in-data', data: { a: 1, conflicts: [], via: null, seq: 5 }, conflicts: [], via: 'lab-a' },
  { ...base, uid: 'tail-text-in-data', data: { note: ',"conflicts":[],"via":null,"seq":5}' }, conflicts: [], via: null },
  { ...base, uid: 'quote"in-uid', conflicts: [], via: null },
  { ...base, uid: 'esc-type', type: 'Odd\\Type"x', conflicts: [], via: null },
  { ...base, uid: 'unicode', data: { name: 'Zoë ≤ 5 µg 😀' }, conflicts: [], via: 'lab-b' },
  { ...base, uid: 'siblings-tail-in-sibling-data', conflicts: [{ ...sibling, data: { b: 2, conflicts: [], via: null, seq: 7 } }], via: null }
]

beforeAll(async () => {
  dir = await makeTempDir()
  store = createLevelStore({ location: join(dir, 'store'), domain: 'lab-z' })
  await store.open()
  await store.write(async (tx) => {
    await tx.getMany(records.map((r) => r.uid))
    for (const r of records) tx.putObject(r)
  })
})

afterAll(async () => {
  await store.close()
  await removeDir(dir)
})

describe('storedJsonToWire', () => {
  it('cuts every plain stored record to exactly its wire JSON, and leaves the rest to the parser', async () => {
    const page = await store.readFeed(0, 1000)
    expect(page.entries.length).toBe(records.length)
    let cut = 0
    for (const entry of page.entries) {
      const record = JSON.parse(entry.json) as StoredObject
      const plain = storedJsonToWire(entry.json)
      const expected = JSON.stringify(toWire(record))
      if (plain === undefined) {
        // only records that are not plain may take the slow path
        const simple = record.conflicts.length === 0 && !/["\\]/.test(record.uid + record.type)
        expect(simple).toBe(false)
        continue
      }
      cut++
      expect(record.conflicts).toEqual([])
      expect(plain.json).toBe(expected)
      expect(plain.type).toBe(record.type)
      expect(plain.via).toBe(record.via)
      expect(plain.viaEpoch).toBe(record.viaEpoch)
    }
    expect(cut).toBe(generated.length + 4)
  })

  it('refuses texts that are not a plain stored record', () => {
    const good = JSON.stringify({ uid: 'u', type: 't', id: 'i', parent: null, refs: [], data: {}, vector: { a: 1 }, origin: 'a', deleted: false, at: 1, conflicts: [], via: null, seq: 3 })
    expect(storedJsonToWire(good)?.json).toBe('{"uid":"u","type":"t","id":"i","parent":null,"refs":[],"data":{},"vector":{"a":1},"origin":"a","deleted":false,"at":1}')
    for (const bad of [
      good.replace('"seq":3}', '"seq":3,"x":1}'),
      good.replace('"via":null', '"via":"a\\"b"'),
      good.replace('"conflicts":[]', '"conflicts":[{}]'),
      good.replace('{"uid":"u","type":"t",', '{"type":"t","uid":"u",'),
      good.replace('"seq":3', '"seq":"3"'),
      '',
      'null'
    ]) expect(storedJsonToWire(bad)).toBeUndefined()
  })
})
