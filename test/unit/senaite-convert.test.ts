import { describe, expect, it } from 'vitest'
import { contentHash, itemToData, versionToFields } from '../../agent/connectors/senaite/convert.js'
import { transitionsTo } from '../../agent/connectors/senaite/workflow.js'
import type { ObjectVersion } from '../../protocol/object.js'

const U = (n: number): string => n.toString(16).padStart(32, 'a')
const CLIENT = U(1)
const CONTACT = U(2)
const STYPE = U(3)
const SERVICE = U(4)
const UNKNOWN = U(99)

const meshOf: Record<string, string> = { [CLIENT]: 'mesh-client', [CONTACT]: 'mesh-contact', [STYPE]: 'mesh-stype', [SERVICE]: 'mesh-service' }
const read = { meshUidOf: (uid: string) => meshOf[uid] }

const sample = {
  uid: U(10), id: 'W-0042', title: 'W-0042', portal_type: 'AnalysisRequest', path: '/senaite/clients/client-1/W-0042',
  parent_uid: CLIENT, parent_id: 'client-1', parent_path: '/senaite/clients/client-1', url: 'https://x/W-0042', api_url: 'https://x/api',
  created: '2024-05-02T08:00:01+02:00', modified: '2024-05-02T11:15:40+02:00', review_state: 'sample_received',
  Client: { uid: CLIENT, url: 'u', api_url: 'a' },
  Contact: { uid: CONTACT, url: 'u', api_url: 'a' },
  CCContact: {},
  SampleType: { uid: STYPE, url: 'u', api_url: 'a' },
  Analyses: [{ uid: SERVICE, url: 'u', api_url: 'a' }],
  Profiles: [STYPE],
  Layout: [{ position: 1, type: 'a', container_uid: CLIENT, analysis_uid: UNKNOWN }],
  Elsewhere: { uid: UNKNOWN, url: 'u', api_url: 'a' },
  ClientSampleID: 'HH-778', Remarks: '', Priority: 0,
  Attachment: { content_type: 'text/plain', filename: 'a.txt', download: 'https://x/at_download/file', data: 'aGVsbG8=' },
  workflow_info: [{ workflow: 'senaite_sample_workflow', review_state: 'sample_received', review_history: [{ action: 'receive', review_state: 'sample_received' }] }]
}

