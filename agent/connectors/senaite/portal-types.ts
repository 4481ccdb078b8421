/**
 * The portal types the SENAITE connector replicates, and what it must know
 * of each on each site layout (layouts.ts): its fixed container (a path
 * under the portal and the folder's own portal type, so that what a lookup
 * answers can be checked), or that it lives inside its parent object; the
 * references it cannot be created without; whether it is Dexterity there
 * and under which field names (field-names.ts); how it is retired.
 *
 * Sources: senaite.core v1.3.5 / v2.5.0 `bika/lims/content/*.py` (AT
 * schemas, `required=1`), 2.x (2.6) `senaite/core/content/*.py` (DX
 * schemas) and `setuphandlers.py` `add_senaite_setup_items` (the folders
 * under /setup); /work/scratch/senaite-notes.md §3.3.
 *
 * The order is the dependency order: polling in this order lets a fresh
 * site's objects enter the feed parents-first.
 */
import type { SiteLayout } from './layouts.js'

export interface ContainerSpec {
  /** path below the portal */
  readonly path: string
  /** the folder's portal type (what a lookup's answer must say) */
  readonly folderType: string
}

export interface PortalTypeInfo {
  readonly type: string
  /** the fixed container per layout; undefined = inside the parent object */
  readonly container?: (layout: SiteLayout) => ContainerSpec
  /** deactivate is how it is "deleted"; otherwise cancel or nothing */
  readonly deactivable: boolean
  /**
   * Reference fields (AT names) the site cannot create it without: a
   * sample's SampleType (the ID server reads its prefix), fields AT
   * validation requires. It waits until their targets are in the site.
   */
  readonly requires?: readonly string[]
  /** made by the sample factory with its sample (analyses): adopted, never created on their own */
  readonly factoryMade?: boolean
  /** layouts on which it is a Dexterity type (its fields under DX names, references set by form posts) */
  readonly dexterityOn?: readonly SiteLayout[]
}

const at = (path: string, folderType: string) => (): ContainerSpec => ({ path, folderType })
/** a setup type that moved from bika_setup/bika_<x> (AT) to setup/<x> (DX) in 2.6 */
const setup = (atFolder: string, dxFolder: string, folderType: string) => (layout: SiteLayout): ContainerSpec =>
  layout === '2.6' ? { path: `setup/${dxFolder}`, folderType } : { path: `bika_setup/${atFolder}`, folderType }
const DX_IN_2_6: readonly SiteLayout[] = ['2.6']

export const PORTAL_TYPES: readonly PortalTypeInfo[] = [
  { type: 'LabContact', container: at('bika_setup/bika_labcontacts', 'LabContacts'), deactivable: true },
  { type: 'Department', container: setup('bika_departments', 'departments', 'Departments'), deactivable: true, requires: ['Manager'], dexterityOn: DX_IN_2_6 },
  { type: 'AnalysisCategory', container: setup('bika_analysiscategories', 'analysiscategories', 'AnalysisCategories'), deactivable: true, dexterityOn: DX_IN_2_6 },
  { type: 'Instrument', container: at('bika_setup/bika_instruments', 'Instruments'), deactivable: true },
  { type: 'Method', container: at('methods', 'Methods'), deactivable: true },
  { type: 'Calculation', container: at('bika_setup/bika_calculations', 'Calculations'), deactivable: true },
  { type: 'SampleMatrix', container: setup('bika_samplematrices', 'samplematrices', 'SampleMatrices'), deactivable: true, dexterityOn: DX_IN_2_6 },
  { type: 'ContainerType', container: setup('bika_containertypes', 'containertypes', 'ContainerTypes'), deactivable: true, dexterityOn: DX_IN_2_6 },
  { type: 'AnalysisService', container: at('bika_setup/bika_analysisservices', 'AnalysisServices'), deactivable: true, requires: ['Category'] },
  { type: 'SampleType', container: setup('bika_sampletypes', 'sampletypes', 'SampleTypes'), deactivable: true, dexterityOn: DX_IN_2_6 },
  { type: 'SamplePoint', container: setup('bika_samplepoints', 'samplepoints', 'SamplePoints'), deactivable: true, dexterityOn: DX_IN_2_6 },
  { type: 'AttachmentType', container: setup('bika_attachmenttypes', 'attachmenttypes', 'AttachmentTypes'), deactivable: true, dexterityOn: DX_IN_2_6 },
  { type: 'Client', container: at('clients', 'ClientFolder'), deactivable: true },
  { type: 'Contact', deactivable: true },
  { type: 'Batch', container: at('batches', 'BatchFolder'), deactivable: false },
  { type: 'AnalysisRequest', deactivable: false, requires: ['Contact', 'SampleType'] },
  { type: 'Analysis', deactivable: false, requires: ['AnalysisService'], factoryMade: true },
  { type: 'Worksheet', container: at('worksheets', 'WorksheetFolder'), deactivable: false, requires: ['Analyses'] },
  { type: 'Attachment', deactivable: false }
]

const BY_TYPE = new Map(PORTAL_TYPES.map((t) => [t.type, t]))

export function portalType (type: string): PortalTypeInfo | undefined {
  return BY_TYPE.get(type)
}

/** Whether `type` is a Dexterity type on `layout`. */
export function isDexterity (type: string, layout: SiteLayout): boolean {
  return BY_TYPE.get(type)?.dexterityOn?.includes(layout) === true
}

/** API resource name: the portal type, lower case, spaces removed (§2.1). */
export function resourceOf (type: string): string {
  return type.toLowerCase().replace(/\s+/g, '')
}

/** A SENAITE UID is exactly 32 hexadecimal characters. */
export function isSenaiteUid (value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value)
}
