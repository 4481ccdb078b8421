/**
 * Documents to seed agents with: numbered clients, the filler most tests
 * write when only the count matters.
 */
import type { DocumentInput } from '../../agent/apply/local-writes.js'

/** `count` clients `{ uid: '<uid>-<i>', type: 'Client', id: '<id>-<i>', data: { i } }` */
export function clientDocs (count: number, uid = 'o', id = 'c'): DocumentInput[] {
  return Array.from({ length: count }, (_, i) => ({ uid: `${uid}-${i}`, type: 'Client', id: `${id}-${i}`, data: { i } }))
}
