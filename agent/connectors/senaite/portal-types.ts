/**
 * The portal types the SENAITE connector replicates, and where each lives in
 * a site of each layout (reference/senaite-jsonapi.md §3.1–3.2). A type either
 * has a fixed container (a path under the portal) or lives inside its parent
 * object (samples in clients, analyses in samples).
 *
 * The order is the dependency order of §3.3: polling in this order lets a
 * fresh site's objects enter the feed parents-first.
 */

export type Layout = '2.x' | '1.x'

export interface PortalTypeInfo {
  readonly type: string
  /** container path relative to the portal, per layout; undefined = inside the parent object */
  readonly container?: Readonly<Record<Layout, string>>
  /** deactivate is how it is "deleted"; otherwise cancel/invalidate or nothing */
  readonly deactivable: boolean
  /** created implicitly with their parent (analyses of a sample): adopt by id instead of creating */
  readonly adoptById?: boolean
}

const setup = (twoX: string, oneX: string): Readonly<Record<Layout, string>> => ({ '2.x': twoX, '1.x': oneX })

export const PORTAL_TYPES: readonly PortalTypeInfo[] = [
  { type: 'LabContact', container: setup('bika_setup/bika_labcontacts', 'bika_setup/bika_labcontacts'), deactivable: true },
  { type: 'Department', container: setup('setup/departments', 'bika_setup/bika_departments'), deactivable: true },
  { type: 'AnalysisCategory', container: setup('setup/analysiscategories', 'bika_setup/bika_analysiscategories'), deactivable: true },
  { type: 'Instrument', container: setup('bika_setup/bika_instruments', 'bika_setup/bika_instruments'), deactivable: true },
  { type: 'Method', container: setup('methods', 'methods'), deactivable: true },
  { type: 'Calculation', container: setup('bika_setup/bika_calculations', 'bika_setup/bika_calculations'), deactivable: true },
  { type: 'AnalysisService', container: setup('bika_setup/bika_analysisservices', 'bika_setup/bika_analysisservices'), deactivable: true },
  { type: 'SampleMatrix', container: setup('setup/samplematrices', 'bika_setup/bika_samplematrices'), deactivable: true },
  { type: 'ContainerType', container: setup('setup/containertypes', 'bika_setup/bika_containertypes'), deactivable: true },
  { type: 'SampleType', container: setup('setup/sampletypes', 'bika_setup/bika_sampletypes'), deactivable: true },
  { type: 'SamplePoint', container: setup('setup/samplepoints', 'bika_setup/bika_samplepoints'), deactivable: true },
  { type: 'AttachmentType', container: setup('setup/attachmenttypes', 'bika_setup/bika_attachmenttypes'), deactivable: true },
  { type: 'Client', container: setup('clients', 'clients'), deactivable: true },
  { type: 'Contact', deactivable: true },
  { type: 'Batch', container: setup('batches', 'batches'), deactivable: false },
  { type: 'AnalysisRequest', deactivable: false },
  { type: 'Analysis', deactivable: false, adoptById: true },
  { type: 'Worksheet', container: setup('worksheets', 'worksheets'), deactivable: false },
  { type: 'Attachment', deactivable: false }
]

const BY_TYPE = new Map(PORTAL_TYPES.map((t) => [t.type, t]))

export function portalType (type: string): PortalTypeInfo | undefined {
  return BY_TYPE.get(type)
}

/** API resource name: the portal type, lower case, spaces removed (§2.1). */
export function resourceOf (type: string): string {
  return type.toLowerCase().replace(/\s+/g, '')
}

/** A SENAITE UID is exactly 32 hexadecimal characters. */
export function isSenaiteUid (value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value)
}
