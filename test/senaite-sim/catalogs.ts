/**
 * The catalogs of a real layout: their indexes (what a query can filter or
 * sort on; any other term is ignored), their metadata columns (what a
 * listing item carries), whether they are CatalogTools (security filtered:
 * a query whose own terms are all ignored still returns everything the
 * caller may view) or the plain uid_catalog, and which objects each holds.
 *
 * Index and column lists are the subset a connector or the doctests touch,
 * from senaite.core `senaite/core/catalog/*_catalog.py` (2.1+),
 * `bika/lims/catalog/*.py` + `setuphandlers.py` INDEXES (1.3), Plone's
 * portal_catalog, and Archetypes `install_uidcatalog` (UID, Type, id, Title,
 * portal_type; `path` only after core 2.6 upgrade 2609).
 */
import type { LayoutProfile } from './layouts.js'

export type IndexKind = 'field' | 'keyword' | 'boolean' | 'date' | 'path' | 'pathindex' | 'text' | 'uuid'

export interface CatalogDef {
  readonly id: string
  readonly indexes: Readonly<Record<string, IndexKind>>
  readonly columns: readonly string[]
  /** a CatalogTool adds allowedRolesAndUsers to every query */
  readonly tool: boolean
}

const SENAITE_BASE: Record<string, IndexKind> = {
  allowedRolesAndUsers: 'keyword', created: 'date', CreationDate: 'date', Creator: 'field', getId: 'field', id: 'field', is_active: 'boolean',
  object_provides: 'keyword', path: 'path', portal_type: 'field', review_state: 'field', title: 'field', UID: 'uuid'
}
const SENAITE_COLUMNS = ['Creator', 'Description', 'Title', 'UID', 'allowedRolesAndUsers', 'created', 'getId', 'meta_type', 'portal_type', 'review_state', 'state_title']

const def = (id: string, indexes: Record<string, IndexKind>, columns: readonly string[], tool = true): CatalogDef => ({ id, indexes, columns, tool })

/** Plone's portal_catalog (it keeps `modified` and `path` in every version). */
function portalCatalog (family: LayoutProfile['catalogFamily']): CatalogDef {
  const indexes: Record<string, IndexKind> = {
    allowedRolesAndUsers: 'keyword', created: 'date', Creator: 'field', Date: 'date', Description: 'text', getId: 'field', id: 'field', is_active: 'boolean',
    modified: 'date', object_provides: 'keyword', path: 'path', portal_type: 'field', review_state: 'field', SearchableText: 'text',
    sortable_title: 'field', Title: 'text', title: 'field', Type: 'field', UID: 'uuid', Analyst: 'field', sample_uid: 'keyword'
  }
  // SC v2.4.0 setuphandlers INDEXES add these for Client/Contact, which live here until 2.5 (2.5 removes them)
  if (family !== 'senaite-2.5') Object.assign(indexes, { getFullname: 'field', getName: 'field', getParentUID: 'field', getUsername: 'field' })
  if (family === 'senaite-2.5') for (const gone of ['SearchableText', 'getName', 'getParentUID', 'getUsername', 'Analyst']) delete indexes[gone]
  const columns = ['CreationDate', 'Creator', 'Description', 'Subject', 'Title', 'UID', 'created', 'effective', 'expires', 'getId', 'id', 'is_folderish', 'meta_type', 'modified', 'portal_type', 'review_state', ...(family !== 'senaite-2.5' ? ['Analyst', 'getClientID'] : [])]
  return def('portal_catalog', indexes, columns)
}

/** Archetypes' uid_catalog: a plain ZCatalog, no security filter. */
function uidCatalog (withPath: boolean): CatalogDef {
  const indexes: Record<string, IndexKind> = { UID: 'field', Type: 'field', id: 'field', Title: 'field', portal_type: 'field' }
  if (withPath) indexes.path = 'path'
  return def('uid_catalog', indexes, ['UID', 'Type', 'id', 'Title', 'portal_type', 'meta_type'], false)
}

