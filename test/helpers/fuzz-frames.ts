/**
 * Hostile frames for the protocol fuzzers, from a seeded PRNG.
 *
 * Every "breaker" makes a message invalid by the protocol's own written
 * limits (protocol/constants.ts, the message shapes in messages.ts) — the
 * generator never asks the agent's validator, so a frame the agent accepts
 * although a breaker broke it is a finding, not a generator artefact.
 * Mutated frames (bit flips, splices) may or may not stay valid; sessions
 * therefore always end with a terminator that is invalid for certain.
 */
import * as lp from 'it-length-prefixed'
import {
  MAX_BATCH_OBJECTS, MAX_CONFLICT_SIBLINGS, MAX_DATA_DEPTH, MAX_DOMAIN_LENGTH, MAX_FRAME_BYTES, MAX_GET_UIDS, MAX_ID_LENGTH,
  MAX_PULL_WINDOW, MAX_REFS, MAX_SEQ, MAX_TYPE_LENGTH, MAX_UID_LENGTH, MAX_VECTOR_ENTRIES, PROTOCOL_VERSION
} from '../../protocol/constants.js'
import type { Rng } from './seeded.js'

type Json = Record<string, unknown>
const text = new TextEncoder()

/** One length-prefixed frame around arbitrary bytes (no size check: we are the attacker). */
export function rawFrame (body: Uint8Array | string): Uint8Array {
  return lp.encode.single(typeof body === 'string' ? text.encode(body) : body).subarray()
}

/** JSON text spliced into a message as is: nesting deeper than JSON.stringify can recurse. */
export class RawJson {
  constructor (readonly text: string) {}
}

/** JSON.stringify, with RawJson values spliced in as their text. */
export function toJsonText (value: unknown): string {
  const spliced: string[] = []
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (!(v instanceof RawJson)) return v
    spliced.push(v.text)
    return `\u0000raw${spliced.length - 1}\u0000`
  })
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => spliced[Number(i)]!)
}

export function jsonFrame (value: unknown): Uint8Array {
  return rawFrame(toJsonText(value))
}

const str = (n: number, c = 'x'): string => c.repeat(n)

export function randomUid (rng: Rng, length = 1 + rng.int(MAX_UID_LENGTH)): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789-_.'
  let out = ''
  for (let i = 0; i < length; i++) out += chars[rng.int(chars.length)]
  return out
}

/** A valid wire object (by the written limits) with a random shape. */
export function validObject (rng: Rng): Json {
  const vector: Record<string, number> = {}
  for (let i = 0, n = 1 + rng.int(4); i < n; i++) vector[`lab-${rng.int(50)}`] = 1 + rng.int(1000)
  return {
    uid: randomUid(rng, 8 + rng.int(24)),
    type: rng.pick(['Client', 'AnalysisRequest', 'Method', 'SampleType']),
    id: `ID-${rng.int(1e6)}`,
    parent: rng.chance(0.5) ? null : randomUid(rng, 12),
    refs: Array.from({ length: rng.int(3) }, () => randomUid(rng, 12)),
    data: { n: rng.int(100), s: 'text'.repeat(rng.int(5)) },
    vector,
    origin: `lab-${rng.int(50)}`,
    deleted: rng.chance(0.1),
    at: rng.int(2e12)
  }
}

/** Ways to make a field invalid; each entry returns a value that violates the field's written rule. */
type Breaker = (rng: Rng) => unknown
const wrongType = (rng: Rng, not: 'string' | 'number' | 'boolean' | 'object' | 'array'): unknown =>
  rng.pick(([['string', 'a string'], ['number', 7], ['boolean', true], ['object', { x: 1 }], ['array', [1]], ['null', null]] as Array<[string, unknown]>).filter(([k]) => k !== not).map(([, v]) => v))

const seqBreakers: Breaker[] = [() => -1, (rng) => -1 - rng.int(1e9), () => 0.5, () => MAX_SEQ + 2, () => 1e300, (rng) => wrongType(rng, 'number')]
const uidBreakers: Breaker[] = [() => '', () => str(MAX_UID_LENGTH + 1), (rng) => str(MAX_UID_LENGTH + 1 + rng.int(10_000)), (rng) => wrongType(rng, 'string')]
const domainBreakers: Breaker[] = [() => '', () => str(MAX_DOMAIN_LENGTH + 1), (rng) => wrongType(rng, 'string')]

function hugeVector (rng: Rng): Record<string, number> {
  const v: Record<string, number> = {}
  for (let i = 0, n = MAX_VECTOR_ENTRIES + 1 + rng.int(5000); i < n; i++) v[`d${i}`] = 1 + rng.int(100)
  return v
}

