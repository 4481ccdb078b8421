/**
 * Portal types per real layout: where each lives, whether it is Archetypes
 * or Dexterity there, which catalogs it is mapped to (first = the one a
 * query for the type uses), its reference fields and how each is stored,
 * its file fields, and the AT fields validation requires. Only the types the
 * connector replicates are modelled with content; other SENAITE types are
 * known by name (their resource answers an empty listing).
 *
 * Sources: senaite.core v1.3.5 / v2.4.0 / v2.5.0 / 2.x (2.6) content
 * schemas (`bika/lims/content/*.py`, `senaite/core/content/*.py`) and
 * CATALOG_MAPPINGS (`setuphandlers.py`, `senaite/core/catalog/__init__.py`).
 */
import type { RealLayout } from './layouts.js'
import { WORKFLOW_OF, type WorkflowName } from './site-model.js'

/**
 * How a reference field stores and shows its value:
 * - 'at-uid': senaite's AT UIDReferenceField (2.x everywhere, some 1.3
 *   fields): any 32-char string is stored, targets unchecked; reads back
 *   {uid,url,api_url} (single) / list (multi); empty → {}.
 * - 'at-reference': Archetypes ReferenceField (most 1.3 fields): an unknown
 *   UID resolves to nothing and clears the field; empty reads back null.
 * - 'dx': senaite.core.schema UIDReferenceField (2.6 setup types): a list of
 *   byte strings only (a JSON body never sets it); single reads back
 *   {uid,url,api_url}, multi null (a list of objects is not serialisable).
 */
export type RefKind = 'at-uid' | 'at-reference' | 'dx'

export interface RefSpec { readonly multi: boolean, readonly kind: RefKind }

export interface TypeSpec {
  readonly type: string
  /** container path below the portal; undefined = inside a parent object */
  readonly container?: string
  readonly parentTypes?: readonly string[]
  readonly dexterity: boolean
  /** mapped catalogs, primary first (empty: not mapped, i.e. uid_catalog / portal_catalog) */
  readonly catalogs: readonly string[]
  readonly refs: Readonly<Record<string, RefSpec>>
  readonly files: readonly string[]
  /** AT fields `obj.validate()` requires (answer 400 and the new object removed) */
  readonly required: readonly string[]
  /** DX schema field names: any other key is skipped silently */
  readonly schema?: readonly string[]
  /** on an AT layout, the names that are only Dexterity fields of this type (2.6): no field here, skipped */
  readonly notFields?: readonly string[]
  readonly workflow: WorkflowName
}

type PerLayout<T> = Readonly<Record<RealLayout, T>>
const same = <T>(v: T): PerLayout<T> => ({ '1.3': v, '2.0-2.4': v, '2.5': v, '2.6': v })
const at13 = (multi: boolean): PerLayout<RefSpec> => ({ '1.3': { multi, kind: 'at-reference' }, '2.0-2.4': { multi, kind: 'at-uid' }, '2.5': { multi, kind: 'at-uid' }, '2.6': { multi, kind: 'at-uid' } })
const uid = (multi: boolean): PerLayout<RefSpec> => same({ multi, kind: 'at-uid' })

/** catalogs by era: 1.3 bika_*; 2.0–2.4 SENAITE catalogs + portal_catalog; 2.5+ SENAITE catalogs only (core #2368) */
const cat = (v13: string[], v24: string[], v25: string[]): PerLayout<readonly string[]> => ({ '1.3': v13, '2.0-2.4': v24, '2.5': v25, '2.6': v25 })
const SETUP = cat(['bika_setup_catalog', 'portal_catalog'], ['senaite_catalog_setup', 'portal_catalog'], ['senaite_catalog_setup'])

interface RealType {
  readonly type: string
  readonly container?: PerLayout<string>
  readonly parentTypes?: readonly string[]
  readonly dexterityIn?: readonly RealLayout[]
  readonly catalogs: PerLayout<readonly string[]>
  /** AT reference fields */
  readonly refs: Readonly<Record<string, PerLayout<RefSpec>>>
  /** DX schema (for the layouts in dexterityIn) */
  readonly dx?: { readonly schema: readonly string[], readonly refs: Readonly<Record<string, RefSpec>> }
  readonly files?: readonly string[]
  readonly required?: Partial<PerLayout<readonly string[]>>
}

