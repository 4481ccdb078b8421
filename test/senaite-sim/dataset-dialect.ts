/**
 * How the dataset generator must phrase a record for the site it seeds,
 * the way a lab's own data would have got there:
 * - field names: AT names (`Manager`, `Department`, `Prefix`, `DepartmentID`)
 *   on AT layouts; Dexterity schema names (`manager`, `department`,
 *   `prefix`, `department_id`) on 2.6, where AT names are ignored;
 * - Dexterity references cannot be set through a JSON body (jsonapi ≤2.5):
 *   they are posted afterwards, form-encoded, as `name:list` byte strings;
 * - file fields take the base64 string, with `filename` and `mimetype`
 *   beside it.
 */
import type { Site } from './site.js'

export interface Phrased {
  /** the JSON create body */
  readonly fields: Record<string, unknown>
  /** DX references, set after the create by a form-encoded update */
  readonly formRefs?: Record<string, string[]>
}

export interface Dialect {
  department (title: string, code: string, manager: string): Phrased
  category (title: string, department: string): Phrased
  sampleType (title: string, prefix: string): Phrased
  file (field: string, filename: string, contentType: string, text: string): Record<string, unknown>
}

export function dialectOf (site: Site): Dialect {
  const dx = (type: string): boolean => site.spec(type)?.dexterity === true
  return {
    department: (title, code, manager) => dx('Department')
      ? { fields: { title, department_id: code }, formRefs: { manager: [manager] } }
      : { fields: { title, DepartmentID: code, Manager: manager } },
    category: (title, department) => dx('AnalysisCategory')
      ? { fields: { title }, formRefs: { department: [department] } }
      : { fields: { title, Department: department } },
    sampleType: (title, prefix) => dx('SampleType')
      ? { fields: { title, prefix, min_volume: '10 ml' } }
      : { fields: { title, Prefix: prefix, MinimumVolume: '10 ml', AdmittedStickerTemplates: [{ admitted: ['QR_1x14mmx39mm.pt'], small_default: 'QR_1x14mmx39mm.pt', large_default: 'QR_1x14mmx39mm.pt' }] } },
    file: (field, filename, contentType, text) => {
      const data = Buffer.from(text).toString('base64')
      return { [field]: data, filename, mimetype: contentType }
    }
  }
}