/** An object nested `depth` levels deep, as text (JSON.stringify would overflow the stack on it). */
function deepData (depth: number): RawJson {
  return new RawJson('{"a":'.repeat(depth - 1) + '{"leaf":1}' + '}'.repeat(depth - 1))
}

/** Field → breakers for a wire object (the ObjectVersion shape plus `conflicts`). */
const objectBreakers: Record<string, Breaker[]> = {
  uid: uidBreakers,
  type: [() => '', () => str(MAX_TYPE_LENGTH + 1), (rng) => wrongType(rng, 'string')],
  id: [() => str(MAX_ID_LENGTH + 1), (rng) => wrongType(rng, 'string')],
  parent: [() => '', () => str(MAX_UID_LENGTH + 1), () => 42, () => ['p']],
  refs: [() => Array.from({ length: MAX_REFS + 1 }, (_, i) => `r${i}`), () => [''], () => [str(MAX_UID_LENGTH + 1)], (rng) => wrongType(rng, 'array')],
  data: [() => [1, 2], () => 'data', () => null, () => 5, () => deepData(MAX_DATA_DEPTH + 1), (rng) => deepData(MAX_DATA_DEPTH + 1 + rng.int(20_000))],
  vector: [hugeVector, () => ({ a: -1 }), () => ({ a: 1.5 }), () => ({ a: '1' }), () => ({ a: 1e300 }), () => ({ '': 1 }), () => ({ [str(MAX_DOMAIN_LENGTH + 1)]: 1 }), () => [1, 2], () => null],
  origin: domainBreakers,
  deleted: [() => 'yes', () => 1, () => null],
  at: [() => -1, () => '2024-01-01', () => null, () => 1e400],
  conflicts: [(rng) => Array.from({ length: MAX_CONFLICT_SIBLINGS + 1 }, () => validObject(rng)), () => 'none', () => [null]]
}
const REQUIRED_OBJECT_FIELDS = ['uid', 'type', 'id', 'parent', 'refs', 'data', 'vector', 'origin', 'deleted', 'at']

/** A wire object broken in one field (or missing one), or with one broken sibling. */
export function brokenObject (rng: Rng): Json {
  const object = validObject(rng)
  if (rng.chance(0.1)) {
    delete object[rng.pick(REQUIRED_OBJECT_FIELDS)]
    return object
  }
  if (rng.chance(0.1)) return { ...object, conflicts: [brokenObject(rng)] }
  const field = rng.pick(Object.keys(objectBreakers))
  return { ...object, [field]: rng.pick(objectBreakers[field]!)(rng) }
}

// ---- messages ----

export function validHello (rng: Rng, domain: string): Json {
  return { type: 'hello', v: PROTOCOL_VERSION, domain, head: rng.int(1e6), count: rng.int(1e6), epoch: randomUid(rng, 16) }
}

const helloBreakers: Record<string, Breaker[]> = {
  v: [() => 0, () => PROTOCOL_VERSION + 1, () => String(PROTOCOL_VERSION), () => null],
  domain: domainBreakers,
  head: seqBreakers,
  count: seqBreakers,
  epoch: [() => '', () => str(65), (rng) => wrongType(rng, 'string')]
}

const messageBreakers: Record<string, Record<string, Breaker[]>> = {
  hello: helloBreakers,
  pull: {
    v: helloBreakers.v!,
    id: [() => -1, () => 2 ** 31 + 1, () => 0.5, (rng) => wrongType(rng, 'number')],
    since: seqBreakers,
    limit: [() => 0, () => -5, () => MAX_PULL_WINDOW + 1, () => 1e12, () => 2.5, (rng) => wrongType(rng, 'number')]
  },
  get: {
    v: helloBreakers.v!,
    id: [() => -1, () => 2 ** 31 + 1, (rng) => wrongType(rng, 'number')],
    uids: [() => [], () => Array.from({ length: MAX_GET_UIDS + 1 }, (_, i) => `u${i}`), () => [''], () => [str(MAX_UID_LENGTH + 1)], () => [5], (rng) => wrongType(rng, 'array')]
  },
  error: {
    v: helloBreakers.v!,
    code: [() => str(65), (rng) => wrongType(rng, 'string')],
    message: [() => str(4097), (rng) => wrongType(rng, 'string')]
  },
  batch: {
    v: helloBreakers.v!,
    id: [() => -1, (rng) => wrongType(rng, 'number')],
    changes: [(rng) => [brokenObject(rng)], (rng) => [validObject(rng), brokenObject(rng)], (rng) => Array.from({ length: MAX_BATCH_OBJECTS + 1 }, () => ({ ...validObject(rng), data: {}, refs: [] })), (rng) => wrongType(rng, 'array')],
    lastSeq: seqBreakers,
    last: [() => 'true', () => 1, () => null],
    more: [() => 'false', () => 0],
    remaining: seqBreakers
  },
  objects: {
    v: helloBreakers.v!,
    id: [() => -1, (rng) => wrongType(rng, 'number')],
    objects: [(rng) => [brokenObject(rng)], () => Array.from({ length: MAX_GET_UIDS + 1 }, () => ({})), (rng) => wrongType(rng, 'array')],
    missing: [() => [''], () => Array.from({ length: MAX_GET_UIDS + 1 }, (_, i) => `m${i}`), (rng) => wrongType(rng, 'array')],
    last: [() => 'yes', () => null]
  },
  notify: { v: helloBreakers.v!, head: seqBreakers }
}