function senaiteCatalogs (family: 'senaite-2.1' | 'senaite-2.5'): CatalogDef[] {
  const out = [
    def('senaite_catalog_setup', { ...SENAITE_BASE, Title: 'text', Description: 'text', Type: 'field', getKeyword: 'field', category_uid: 'keyword', department_uid: 'keyword', sampletype_uid: 'keyword', listing_searchable_text: 'text', sortable_title: 'field' },
      [...SENAITE_COLUMNS, 'description', 'getCategoryUID', 'getClientUID', 'getKeyword', 'getPrefix', 'id', 'path', 'sortable_title', 'title']),
    def('senaite_catalog_sample', { ...SENAITE_BASE, getClientUID: 'field', getClientID: 'field', getClientTitle: 'field', getClientSampleID: 'field', getBatchUID: 'field', getDateSampled: 'date', getDateReceived: 'date', isRootAncestor: 'boolean', listing_searchable_text: 'text', modified: 'date', sortable_title: 'field' },
      [...SENAITE_COLUMNS, 'getBatchUID', 'getClientID', 'getClientSampleID', 'getClientTitle', 'getClientUID', 'getContactUID', 'getDateSampled', 'getSampleTypeUID']),
    def('senaite_catalog_analysis', { ...SENAITE_BASE, getAncestorsUIDs: 'keyword', getClientUID: 'field', getKeyword: 'field', getRequestID: 'field', getServiceUID: 'field', getWorksheetUID: 'field', sortable_title: 'field' },
      [...SENAITE_COLUMNS, 'getKeyword', 'getRequestID', 'getResult', 'getSampleTypeUID', 'getServiceUID']),
    def('senaite_catalog_worksheet', { ...SENAITE_BASE, getAnalysesUIDs: 'keyword', getAnalyst: 'field', listing_searchable_text: 'text' }, [...SENAITE_COLUMNS, 'getAnalysesUIDs', 'getAnalyst']),
    def('senaite_catalog', { ...SENAITE_BASE, Title: 'text', Description: 'text', Type: 'field', getClientUID: 'field', getClientID: 'field', getClientTitle: 'field', listing_searchable_text: 'text', sortable_title: 'field' },
      [...SENAITE_COLUMNS, 'getClientID', 'getClientTitle', 'id', 'path', 'sortable_title'])
  ]
  if (family === 'senaite-2.5') {
    out.push(
      def('senaite_catalog_client', { ...SENAITE_BASE, Title: 'text', client_searchable_text: 'text', getClientID: 'field', getName: 'field', sortable_title: 'field' }, [...SENAITE_COLUMNS, 'getClientID', 'getEmailAddress', 'getName']),
      def('senaite_catalog_contact', { ...SENAITE_BASE, Title: 'text', getFullname: 'field', getParentUID: 'field', getUsername: 'field', listing_searchable_text: 'text', sortable_title: 'field' }, [...SENAITE_COLUMNS, 'getEmailAddress', 'getFullname'])
    )
  }
  return out
}

/** 1.3 catalogs (SC v1.3.5 `bika/lims/catalog/*.py`): the listing catalogs use a plain PathIndex. */
function bikaCatalogs (): CatalogDef[] {
  const base: Record<string, IndexKind> = { allowedRolesAndUsers: 'keyword', created: 'date', getId: 'field', id: 'field', is_active: 'boolean', path: 'path', portal_type: 'field', review_state: 'field', title: 'field', UID: 'uuid', sortable_title: 'field', Creator: 'field' }
  const listing: Record<string, IndexKind> = { allowedRolesAndUsers: 'keyword', created: 'date', getId: 'field', path: 'pathindex', portal_type: 'field', review_state: 'field', UID: 'uuid', is_active: 'boolean' }
  const columns = ['Creator', 'Description', 'Title', 'UID', 'created', 'getId', 'id', 'meta_type', 'portal_type', 'review_state']
  return [
    def('bika_setup_catalog', { ...base, getKeyword: 'field', Title: 'text', Description: 'text' }, [...columns, 'getKeyword', 'getPrefix']),
    def('bika_catalog', { ...base, getClientUID: 'field', getClientID: 'field', getClientTitle: 'field', BatchDate: 'date' }, [...columns, 'getClientID']),
    def('bika_catalog_analysisrequest_listing', { ...listing, getClientUID: 'field', getClientID: 'field', getClientSampleID: 'field', getDateSampled: 'date', modified: 'date' }, [...columns, 'getClientUID', 'getClientID', 'getSampleTypeUID', 'getContactUID']),
    def('bika_analysis_catalog', { ...listing, getKeyword: 'field', getServiceUID: 'field', getRequestID: 'field' }, [...columns, 'getKeyword', 'getServiceUID']),
    def('bika_catalog_worksheet_listing', { ...listing, getAnalyst: 'field' }, [...columns, 'getAnalyst'])
  ]
}

/** All catalogs of a layout, by id. */
export function catalogsOf (profile: LayoutProfile): ReadonlyMap<string, CatalogDef> {
  const family = profile.catalogFamily
  const list = [portalCatalog(family), uidCatalog(profile.uidCatalogHasPath), ...(family === 'bika' ? bikaCatalogs() : senaiteCatalogs(family))]
  return new Map(list.map((c) => [c.id, c]))
}
