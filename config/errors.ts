/** A configuration that cannot be used, with every problem by field path and its fix. */
import { AgentError } from '../protocol/errors.js'

/** One entry of a ConfigError: where in the file, what is wrong, how to fix it. */
export interface ConfigIssue {
  /** dotted field path, e.g. `peers[1].peerId` */
  readonly path: string
  readonly message: string
  readonly fix: string
}

export class ConfigError extends AgentError {
  readonly issues: readonly ConfigIssue[]
  readonly file: string | undefined
  constructor (issues: readonly ConfigIssue[], file?: string) {
    const where = file !== undefined ? ` in ${file}` : ''
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}. Fix: ${i.fix}`)
    super('CONFIG_INVALID', `invalid configuration${where} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`)
    this.issues = issues
    this.file = file
  }
}