describe('SENAITE item → mesh data', () => {
  const result = itemToData(sample, read)

  it('turns every reference shape into mesh uids listed in refs', () => {
    expect(result.parent).toBe('mesh-client')
    expect(result.data.Contact).toBe('mesh-contact')
    expect(result.data.SampleType).toBe('mesh-stype')
    expect(result.data.Analyses).toEqual(['mesh-service'])
    expect(result.data.Profiles).toEqual(['mesh-stype']) // Dexterity UID strings
    expect(result.data.Layout).toEqual([{ analysis_uid: null, container_uid: 'mesh-client', position: 1, type: 'a' }]) // records with *_uid keys
    expect(result.data.CCContact).toBeNull() // SENAITE's empty AT reference
    expect(result.data.Elsewhere).toBeNull() // not an object we replicate
    expect(result.refs).toEqual(['mesh-contact', 'mesh-service', 'mesh-stype'])
  })

  it('drops volatile and site-local keys, keeps workflow as data', () => {
    for (const key of ['uid', 'url', 'api_url', 'path', 'modified', 'created', 'parent_uid', 'workflow_info', 'id', 'title']) expect(result.data, key).not.toHaveProperty(key)
    expect(result.data.review_state).toBe('sample_received')
    expect(result.data.review_history).toEqual([{ action: 'receive', review_state: 'sample_received' }])
    expect(result.data.Remarks).toBeNull() // falsy values are null in SENAITE's complete items
    expect(result.data.Attachment).toEqual({ filename: 'a.txt', content_type: 'text/plain', data: 'aGVsbG8=' })
  })

  it('reads a file as the blob reference resolved for its download URL; an unresolved one inline, as before blobs', () => {
    const ref = { blob: `sha256:${'a1'.repeat(32)}`, size: 5, name: 'a.txt', mediaType: 'text/plain' }
    const withBlob = itemToData({ ...sample, Attachment: { content_type: 'text/plain', filename: 'a.txt', download: 'https://x/at_download/file' } }, { ...read, files: new Map([['https://x/at_download/file', ref]]) })
    expect(withBlob.data.Attachment).toEqual(ref)
    expect(withBlob.refs).toEqual(result.refs) // a blob is no object reference
    // another site's URL for the same bytes reads the same: the content hash does not see where a file was downloaded
    const elsewhere = itemToData({ ...sample, url: 'https://y/W-0042', Attachment: { content_type: 'text/plain', filename: 'a.txt', download: 'https://y/at_download/file' } }, { ...read, files: new Map([['https://y/at_download/file', ref]]) })
    expect(contentHash(elsewhere, 'AnalysisRequest')).toBe(contentHash(withBlob, 'AnalysisRequest'))
  })

  it('drops the catalog metadata columns a listing item carries beside the fields', () => {
    const listed = itemToData({ ...sample, sortable_title: 'w-0042', state_title: 'Received', getClientTitle: 'ACME', getClientUID: CLIENT, getSampleTypeUID: STYPE, allowedRolesAndUsers: ['Manager'], Creator: 'labman', author: 'labman', Analyst: null, meta_type: 'AnalysisRequest' }, read)
    expect(listed.data).toEqual(result.data)
    expect(listed.refs).toEqual(result.refs)
    // a worksheet's (and an analysis's) Analyst is a field
    expect(itemToData({ uid: U(20), portal_type: 'Worksheet', Analyst: 'analyst1' }, read).data.Analyst).toBe('analyst1')
  })

  it('reads a Dexterity item\'s fields under their AT names', () => {
    const dept = { uid: U(21), portal_type: 'Department', title: 'Chemistry', department_id: 'CH', manager: { uid: CONTACT, url: 'u', api_url: 'a' } }
    expect(itemToData(dept, { ...read, dexterity: (t) => t === 'Department' }).data).toEqual({ title: 'Chemistry', DepartmentID: 'CH', Manager: 'mesh-contact' })
    expect(itemToData(dept, read).data).toEqual({ title: 'Chemistry', department_id: 'CH', manager: 'mesh-contact' })
  })

  it('hashes content only: a new modified date or URL is not a change', () => {
    const moved = itemToData({ ...sample, modified: '2025-01-01T00:00:00Z', url: 'https://other/', api_url: 'z' }, read)
    expect(contentHash(moved, 'AnalysisRequest')).toBe(contentHash(result, 'AnalysisRequest'))
    const edited = itemToData({ ...sample, ClientSampleID: 'HH-779' }, read)
    expect(contentHash(edited, 'AnalysisRequest')).not.toBe(contentHash(result, 'AnalysisRequest'))
  })
})

