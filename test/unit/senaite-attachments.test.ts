import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isBlobRef, isSiteFile, sameFile, withInlineFilesAsShown } from '../../agent/connectors/senaite/attachments.js'

const BYTES = Buffer.from('ICP-OES operating procedure')
const HASH = `sha256:${createHash('sha256').update(BYTES).digest('hex')}`
const REF = { blob: HASH, size: BYTES.length, name: 'sop.pdf', mediaType: 'application/pdf' }
const INLINE = { filename: 'sop.pdf', content_type: 'application/pdf', data: BYTES.toString('base64') }

describe('SENAITE files: shapes and comparisons', () => {
  it('tells a site file, a blob reference and anything else apart', () => {
    expect(isSiteFile({ download: 'https://x/at_download/f', filename: 'a.pdf', content_type: 'application/pdf' })).toBe(true)
    expect(isSiteFile({ uid: 'x', url: 'u' })).toBe(false)
    expect(isSiteFile(INLINE)).toBe(false)
    expect(isBlobRef(REF)).toBe(true)
    expect(isBlobRef(INLINE)).toBe(false)
    expect(isBlobRef(null)).toBe(false)
  })

  it('a file is the same when its bytes are: by hash for a reference, by the decoded bytes\' hash for an inline one, whatever its name', () => {
    expect(sameFile(REF, { ...REF, name: 'other.pdf' })).toBe(true)
    expect(sameFile(INLINE, REF)).toBe(true)
    expect(sameFile({ ...INLINE, data: Buffer.from('other').toString('base64') }, REF)).toBe(false)
    expect(sameFile(REF, { ...REF, blob: `sha256:${'0'.repeat(64)}` })).toBe(false)
    expect(sameFile(REF, INLINE)).toBe(false) // the site side is always a reference
    expect(sameFile('text', REF)).toBe(false)
  })

  it('an object stored with an inline file reads as what the site shows when the bytes are the same, else unchanged', () => {
    expect(withInlineFilesAsShown({ title: 'ICP', MethodDocument: INLINE }, { title: 'ICP', MethodDocument: REF })).toEqual({ title: 'ICP', MethodDocument: REF })
    const other = { ...INLINE, data: Buffer.from('edited').toString('base64') }
    expect(withInlineFilesAsShown({ title: 'ICP', MethodDocument: other }, { title: 'ICP', MethodDocument: REF })).toEqual({ title: 'ICP', MethodDocument: other })
    expect(withInlineFilesAsShown({ MethodDocument: INLINE }, { MethodDocument: null })).toEqual({ MethodDocument: INLINE })
  })
})
