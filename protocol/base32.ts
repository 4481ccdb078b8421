/**
 * Base32 (RFC 4648 alphabet, lowercase, no padding): text of letters and
 * digits only, which survives mail, chat markup and double-click selection
 * (the invite code). Pure.
 */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

export function base32Encode (bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
    buffer &= (1 << bits) - 1
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31]
  return out
}

/** undefined for a character outside the alphabet or a length no encoding produces */
export function base32Decode (text: string): Buffer | undefined {
  if ([1, 3, 6].includes(text.length % 8)) return undefined
  const out: number[] = []
  let buffer = 0
  let bits = 0
  for (const char of text) {
    const value = ALPHABET.indexOf(char)
    if (value < 0) return undefined
    buffer = (buffer << 5) | value
    bits += 5
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 255)
      bits -= 8
    }
    buffer &= (1 << bits) - 1
  }
  // the padding bits of the last character are zero in every code we write
  if (buffer !== 0) return undefined
  return Buffer.from(out)
}