const setupPath = (atFolder: string, dxFolder: string): PerLayout<string> => ({ '1.3': `bika_setup/${atFolder}`, '2.0-2.4': `bika_setup/${atFolder}`, '2.5': `bika_setup/${atFolder}`, '2.6': `setup/${dxFolder}` })

const REAL_TYPES: readonly RealType[] = [
  { type: 'LabContact', container: same('bika_setup/bika_labcontacts'), catalogs: cat(['bika_setup_catalog', 'portal_catalog'], ['senaite_catalog_setup', 'portal_catalog'], ['senaite_catalog_contact']), refs: { Departments: at13(true), DefaultDepartment: uid(false) } },
  {
    type: 'Department',
    container: setupPath('bika_departments', 'departments'),
    dexterityIn: ['2.6'],
    catalogs: SETUP,
    refs: { Manager: at13(false) },
    dx: { schema: ['title', 'description', 'department_id', 'manager'], refs: { manager: { multi: false, kind: 'dx' } } },
    // SC v2.5.0 department.py: DepartmentID and Manager required (the 2.x create doctest sends both)
    required: { '2.0-2.4': ['DepartmentID', 'Manager'], '2.5': ['DepartmentID', 'Manager'] }
  },
  {
    type: 'AnalysisCategory',
    container: setupPath('bika_analysiscategories', 'analysiscategories'),
    dexterityIn: ['2.6'],
    catalogs: cat(['bika_setup_catalog'], ['senaite_catalog_setup', 'portal_catalog'], ['senaite_catalog_setup']),
    refs: { Department: at13(false) },
    dx: { schema: ['title', 'description', 'comments', 'department', 'sort_key'], refs: { department: { multi: false, kind: 'dx' } } }
  },
  { type: 'Method', container: same('methods'), catalogs: SETUP, refs: { Calculations: uid(true), Instruments: uid(true), Calculation: uid(false) }, files: ['MethodDocument'] },
  { type: 'Calculation', container: same('bika_setup/bika_calculations'), catalogs: SETUP, refs: { DependentServices: uid(true) } },
  {
    type: 'AnalysisService',
    container: same('bika_setup/bika_analysisservices'),
    catalogs: SETUP,
    refs: { Category: uid(false), Department: uid(false), Methods: uid(true), Calculation: uid(false), Instruments: uid(true) },
    // SC v1.3.5 / v2.5.0 abstractbaseanalysis.py: Keyword and Category required=1
    required: { '1.3': ['Keyword', 'Category'], '2.0-2.4': ['Keyword', 'Category'], '2.5': ['Keyword', 'Category'], '2.6': ['Keyword', 'Category'] }
  },
  {
    type: 'SampleType',
    container: setupPath('bika_sampletypes', 'sampletypes'),
    dexterityIn: ['2.6'],
    catalogs: SETUP,
    refs: { SampleMatrix: at13(false), ContainerType: at13(false) },
    dx: {
      schema: ['title', 'description', 'retention_period', 'hazardous', 'sample_matrix', 'prefix', 'min_volume', 'container_type', 'admitted_sticker_templates'],
      refs: { sample_matrix: { multi: false, kind: 'dx' }, container_type: { multi: false, kind: 'dx' } }
    },
    // create.rst: the 1.2.4 doctest's 400 lacks MinimumVolume; the 2.x one lacks AdmittedStickerTemplates (required_subfields)
    required: { '1.3': ['Prefix', 'MinimumVolume'], '2.0-2.4': ['Prefix', 'MinimumVolume', 'AdmittedStickerTemplates'], '2.5': ['Prefix', 'MinimumVolume', 'AdmittedStickerTemplates'] }
  },
  {
    type: 'AttachmentType',
    container: setupPath('bika_attachmenttypes', 'attachmenttypes'),
    dexterityIn: ['2.6'],
    catalogs: cat(['bika_setup_catalog'], ['senaite_catalog_setup', 'portal_catalog'], ['senaite_catalog_setup']),
    refs: {},
    dx: { schema: ['title', 'description'], refs: {} }
  },
  // Client and Contact are unmapped before 2.5: AT's default catalog, portal_catalog
  { type: 'Client', container: same('clients'), catalogs: cat(['portal_catalog'], ['portal_catalog'], ['senaite_catalog_client']), refs: { DefaultCategories: at13(true), RestrictedCategories: at13(true) } },
  { type: 'Contact', parentTypes: ['Client'], catalogs: cat(['portal_catalog'], ['portal_catalog'], ['senaite_catalog_contact']), refs: { CCContact: at13(true) } },
  { type: 'Batch', container: same('batches'), catalogs: cat(['bika_catalog', 'portal_catalog'], ['senaite_catalog', 'portal_catalog'], ['senaite_catalog']), refs: { Client: at13(false) } },
  {
    type: 'AnalysisRequest',
    parentTypes: ['Client'],
    catalogs: cat(['bika_catalog_analysisrequest_listing'], ['senaite_catalog_sample'], ['senaite_catalog_sample']),
    // SC v1.3.5 analysisrequest.py: Contact and SampleType are UIDReferenceFields, the rest ReferenceFields
    refs: { Client: at13(false), Contact: uid(false), CCContact: at13(true), SampleType: uid(false), Batch: at13(false), Attachment: at13(true), Profiles: at13(true) }
  },
  { type: 'Analysis', parentTypes: ['AnalysisRequest'], catalogs: cat(['bika_analysis_catalog'], ['senaite_catalog_analysis'], ['senaite_catalog_analysis']), refs: { AnalysisService: uid(false), Method: uid(false), Attachment: uid(true), RetestOf: uid(false) } },
  { type: 'Worksheet', container: same('worksheets'), catalogs: cat(['bika_catalog_worksheet_listing'], ['senaite_catalog_worksheet', 'portal_catalog'], ['senaite_catalog_worksheet']), refs: { Analyses: at13(true) } },
  { type: 'Attachment', parentTypes: ['Client', 'Worksheet'], catalogs: cat(['portal_catalog'], ['senaite_catalog', 'portal_catalog'], ['senaite_catalog']), refs: { AttachmentType: at13(false) }, files: ['AttachmentFile'] }
]

