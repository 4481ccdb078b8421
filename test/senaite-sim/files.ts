/**
 * File field values as SENAITE stores them: `str(value).decode("base64")`
 * runs CPython 2's `binascii.a2b_base64`, which skips characters outside
 * the base64 alphabet and fails with "Incorrect padding" when the bits left
 * over do not end on a byte; the stored file keeps a filename and a content
 * type (guessed from the filename when none is given).
 */
import { SimError } from './errors.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const TABLE = new Map([...ALPHABET].map((c, i) => [c, i]))

/**
 * CPython 2.7 Modules/binascii.c `binascii_a2b_base64`, step for step.
 * Canonical base64 (what Node's encoder writes back from its decoding:
 * whole quads, padding only at the end) reads alike in every decoder, so
 * it is decoded natively — a file of many MiB in milliseconds, not an
 * array of numbers per byte.
 */
export function a2bBase64 (ascii: string): Buffer {
  const native = Buffer.from(ascii, 'base64')
  if (native.toString('base64') === ascii) return native
  const out: number[] = []
  let leftbits = 0
  let leftchar = 0
  let quadPos = 0
  for (let i = 0; i < ascii.length; i++) {
    const c = ascii[i]!
    if (c === '=') {
      // a pad ends the input once two or more characters of the quad are in
      if (quadPos < 2 || (quadPos === 2 && nextValid(ascii, i + 1) !== '=')) continue
      leftbits = 0
      break
    }
    const v = TABLE.get(c)
    if (v === undefined) continue
    quadPos = (quadPos + 1) & 3
    leftchar = (leftchar << 6) | v
    leftbits += 6
    if (leftbits >= 8) {
      leftbits -= 8
      out.push((leftchar >> leftbits) & 0xff)
      leftchar &= (1 << leftbits) - 1
    }
  }
  if (leftbits !== 0) throw new SimError(200, 'Incorrect padding')
  return Buffer.from(out)
}

/** binascii_find_valid: the next character that is in the alphabet or a pad */
function nextValid (s: string, from: number): string | undefined {
  for (let i = from; i < s.length; i++) if (s[i] === '=' || TABLE.has(s[i]!)) return s[i]
  return undefined
}

const TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain', csv: 'text/csv', pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', json: 'application/json', xml: 'application/xml'
}

export function guessContentType (filename: string): string {
  const ext = filename.includes('.') ? filename.slice(filename.lastIndexOf('.') + 1).toLowerCase() : ''
  return TYPES[ext] ?? 'application/octet-stream'
}
