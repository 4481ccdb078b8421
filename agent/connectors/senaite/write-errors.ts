/**
 * A write the connector refuses itself, before asking the site, with the
 * failed-queue code it is parked under: a container the site does not have
 * (SENAITE_CONTAINER_MISSING), references the site must hold first
 * (MISSING_DEPENDENCY, naming them — the failed queue retries it as soon as
 * they arrive), a file over instance.maxFileBytes (SENAITE_FILE_TOO_LARGE,
 * not retried), a file whose blob went since the object was applied
 * (SENAITE_BLOB_ABSENT, retried).
 */
import { ConnectorError } from '../../errors.js'

export class WriteRefusal extends ConnectorError {
  /** the failed-queue code */
  readonly result: 'SENAITE_CONTAINER_MISSING' | 'MISSING_DEPENDENCY' | 'SENAITE_FILE_TOO_LARGE' | 'SENAITE_BLOB_ABSENT'
  /** mesh uids it waits for */
  readonly missing: readonly string[]
  constructor (result: WriteRefusal['result'], message: string, retryable: boolean, missing: readonly string[] = []) {
    super(message, retryable)
    this.result = result
    this.missing = missing
  }
}
