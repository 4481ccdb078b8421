/**
 * The site layouts the simulator can answer as: which catalogs a query goes
 * to, which folders exist and whether they are Archetypes (AT) or
 * Dexterity (DX), and what the JSON API release says about itself. Each
 * fact cites the source it comes from (see README.md "Layouts").
 */

/** Layouts, after the sources. */
export type RealLayout = '1.3' | '2.0-2.4' | '2.5' | '2.6'
export type SiteLayout = RealLayout
/** The major release family of a layout. */
export type Family = '2.x' | '1.x'

export const REAL_LAYOUTS: readonly RealLayout[] = ['1.3', '2.0-2.4', '2.5', '2.6']

/** The layout a simulator answers as when none is named: the newest. */
export const DEFAULT_LAYOUT: RealLayout = '2.6'

export function isSiteLayout (value: string): value is SiteLayout {
  return (REAL_LAYOUTS as readonly string[]).includes(value)
}

export interface FolderSpec {
  /** path below the portal */
  readonly path: string
  readonly type: string
  readonly dexterity: boolean
}

export interface LayoutProfile {
  readonly name: SiteLayout
  readonly family: Family
  /** `version` route: senaite.jsonapi `v1/__init__.py` __version__/__date__ of the release */
  readonly jsonapi: { readonly version: string, readonly date: string }
  /**
   * Catalog of a plain `search` (no portal_type): jsonapi ≤2.4 builds the
   * query for portal_catalog and bika.lims.api.search defaults to it; jsonapi
   * 2.5 (`Catalog.get_catalog(default="uid_catalog")`) uses uid_catalog.
   */
  readonly plainSearchCatalog: 'portal_catalog' | 'uid_catalog'
  /**
   * jsonapi ≤2.4 turns request parameters into query terms only for indexes
   * of portal_catalog (or of `catalog=`), then runs the query on the type's
   * mapped catalog; 2.5 uses the indexes of the catalog it queries.
   */
  readonly termsFrom: 'portal_catalog' | 'queried'
  /**
   * ZCatalog ≥4 (Plone 5.2, SENAITE 2.x) answers a query with no usable
   * restriction with nothing; ZCatalog 2.13/3 (Plone 4.3, SENAITE 1.x)
   * with the whole catalog. CatalogTools always add allowedRolesAndUsers,
   * so this only matters for the plain uid_catalog.
   */
  readonly emptyQueryReturnsAll: boolean
  /** core 2.6 upgrade 2609 adds `path` (ExtendedPathIndex) to uid_catalog */
  readonly uidCatalogHasPath: boolean
  /** core 2.6 upgrade 2636: DX setup folders get IReferenceable, so uid_catalog holds them */
  readonly dexterityFoldersInUidCatalog: boolean
  /** catalog id naming: bika_* (1.3, 2.0) or senaite_catalog_* (2.1+) */
  readonly catalogFamily: 'bika' | 'senaite-2.1' | 'senaite-2.5'
  readonly folders: readonly FolderSpec[]
}

const f = (path: string, type: string, dexterity = false): FolderSpec => ({ path, type, dexterity })

/** Folders every layout has (AT everywhere): SC `profiles/default/structure/.objects`. */
const COMMON_FOLDERS: readonly FolderSpec[] = [
  f('clients', 'ClientFolder'), f('batches', 'BatchFolder'), f('worksheets', 'WorksheetFolder'), f('methods', 'Methods'),
  f('bika_setup', 'BikaSetup'), f('bika_setup/bika_labcontacts', 'LabContacts'), f('bika_setup/bika_calculations', 'Calculations'),
  f('bika_setup/bika_analysisservices', 'AnalysisServices'), f('bika_setup/laboratory', 'Laboratory')
]

/** Setup folders of the AT era (1.3 → 2.5): SC v1.3.5 / v2.5.0 `structure/bika_setup/.objects`. */
const AT_SETUP_FOLDERS: readonly FolderSpec[] = [
  f('bika_setup/bika_departments', 'Departments'), f('bika_setup/bika_analysiscategories', 'AnalysisCategories'),
  f('bika_setup/bika_sampletypes', 'SampleTypes'), f('bika_setup/bika_attachmenttypes', 'AttachmentTypes')
]

/** 2.6: DX folders under /setup (SC 2.x `setuphandlers.add_senaite_setup_items`). */
const DX_SETUP_FOLDERS: readonly FolderSpec[] = [
  f('setup', 'Setup', true), f('setup/departments', 'Departments', true), f('setup/analysiscategories', 'AnalysisCategories', true),
  f('setup/sampletypes', 'SampleTypes', true), f('setup/attachmenttypes', 'AttachmentTypes', true), f('setup/labels', 'Labels', true)
]

export const PROFILES: Readonly<Record<SiteLayout, LayoutProfile>> = {
  '1.3': {
    name: '1.3',
    family: '1.x',
    jsonapi: { version: '1.2.4', date: '2021-07-23' },
    plainSearchCatalog: 'portal_catalog',
    termsFrom: 'portal_catalog',
    emptyQueryReturnsAll: true,
    uidCatalogHasPath: false,
    dexterityFoldersInUidCatalog: false,
    catalogFamily: 'bika',
    // 1.3 still has the top-level analysisrequests folder (SC v1.3.5 structure/.objects)
    folders: [...COMMON_FOLDERS, ...AT_SETUP_FOLDERS, f('analysisrequests', 'AnalysisRequestsFolder')]
  },
  '2.0-2.4': {
    name: '2.0-2.4',
    family: '2.x',
    jsonapi: { version: '2.4.0', date: '2023-03-10' },
    plainSearchCatalog: 'portal_catalog',
    termsFrom: 'portal_catalog',
    emptyQueryReturnsAll: false,
    uidCatalogHasPath: false,
    dexterityFoldersInUidCatalog: false,
    catalogFamily: 'senaite-2.1',
    // /samples is a DX listing folder in every 2.x (SC v2.0.0 types/Samples.xml)
    folders: [...COMMON_FOLDERS, ...AT_SETUP_FOLDERS, f('samples', 'Samples', true)]
  },
  '2.5': {
    name: '2.5',
    family: '2.x',
    jsonapi: { version: '2.5.0', date: '2024-01-03' },
    plainSearchCatalog: 'uid_catalog',
    termsFrom: 'queried',
    emptyQueryReturnsAll: false,
    uidCatalogHasPath: false,
    dexterityFoldersInUidCatalog: false,
    catalogFamily: 'senaite-2.5',
    // /setup exists (2.4+) but holds only labels in 2.5; setup content is still AT in bika_setup
    folders: [...COMMON_FOLDERS, ...AT_SETUP_FOLDERS, f('samples', 'Samples', true), f('setup', 'Setup', true), f('setup/labels', 'Labels', true)]
  },
  '2.6': {
    name: '2.6',
    family: '2.x',
    // senaite.jsonapi branch 2.x HEAD says 2.6.0/unreleased; its code is 2.5.0's
    jsonapi: { version: '2.6.0', date: 'unreleased' },
    plainSearchCatalog: 'uid_catalog',
    termsFrom: 'queried',
    emptyQueryReturnsAll: false,
    uidCatalogHasPath: true,
    dexterityFoldersInUidCatalog: true,
    catalogFamily: 'senaite-2.5',
    folders: [...COMMON_FOLDERS, ...DX_SETUP_FOLDERS, f('samples', 'Samples', true)]
  }
}

export function profileOf (layout: SiteLayout): LayoutProfile {
  return PROFILES[layout]
}