describe('mesh version → SENAITE fields', () => {
  const version: ObjectVersion = {
    uid: 'mesh-sample', type: 'AnalysisRequest', id: 'A-W-0042', parent: 'mesh-client', refs: ['mesh-contact', 'mesh-stype', 'mesh-service'],
    data: { Contact: 'mesh-contact', SampleType: 'mesh-stype', Analyses: ['mesh-service'], ClientSampleID: 'HH-778', Remarks: null, review_state: 'sample_received', review_history: [] },
    vector: { 'lab-a': 1 }, origin: 'lab-a', deleted: false, at: 0
  }
  const local: Record<string, string> = { 'mesh-client': U(51), 'mesh-contact': U(52), 'mesh-stype': U(53), 'mesh-service': U(54) }

  it('writes references as this site\'s UIDs; workflow, children lists, unwritable and null fields left out', () => {
    const payload = versionToFields({ ...version, data: { ...version.data, created: '2024-01-01T00:00:00+00:00' } }, { localUidOf: (m) => local[m] })
    // a sample's analyses travel as objects of their own: its Analyses field is not written
    expect(payload.fields).toEqual({ Contact: U(52), SampleType: U(53), ClientSampleID: 'HH-778' })
    expect(payload.deferred).toEqual([])
    expect(payload.reviewState).toBe('sample_received')
  })

  it('defers a reference whose target is not in the site yet (create, then patch)', () => {
    const payload = versionToFields(version, { localUidOf: (m) => (m === 'mesh-contact' ? undefined : local[m]) })
    expect(payload.deferred).toEqual(['Contact'])
    expect(payload.fields).not.toHaveProperty('Contact')
  })

  it('empties a field the other site emptied, with the empty value of its kind; a single reference is reported, not sent', () => {
    const before: ObjectVersion = { ...version, data: { ...version.data, Remarks: 'was here', Priority: 3, Internal: true, CCEmails: ['a@lab.example'], CCContact: ['mesh-contact'], Contact: 'mesh-contact', Attachment: { filename: 'f.pdf' } } }
    const now: ObjectVersion = { ...version, data: { ...version.data, Remarks: null, Priority: null, Internal: null, CCEmails: null, CCContact: null, Contact: null, Attachment: null, ClientSampleID: null } }
    const payload = versionToFields(now, { localUidOf: (m) => local[m] }, { ...before, data: { ...before.data, ClientSampleID: null } })
    expect(payload.fields).toEqual({ SampleType: U(53), Remarks: '', Priority: '', Internal: false, CCEmails: [], CCContact: [] })
    expect(payload.uncleared).toEqual(['Contact', 'Attachment'])
    // a first write (no previous version here) sends no empties
    expect(versionToFields(now, { localUidOf: (m) => local[m] }).fields).toEqual({ SampleType: U(53) })
  })

  it('passes a file through as it is held: a blob reference (read for the site later) or inline bytes', () => {
    const ref = { blob: `sha256:${'b2'.repeat(32)}`, size: 9, name: 'sop.pdf', mediaType: 'application/pdf' }
    const inline = { filename: 'old.pdf', content_type: 'application/pdf', data: 'JVBERi0xLjQK' }
    const v = { ...version, type: 'Attachment', parent: null, refs: [], data: { AttachmentFile: ref, Other: inline } }
    expect(versionToFields(v, { localUidOf: (m) => local[m] }).fields).toEqual({ AttachmentFile: ref, Other: inline })
  })

  it('never treats a plain string as a reference unless the version lists it in refs', () => {
    const v = { ...version, data: { Remarks: 'mesh-contact is mentioned here', Note: 'mesh-contact' }, refs: [] }
    expect(versionToFields(v, { localUidOf: (m) => local[m] }).fields).toEqual({ Remarks: 'mesh-contact is mentioned here', Note: 'mesh-contact' })
  })
})

describe('workflow replay', () => {
  const history = [
    { action: null, review_state: 'sample_registered', time: '2024-05-02 08:00:01' },
    { action: 'no_sampling_workflow', review_state: 'sample_due', time: '2024-05-02 08:00:02' },
    { action: 'receive', review_state: 'sample_received', time: '2024-05-02 11:15:40' },
    { action: 'submit', review_state: 'to_be_verified', time: '2024-05-03 09:00:00' }
  ]
  it('replays the origin\'s actions after the local state', () => {
    expect(transitionsTo('sample_due', 'to_be_verified', history)).toEqual(['receive', 'submit'])
    expect(transitionsTo('sample_registered', 'to_be_verified', history)).toEqual(['no_sampling_workflow', 'receive', 'submit'])
  })
  it('reads SENAITE\'s newest-first history too', () => {
    expect(transitionsTo('sample_due', 'to_be_verified', [...history].reverse())).toEqual(['receive', 'submit'])
  })
  it('nothing to do when already there; a known path when the history does not help', () => {
    expect(transitionsTo('verified', 'verified', history)).toEqual([])
    expect(transitionsTo('active', 'inactive', [])).toEqual(['deactivate'])
    expect(transitionsTo('inactive', 'active', [])).toEqual(['activate'])
    expect(transitionsTo('cancelled', 'sample_due', [])).toEqual(['reinstate'])
    expect(transitionsTo('unassigned', 'verified', [])).toEqual(['submit', 'verify'])
    expect(transitionsTo('published', 'sample_due', [])).toBeUndefined()
  })
})
