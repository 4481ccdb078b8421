/**
 * The portal types the simulator models and their workflows. SIM_TYPES is
 * the table of the legacy kind layouts (2.x-legacy-kind / 1.x-legacy-kind:
 * container, catalog, AT or Dexterity, reference fields per family); the
 * real layouts derive their per-layout model from it and from the sources
 * in types.ts. WORKFLOWS serves every layout.
 */

/** the two layout families the legacy table knows (and the connector's `instance.layout`) */
export type Layout = '2.x' | '1.x'

export interface RefField {
  /** a list of references (multi) or a single one */
  readonly multi: boolean
}

export interface SimType {
  readonly type: string
  /** container path below the portal per layout; undefined = inside a parent object */
  readonly container?: Readonly<Record<Layout, string>>
  /** types of the parent object when there is no fixed container */
  readonly parentTypes?: readonly string[]
  /** Dexterity types serialise references as UID strings; AT types as {uid, url, api_url} */
  readonly dexterity: Readonly<Record<Layout, boolean>>
  readonly catalog: string
  readonly refs: Readonly<Record<string, RefField>>
  /** the workflow the type follows */
  readonly workflow: 'deactivable' | 'sample' | 'analysis' | 'worksheet' | 'batch' | 'one-state'
  /** file fields */
  readonly files?: readonly string[]
}

const both = (twoX: string, oneX: string): Record<Layout, string> => ({ '2.x': twoX, '1.x': oneX })
const dx = { '2.x': true, '1.x': false } as const
const at = { '2.x': false, '1.x': false } as const

export const SIM_TYPES: readonly SimType[] = [
  { type: 'LabContact', container: both('bika_setup/bika_labcontacts', 'bika_setup/bika_labcontacts'), dexterity: at, catalog: 'senaite_catalog_setup', refs: { Departments: { multi: true }, DefaultDepartment: { multi: false } }, workflow: 'deactivable' },
  { type: 'Department', container: both('setup/departments', 'bika_setup/bika_departments'), dexterity: dx, catalog: 'senaite_catalog_setup', refs: { manager: { multi: false } }, workflow: 'deactivable' },
  { type: 'AnalysisCategory', container: both('setup/analysiscategories', 'bika_setup/bika_analysiscategories'), dexterity: dx, catalog: 'senaite_catalog_setup', refs: { department: { multi: false } }, workflow: 'deactivable' },
  { type: 'Method', container: both('methods', 'methods'), dexterity: at, catalog: 'senaite_catalog_setup', refs: { Calculations: { multi: true }, Instruments: { multi: true } }, workflow: 'deactivable', files: ['MethodDocument'] },
  { type: 'Calculation', container: both('bika_setup/bika_calculations', 'bika_setup/bika_calculations'), dexterity: at, catalog: 'senaite_catalog_setup', refs: { DependentServices: { multi: true } }, workflow: 'deactivable' },
  { type: 'AnalysisService', container: both('bika_setup/bika_analysisservices', 'bika_setup/bika_analysisservices'), dexterity: at, catalog: 'senaite_catalog_setup', refs: { Category: { multi: false }, Department: { multi: false }, Methods: { multi: true }, Calculation: { multi: false } }, workflow: 'deactivable' },
  { type: 'SampleType', container: both('setup/sampletypes', 'bika_setup/bika_sampletypes'), dexterity: dx, catalog: 'senaite_catalog_setup', refs: {}, workflow: 'deactivable' },
  { type: 'AttachmentType', container: both('setup/attachmenttypes', 'bika_setup/bika_attachmenttypes'), dexterity: dx, catalog: 'senaite_catalog_setup', refs: {}, workflow: 'deactivable' },
  { type: 'Client', container: both('clients', 'clients'), dexterity: at, catalog: 'senaite_catalog_client', refs: { DefaultCategories: { multi: true } }, workflow: 'deactivable' },
  { type: 'Contact', parentTypes: ['Client'], dexterity: at, catalog: 'senaite_catalog_contact', refs: { CCContact: { multi: true } }, workflow: 'deactivable' },
  { type: 'Batch', container: both('batches', 'batches'), dexterity: at, catalog: 'senaite_catalog', refs: { Client: { multi: false } }, workflow: 'batch' },
  { type: 'AnalysisRequest', parentTypes: ['Client'], dexterity: at, catalog: 'senaite_catalog_sample', refs: { Client: { multi: false }, Contact: { multi: false }, CCContact: { multi: true }, SampleType: { multi: false }, Batch: { multi: false }, Attachment: { multi: true } }, workflow: 'sample' },
  { type: 'Analysis', parentTypes: ['AnalysisRequest'], dexterity: at, catalog: 'senaite_catalog_analysis', refs: { AnalysisService: { multi: false }, Method: { multi: false }, Attachment: { multi: true } }, workflow: 'analysis' },
  { type: 'Worksheet', container: both('worksheets', 'worksheets'), dexterity: at, catalog: 'senaite_catalog_worksheet', refs: { Analyses: { multi: true } }, workflow: 'worksheet' },
  { type: 'Attachment', parentTypes: ['Client', 'Worksheet'], dexterity: at, catalog: 'senaite_catalog', refs: { AttachmentType: { multi: false } }, workflow: 'one-state', files: ['AttachmentFile'] }
]

