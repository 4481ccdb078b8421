/**
 * What a digest check reports (store/digest-check.ts runs it): the types
 * alone, so that store/types.ts can name them without importing the check.
 */
import type { DigestGroup, DigestLeaf } from '../protocol/digest.js'

/** One uid whose stored digest and record disagree. */
export interface DigestProblem {
  readonly uid: string
  /** what the digest says it holds (undefined: no leaf); `key` names its row for healDigest */
  readonly stored?: { readonly group: DigestGroup, readonly leaf: DigestLeaf, readonly key: string }
  /** what its record holds (undefined: no record) */
  readonly actual?: { readonly group: DigestGroup, readonly leaf: DigestLeaf }
}

export interface DigestCheckReport {
  /** records read */
  readonly objects: number
  /** the digest rebuilt from the records, over every group */
  readonly rebuilt: { readonly count: number, readonly hash: string }
  /** the stored digest (its group aggregates), over every group */
  readonly stored: { readonly count: number, readonly hash: string }
  /** the stored digest is exactly the rebuilt one: leaves and aggregates */
  readonly equal: boolean
  /** uids whose digest and record disagree (at most `maxProblems`), in uid order */
  readonly problems: readonly DigestProblem[]
  /** how many there are in all */
  readonly problemCount: number
  /** group aggregates that are not the sum of their leaves */
  readonly groupProblems: ReadonlyArray<{ readonly group: DigestGroup, readonly stored: string, readonly fromLeaves: string }>
}

export interface DigestCheckOptions {
  /** rows read so far, of about `total` */
  readonly onProgress?: (done: number, total: number) => void
  /** problems listed (default 1000; all are counted) */
  readonly maxProblems?: number
  /** stops the check between pages (it then throws the signal's reason) */
  readonly signal?: AbortSignal
}