function validMessage (rng: Rng, type: string, domain: string): Json {
  const v = PROTOCOL_VERSION
  switch (type) {
    case 'hello': return validHello(rng, domain)
    case 'pull': return { type, v, id: rng.int(1000), since: rng.int(1e6), limit: 1 + rng.int(MAX_PULL_WINDOW) }
    case 'get': return { type, v, id: rng.int(1000), uids: Array.from({ length: 1 + rng.int(20) }, () => randomUid(rng)) }
    case 'error': return { type, v, code: 'X', message: 'm' }
    case 'batch': return { type, v, id: 1, changes: [validObject(rng)], lastSeq: 1 + rng.int(100), last: true, more: false, remaining: 0 }
    case 'objects': return { type, v, id: 1, objects: [validObject(rng)], missing: [], last: true }
    case 'notify': return { type, v, head: rng.int(1e6) }
    default: throw new Error(`no template for ${type}`)
  }
}

/** A message of `type` with one field broken or removed. */
export function brokenMessage (rng: Rng, type: string, domain: string): Json {
  const message = validMessage(rng, type, domain)
  const breakers = messageBreakers[type]!
  const fields = Object.keys(breakers)
  if (rng.chance(0.15)) {
    delete message[rng.pick([...fields, 'type'])]
    return message
  }
  const field = rng.pick(fields)
  return { ...message, [field]: rng.pick(breakers[field]!)(rng) }
}

// ---- frames that are not messages ----

/** Bytes no UTF-8 decoder accepts (0xff never occurs in UTF-8). */
export function garbageFrame (rng: Rng): Uint8Array {
  const body = new Uint8Array(1 + rng.int(2000))
  for (let i = 0; i < body.length; i++) body[i] = rng.int(256)
  body[rng.int(body.length)] = 0xff
  return rawFrame(body)
}

/** UTF-8 text that is not JSON: a proper prefix of a JSON object's text never is. */
export function notJsonFrame (rng: Rng, domain: string): Uint8Array {
  const json = JSON.stringify(validHello(rng, domain))
  return rawFrame(json.slice(0, 1 + rng.int(json.length - 1)))
}

/** JSON that is not an object. */
export function nonObjectFrame (rng: Rng): Uint8Array {
  return rawFrame(rng.pick(['42', '"hello"', 'null', 'true', '[]', '[{"type":"hello"}]', '-0', '1e999']))
}

/** A length prefix announcing more than MAX_FRAME_BYTES, and a few bytes of body. */
export function oversizedPrefix (rng: Rng): Uint8Array {
  const announced = MAX_FRAME_BYTES + 1 + rng.int(2 ** 31 - MAX_FRAME_BYTES - 1)
  const varint: number[] = []
  let n = announced
  while (n >= 0x80) { varint.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  varint.push(n)
  return Uint8Array.from([...varint, ...text.encode('{"type":"hello"')])
}

/** A length prefix no 53-bit length needs: more than 9 continuation bytes. */
export function overlongVarint (rng: Rng): Uint8Array {
  return Uint8Array.from(Array.from({ length: 10 + rng.int(40) }, () => 0x80 | rng.int(128)))
}

/** A real frame cut short; the sender then ends the stream. */
export function truncatedFrame (rng: Rng, frame: Uint8Array): Uint8Array {
  return frame.subarray(0, 1 + rng.int(frame.length - 1))
}

/** A valid frame with random byte-level damage: flips, inserts, deletes, duplicated runs. */
export function mutatedFrame (rng: Rng, frame: Uint8Array): Uint8Array {
  const bytes = [...frame]
  for (let i = 0, n = 1 + rng.int(4); i < n; i++) {
    const at = rng.int(bytes.length)
    switch (rng.int(4)) {
      case 0: bytes[at] = (bytes[at]! ^ (1 << rng.int(8))) & 0xff; break
      case 1: bytes.splice(at, 0, rng.int(256)); break
      case 2: if (bytes.length > 2) bytes.splice(at, 1); break
      default: bytes.splice(at, 0, ...bytes.slice(at, at + 1 + rng.int(16)))
    }
  }
  return Uint8Array.from(bytes)
}
