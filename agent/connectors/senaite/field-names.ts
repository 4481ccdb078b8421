/**
 * Field names of the setup types senaite.core 2.6 moved from Archetypes to
 * Dexterity (pure). The mesh carries every object under its AT field names
 * — what 1.x and 2.0–2.5 sites and the SENAITE.SYNC add-on use — so a
 * 2.6 site's DX names are mapped to them when read, and back when written:
 * senaite.jsonapi ≤2.5 has no such mapping and silently skips a name the DX
 * schema does not have (notes §7.3).
 *
 * Sources: senaite.core v2.5.0 `bika/lims/content/<type>.py` (AT) against
 * 2.x (2.6) `senaite/core/content/<type>.py` (DX). Names absent here are
 * the same on both (`title`, `description`) or have no counterpart (a 2.5
 * SamplePoint's Latitude/Longitude are one DX `location`): those are left
 * as they are, and a DX site does not keep them.
 */

export interface DexterityField {
  /** the DX schema name */
  readonly name: string
  /** a senaite.core.schema UIDReferenceField (set only by a form post of `name:list`) */
  readonly reference?: 'single' | 'multi'
}

const ref = (name: string, reference: 'single' | 'multi' = 'single'): DexterityField => ({ name, reference })
const plain = (name: string): DexterityField => ({ name })

/** AT name → DX field, per type */
const AT_TO_DX: Readonly<Record<string, Readonly<Record<string, DexterityField>>>> = {
  Department: { DepartmentID: plain('department_id'), Manager: ref('manager') },
  AnalysisCategory: { Comments: plain('comments'), Department: ref('department'), SortKey: plain('sort_key') },
  SampleType: {
    RetentionPeriod: plain('retention_period'),
    Hazardous: plain('hazardous'),
    SampleMatrix: ref('sample_matrix'),
    Prefix: plain('prefix'),
    MinimumVolume: plain('min_volume'),
    ContainerType: ref('container_type'),
    AdmittedStickerTemplates: plain('admitted_sticker_templates')
  },
  SamplePoint: {
    Elevation: plain('elevation'),
    SamplingFrequency: plain('sampling_frequency'),
    SampleTypes: ref('sample_types', 'multi'),
    Composite: plain('composite'),
    AttachmentFile: plain('attachment_file')
  }
}

const DX_TO_AT: Readonly<Record<string, Readonly<Record<string, string>>>> = Object.fromEntries(
  Object.entries(AT_TO_DX).map(([type, fields]) => [type, Object.fromEntries(Object.entries(fields).map(([at, dx]) => [dx.name, at]))]))

/** The DX field an AT-named field of `type` is written to (undefined: the name is the same). */
export function dexterityField (type: string, atName: string): DexterityField | undefined {
  return AT_TO_DX[type]?.[atName]
}

/** The AT name of a field a DX item of `type` shows. */
export function atName (type: string, dxName: string): string {
  return DX_TO_AT[type]?.[dxName] ?? dxName
}

/**
 * AT names of `type`'s DX multi-valued references: senaite.jsonapi ≤2.5
 * reads them as null (a list of objects is not serialisable), so a DX site
 * can be written these but never shows them.
 */
export function unreadableOnDexterity (type: string): string[] {
  return Object.entries(AT_TO_DX[type] ?? {}).filter(([, f]) => f.reference === 'multi').map(([at]) => at)
}
