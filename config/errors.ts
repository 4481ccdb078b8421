/** A configuration that cannot be used, with every problem by field path and its fix. */
import { AgentError, type ErrorCode } from '../protocol/errors.js'

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
  constructor (issues: readonly ConfigIssue[], file?: string, kind: { code: ErrorCode, headline: string } = { code: 'CONFIG_INVALID', headline: 'invalid configuration' }) {
    const where = file !== undefined ? ` in ${file}` : ''
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}. Fix: ${i.fix}`)
    super(kind.code, `${kind.headline}${where} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`)
    this.issues = issues
    this.file = file
  }
}

/**
 * A reload that would change keys read only at start (config/live-changes.ts):
 * refused whole, so the running agent is left exactly as it was.
 */
export class ConfigRestartError extends ConfigError {
  constructor (issues: readonly ConfigIssue[], file?: string) {
    super(issues, file, { code: 'CONFIG_RESTART_REQUIRED', headline: 'nothing was reloaded: the configuration changes keys that apply only at a restart' })
  }
}
