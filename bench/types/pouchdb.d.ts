/**
 * The slice of PouchDB 9 and express-pouchdb 4 the PouchDB baseline uses.
 * Neither ships types and @types/pouchdb is not a dependency; declaring only
 * what is called keeps the baseline type-checked without pulling in the
 * whole DefinitelyTyped family.
 */
declare module 'pouchdb' {
  namespace PouchDB {
    interface Doc { _id: string, _rev?: string, [field: string]: unknown }
    interface BulkResult { ok?: boolean, id?: string, rev?: string, error?: string | boolean, reason?: string }
    interface AllDocsRow { id: string, key: string, value: { rev: string, deleted?: boolean }, doc?: Doc, error?: string }
    interface AllDocsResult { total_rows: number, offset: number, rows: AllDocsRow[] }
    interface Info { db_name: string, doc_count: number, update_seq: number | string, adapter?: string }
    interface ReplicateOptions { batch_size?: number, batches_limit?: number, live?: boolean, retry?: boolean }
    interface ReplicationInfo {
      ok?: boolean
      docs_read: number
      docs_written: number
      doc_write_failures: number
      errors: unknown[]
      last_seq?: number | string
      status?: string
    }
    interface Replication extends Promise<ReplicationInfo> {
      on: ((event: 'change', listener: (info: ReplicationInfo) => void) => Replication) &
      ((event: 'complete', listener: (info: ReplicationInfo) => void) => Replication) &
      ((event: 'paused' | 'error' | 'denied', listener: (err?: unknown) => void) => Replication) &
      ((event: 'active', listener: () => void) => Replication)
      cancel: () => void
    }
    interface Database {
      bulkDocs: (docs: Doc[]) => Promise<BulkResult[]>
      allDocs: (options: { keys?: string[], include_docs?: boolean, limit?: number }) => Promise<AllDocsResult>
      info: () => Promise<Info>
      close: () => Promise<void>
      destroy: () => Promise<void>
      replicate: { from: (source: string | Database, options?: ReplicateOptions) => Replication }
    }
    interface DatabaseOptions { prefix?: string, adapter?: string, auto_compaction?: boolean }
    interface Static {
      new (name: string, options?: DatabaseOptions): Database
      defaults: (options: DatabaseOptions) => Static
    }
  }
  const PouchDB: PouchDB.Static
  export default PouchDB
}

declare module 'express-pouchdb' {
  import type { IncomingMessage, ServerResponse } from 'node:http'
  interface ExpressPouchDBOptions {
    /** 'minimumForPouchDB' serves just what replication needs, writes no config or log files */
    mode?: 'fullCouchDB' | 'minimumForPouchDB' | 'custom'
    inMemoryConfig?: boolean
  }
  type RequestListener = (req: IncomingMessage, res: ServerResponse) => void
  function expressPouchDB (pouchdb: unknown, options?: ExpressPouchDBOptions): RequestListener
  export default expressPouchDB
}
