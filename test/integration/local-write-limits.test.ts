/**
 * Local writes that the protocol could not carry are refused before they
 * reach the feed (InvalidObjectError): a connector's write is not checked by
 * the document API's schema, and an object over the protocol's limits in the
 * feed would make every frame serving it invalid. Real LevelDB.
 */
import { describe, expect, it } from 'vitest'
import { InvalidObjectError } from '../../protocol/errors.js'
import { writeDocuments, type DocumentInput } from '../../agent/apply/local-writes.js'
import { MAX_DATA_DEPTH, MAX_REFS, MAX_UID_LENGTH } from '../../protocol/constants.js'
import { auditStore } from '../helpers/store-audit.js'
import { useTempStore } from '../helpers/temp-store.js'

describe('local writes and the protocol\'s limits', () => {
  const temp = useTempStore('lab-a')
  const deps = (): Parameters<typeof writeDocuments>[0] => ({ store: temp.store, domain: 'lab-a', now: Date.now, rules: [] })
  const nested = (depth: number): Record<string, unknown> => { let d: Record<string, unknown> = { leaf: 1 }; for (let i = 1; i < depth; i++) d = { d }; return d }

  it.each<[string, DocumentInput, string]>([
    ['a uid too long', { uid: 'u'.repeat(MAX_UID_LENGTH + 1), type: 'Sample', id: 'S-1', data: {} }, 'uid'],
    ['too many refs', { uid: 's-1', type: 'Sample', id: 'S-1', refs: Array.from({ length: MAX_REFS + 1 }, (_, i) => `r-${i}`), data: {} }, 'refs'],
    ['data nested too deep', { uid: 's-1', type: 'Sample', id: 'S-1', data: nested(MAX_DATA_DEPTH + 1) }, 'data'],
    ['an empty type', { uid: 's-1', type: '', id: 'S-1', data: {} }, 'type']
  ])('refuses %s, naming the field, and writes nothing of the transaction', async (_what, input, field) => {
    const write = writeDocuments(deps(), [{ uid: 'fine', type: 'Client', id: 'c-1', data: { n: 1 } }, input])
    await expect(write).rejects.toBeInstanceOf(InvalidObjectError)
    await expect(write).rejects.toMatchObject({ code: 'OBJECT_INVALID', message: expect.stringContaining(`${field}`) })
    expect(temp.store.info()).toMatchObject({ objects: 0, head: 0 })
    expect(await auditStore(temp.store)).toEqual([])
  })

  it('takes what is just within every limit', async () => {
    const [written] = await writeDocuments(deps(), [{ uid: 'u'.repeat(MAX_UID_LENGTH), type: 'Sample', id: 'S-1', refs: Array.from({ length: MAX_REFS }, (_, i) => `r-${i}`), data: nested(MAX_DATA_DEPTH) }])
    expect(written!.seq).toBe(1)
    expect(temp.store.info().objects).toBe(1)
  })
})