export const SIM_TYPE_BY_NAME = new Map(SIM_TYPES.map((t) => [t.type, t]))
export const SIM_TYPE_BY_RESOURCE = new Map(SIM_TYPES.map((t) => [t.type.toLowerCase(), t]))

/** LEGACY: the kind simulator's catalogs and their indexes (only the sample catalog indexes `modified`). */
export function catalogIndexes (withModifiedEverywhere: boolean): Record<string, string[]> {
  const base = ['UID', 'portal_type', 'path', 'id', 'created', 'review_state', 'is_active', 'sortable_title']
  const withModified = [...base, 'modified']
  return {
    uid_catalog: ['UID', 'portal_type', 'path', 'id'],
    portal_catalog: withModifiedEverywhere ? withModified : base,
    senaite_catalog: withModifiedEverywhere ? withModified : base,
    senaite_catalog_setup: withModifiedEverywhere ? withModified : base,
    senaite_catalog_client: withModifiedEverywhere ? withModified : base,
    senaite_catalog_contact: withModifiedEverywhere ? withModified : base,
    senaite_catalog_sample: withModified,
    senaite_catalog_analysis: withModifiedEverywhere ? withModified : base,
    senaite_catalog_worksheet: withModifiedEverywhere ? withModified : base
  }
}

/** Workflows: state → action → next state. */
export const WORKFLOWS: Record<SimType['workflow'], { initial: string, auto?: string[], transitions: Record<string, Record<string, string>> }> = {
  deactivable: { initial: 'active', transitions: { active: { deactivate: 'inactive' }, inactive: { activate: 'active' } } },
  sample: {
    initial: 'sample_registered',
    auto: ['no_sampling_workflow'],
    transitions: {
      sample_registered: { no_sampling_workflow: 'sample_due' },
      sample_due: { receive: 'sample_received', cancel: 'cancelled', reject: 'rejected' },
      sample_received: { submit: 'to_be_verified', invalidate: 'invalid' },
      to_be_verified: { verify: 'verified' },
      verified: { publish: 'published', invalidate: 'invalid' },
      published: { invalidate: 'invalid' },
      cancelled: { reinstate: 'sample_due' }
    }
  },
  analysis: {
    initial: 'registered',
    transitions: {
      registered: { initialize: 'unassigned' },
      unassigned: { assign: 'assigned', submit: 'to_be_verified' },
      assigned: { unassign: 'unassigned', submit: 'to_be_verified' },
      to_be_verified: { verify: 'verified', retract: 'retracted' },
      verified: { publish: 'published' }
    }
  },
  worksheet: { initial: 'open', transitions: { open: { submit: 'to_be_verified' }, to_be_verified: { verify: 'verified', retract: 'open' } } },
  batch: { initial: 'open', transitions: { open: { close: 'closed', cancel: 'cancelled' }, closed: { open: 'open' } } },
  'one-state': { initial: 'active', transitions: {} }
}
