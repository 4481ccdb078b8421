/**
 * What a create (create.ts, sample-factory.ts) is given by the batch it is
 * part of, and what it answers: types only, shared by both.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { ConnectorRows } from '../connector.js'

/** What a create needs from the batch it is part of. */
export interface CreateContext {
  readonly rows: ConnectorRows | undefined
  /** a version of this batch, or the one the store holds */
  versionOf (meshUid: string): Promise<ObjectVersion | undefined>
  /** the mesh uids of this batch's analyses inside this sample */
  childrenInBatch (meshUid: string): readonly string[]
  /** the analyses listed inside a sample (by its SENAITE uid) during this batch: listed once, not per analysis */
  readonly analysesListed: Map<string, Promise<Array<Record<string, unknown>>>>
}

export interface Created {
  /** the site's object, as the API answered it */
  readonly item: Record<string, unknown>
  /** made earlier (by an attempt whose outcome was unknown, or by the sample factory): its fields still to be written */
  readonly adopted: boolean
}
