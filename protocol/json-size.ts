/**
 * Size checks on JSON text without measuring every text: UTF-8 takes at most
 * 3 bytes per UTF-16 unit, so only a text longer than limit / 3 units can be
 * over `limit` bytes, and only such a text is measured.
 */

/** The UTF-8 size of `text` when it exceeds `limit` bytes, else undefined. */
export function utf8BytesOver (text: string, limit: number): number | undefined {
  if (text.length <= limit / 3) return undefined
  const bytes = Buffer.byteLength(text)
  return bytes > limit ? bytes : undefined
}