const REAL_BY_NAME = new Map(REAL_TYPES.map((t) => [t.type, t]))

/** SENAITE portal types the simulator has no content model for: their resources exist and answer empty listings. */
export const KNOWN_EMPTY_TYPES: readonly string[] = [
  'Instrument', 'InstrumentType', 'InstrumentLocation', 'SampleMatrix', 'ContainerType', 'SamplePoint', 'SampleCondition', 'SamplingDeviation',
  'StorageLocation', 'Preservation', 'SampleContainer', 'Manufacturer', 'Supplier', 'SupplierContact', 'LabProduct', 'SubGroup', 'BatchLabel',
  'AnalysisProfile', 'ARTemplate', 'AnalysisSpec', 'ReferenceDefinition', 'ReferenceSample', 'WorksheetTemplate', 'ARReport',
  'DuplicateAnalysis', 'ReferenceAnalysis', 'RejectAnalysis', 'Invoice', 'Label'
]

/** The type's model on a layout. */
export function typeSpec (layout: RealLayout, type: string): TypeSpec | undefined {
  const real = REAL_BY_NAME.get(type)
  const workflow = WORKFLOW_OF[type]
  if (real === undefined || workflow === undefined) return undefined
  const dexterity = real.dexterityIn?.includes(layout) === true
  const refs: Record<string, RefSpec> = {}
  if (dexterity && real.dx !== undefined) Object.assign(refs, real.dx.refs)
  else for (const [name, per] of Object.entries(real.refs)) refs[name] = per[layout]
  return {
    type,
    ...(real.container !== undefined ? { container: real.container[layout] } : {}),
    ...(real.parentTypes !== undefined ? { parentTypes: real.parentTypes } : {}),
    dexterity,
    catalogs: real.catalogs[layout],
    refs,
    files: real.files ?? [],
    required: dexterity ? [] : real.required?.[layout] ?? [],
    ...(dexterity && real.dx !== undefined ? { schema: real.dx.schema } : {}),
    ...(!dexterity && real.dx !== undefined ? { notFields: real.dx.schema.filter((n) => n !== 'title' && n !== 'description') } : {}),
    workflow
  }
}

/** folderish types (`is_folderish`): `children=yes` lists their contents */
export const FOLDERISH_TYPES: readonly string[] = ['Client', 'AnalysisRequest', 'Worksheet', 'Batch']

/** Every modelled type name (the same set on every layout). */
export const MODELLED_TYPES: readonly string[] = REAL_TYPES.map((t) => t.type)
