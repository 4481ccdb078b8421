/**
 * What an object offers a catalog: the value an index holds or a metadata
 * column shows for it (SENAITE's indexers and `get*` accessors, reduced to
 * what the simulated objects carry). One table, so a filter and a listing
 * column can never disagree.
 */
import type { Site, SimObject } from './site.js'

const INACTIVE = new Set(['inactive', 'cancelled', 'invalid', 'rejected'])

const STATE_TITLES: Readonly<Record<string, string>> = {
  // SC v2.5.0 profiles/default/workflows/*/definition.xml state titles
  active: 'Active', inactive: 'Inactive', sample_registered: 'Registered', sample_due: 'Sample due', sample_received: 'Received',
  to_be_verified: 'To be verified', verified: 'Verified', published: 'Published', rejected: 'Rejected', invalid: 'Invalid', cancelled: 'Cancelled',
  registered: 'Registered', unassigned: 'Unassigned', assigned: 'Assigned', retracted: 'Retracted', open: 'Open', closed: 'Closed'
}

export const stateTitle = (state: string): string => STATE_TITLES[state] ?? state

const str = (v: unknown): string | undefined => typeof v === 'string' ? v : undefined

/** the Client an object belongs to (itself, its ancestor, or a Batch's Client field) */
function clientOf (site: Site, o: SimObject): SimObject | undefined {
  if (o.portalType === 'Client') return o
  if (o.portalType === 'Batch' && typeof o.fields.Client === 'string') return site.get(o.fields.Client)
  const parent = o.parentUid !== null ? site.get(o.parentUid) : undefined
  return parent !== undefined ? clientOf(site, parent) : undefined
}

export function titleOf (o: SimObject): string {
  if (typeof o.fields.title === 'string' && o.fields.title !== '') return o.fields.title
  if (o.portalType === 'Contact' || o.portalType === 'LabContact') return `${str(o.fields.Firstname) ?? ''} ${str(o.fields.Surname) ?? ''}`.trim()
  return o.id
}

/** The value of an index or column for an object; undefined when it has none. */
export function attribute (site: Site, o: SimObject, name: string): unknown {
  const f = o.fields
  switch (name) {
    case 'UID': return o.uid
    case 'id': case 'getId': return o.id
    case 'portal_type': case 'Type': case 'meta_type': return o.portalType
    case 'Title': case 'title': return titleOf(o)
    case 'sortable_title': return titleOf(o).toLowerCase()
    case 'Description': case 'description': return str(f.description) ?? ''
    case 'created': case 'CreationDate': return o.created
    case 'modified': return o.modified
    case 'review_state': return o.reviewState
    case 'state_title': return stateTitle(o.reviewState)
    case 'is_active': return !INACTIVE.has(o.reviewState)
    case 'Creator': return o.creator
    case 'allowedRolesAndUsers': return ['Manager', 'LabManager', 'LabClerk', 'Analyst', 'Member']
    case 'path': return o.path
    case 'getClientUID': return clientOf(site, o)?.uid
    case 'getClientID': return str(clientOf(site, o)?.fields.ClientID)
    case 'getClientTitle': return (c => c !== undefined ? titleOf(c) : undefined)(clientOf(site, o))
    case 'getName': return o.portalType === 'Client' ? titleOf(o) : undefined
    case 'getEmailAddress': return str(f.EmailAddress)
    case 'getFullname': return `${str(f.Firstname) ?? ''} ${str(f.Surname) ?? ''}`.trim()
    case 'getParentUID': return o.parentUid ?? undefined
    case 'getKeyword': return str(f.Keyword) ?? (o.portalType === 'Analysis' ? o.id : undefined)
    case 'getPrefix': return str(f.Prefix) ?? str(f.prefix)
    case 'getCategoryUID': case 'category_uid': return str(f.Category)
    case 'department_uid': return str(f.Department) ?? str(f.department)
    case 'getServiceUID': return str(f.AnalysisService)
    case 'getSampleTypeUID': case 'sampletype_uid': return str(f.SampleType)
    case 'getContactUID': return str(f.Contact)
    case 'getBatchUID': return str(f.Batch)
    case 'getClientSampleID': return str(f.ClientSampleID)
    case 'getDateSampled': return typeof f.DateSampled === 'string' ? Date.parse(f.DateSampled) : undefined
    case 'getRequestID': return o.portalType === 'Analysis' && o.parentUid !== null ? site.get(o.parentUid)?.id : undefined
    case 'getResult': return str(f.Result)
    case 'getAnalysesUIDs': return Array.isArray(f.Analyses) ? f.Analyses : []
    case 'getAnalyst': return str(f.Analyst)
    case 'getAncestorsUIDs': return o.parentUid !== null ? [o.parentUid] : []
    case 'isRootAncestor': return true
    default: return f[name]
  }
}
