/**
 * The record text putObject writes (store/record-text.ts): with the data's
 * text given, it is byte for byte JSON.stringify of the stored record, and
 * the text the former rest-destructuring recordText made, for records with
 * and without every optional field.
 */
import { describe, expect, it } from 'vitest'
import { storedRecord } from '../../store/record-text.js'
import type { ObjectWrite, StoredObject } from '../../store/types.js'
import { withSeed, type Rng } from '../helpers/seeded.js'

const FILE = 'test/unit/record-text.test.ts'

/** recordText as it was before round four: the reference */
function formerRecordText (stored: StoredObject, dataText: string): string {
  const { data: _data, ...rest } = stored // eslint-disable-line @typescript-eslint/no-unused-vars
  const text = JSON.stringify(rest)
  const at = text.indexOf(',"vector":')
  return `${text.slice(0, at)},"data":${dataText}${text.slice(at)}`
}

const str = (rng: Rng): string => rng.pick(['', 'µg/L', 'a"b', ',"vector":{', 'ü😀', 'x\\y', 'lab-b'])

function write (rng: Rng): ObjectWrite {
  const version = () => ({
    uid: `u-${str(rng)}`,
    type: rng.pick(['Sample', 'Analysis', '@registry:x']),
    id: str(rng),
    parent: rng.chance(0.5) ? null : str(rng),
    refs: Array.from({ length: rng.int(3) }, () => str(rng)),
    data: Object.fromEntries(Array.from({ length: rng.int(5) }, (_, i) => [rng.chance(0.2) ? String(i) : `${str(rng)}${i}`, rng.chance(0.5) ? str(rng) : { vector: rng.int(9) }])),
    vector: Object.fromEntries(Array.from({ length: 1 + rng.int(3) }, (_, i) => [`lab-${i}`, 1 + rng.int(99)])),
    origin: str(rng),
    deleted: rng.chance(0.2),
    at: rng.int(2 ** 40),
    ...(rng.chance(0.7) ? { sig: { by: 'lab-a', peer: 'P', h: 'h'.repeat(43), sig: 's'.repeat(86), ...(rng.chance(0.5) ? { i: rng.int(32), n: 32, p: 'p'.repeat(215) } : {}) } } : {})
  })
  return {
    ...version(),
    conflicts: rng.chance(0.3) ? [version()] : [],
    via: rng.chance(0.5) ? null : str(rng),
    ...(rng.chance(0.3) ? { viaEpoch: 'e' + str(rng) } : {}),
    ...(rng.chance(0.3) ? { conflictVia: [str(rng)] } : {})
  }
}

describe('the stored record text', () => {
  it('is JSON.stringify of the record, as the former recordText made it', async () => {
    await withSeed('record-text', FILE, async (rng) => {
      for (let i = 0; i < 2000; i++) {
        const object = write(rng)
        const seq = 1 + rng.int(1e9)
        const plain = storedRecord(object, seq, undefined)
        const spliced = storedRecord(object, seq, { dataText: JSON.stringify(object.data) })
        expect(spliced.stored).toEqual(plain.stored)
        expect(spliced.text).toBe(plain.text)
        expect(spliced.text).toBe(formerRecordText(plain.stored, JSON.stringify(object.data)))
      }
    })
  })
})
