/**
 * Loading a config: file (YAML) < environment < explicit overrides, validated
 * by the schema, paths made absolute relative to the file, then frozen.
 *
 * A bad file fails here, before anything starts, with ONE ConfigError that
 * lists every problem by field path with what to do about it.
 */
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { ConfigError, type ConfigIssue } from './errors.js'
import { crossFieldIssues } from './cross-checks.js'
import { configSchema, type AgentConfig } from './schema.js'

/** A validated config plus where it came from; file paths inside are absolute. */
export type LoadedConfig = Readonly<AgentConfig> & {
  /** absolute path of the file it was read from (undefined when built in code) */
  readonly configFile: string | undefined
  readonly paths: {
    readonly dataDir: string
    readonly storeDir: string
    /** blob files (attachments), beside the store: <dataDir>/blobs */
    readonly blobsDir: string
    readonly keyFile: string
    readonly tokenFile: string
    readonly pskFile: string | undefined
    /** open and used invitations (agent/invite/), beside the identity key */
    readonly invitesFile: string
  }
}

export async function loadConfigFile (file: string, env: NodeJS.ProcessEnv = {}): Promise<LoadedConfig> {
  const absolute = resolve(file)
  let text: string
  try {
    text = await readFile(absolute, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const fix = code === 'ENOENT' ? 'check the path, or create one with `labmesh init --domain NAME --dir DIR`' : 'check the file\'s permissions'
    throw new ConfigError([{ path: '(file)', message: `cannot read ${absolute} (${code ?? (err as Error).message})`, fix }], absolute)
  }
  return parseConfigText(text, absolute, env)
}

export function parseConfigText (text: string, file: string | undefined, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true })
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({
      path: '(yaml)',
      message: e.message.split('\n')[0] ?? 'YAML syntax error',
      fix: 'correct the YAML syntax at that line (indentation, colons, quotes)'
    })), file)
  }
  const raw: unknown = doc.toJS() ?? {}
  return validateConfig(applyEnv(raw, env), file)
}

/** Validate an in-memory config (tests, the demo). Relative paths resolve against `baseDir`. */
export function validateConfig (raw: unknown, file?: string, baseDir?: string): LoadedConfig {
  const parsed = configSchema.safeParse(raw)
  const issues = [...(parsed.success ? [] : parsed.error.issues.map((issue) => toConfigIssue(issue, raw))), ...crossFieldIssues(raw)]
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues, file)
  const config = parsed.data
  const base = baseDir ?? (file !== undefined ? dirname(file) : process.cwd())
  const abs = (p: string): string => isAbsolute(p) ? p : resolve(base, p)
  const dataDir = abs(config.dataDir)
  const paths = {
    dataDir,
    storeDir: resolve(dataDir, 'store'),
    blobsDir: resolve(dataDir, 'blobs'),
    keyFile: config.identity.keyFile !== undefined ? abs(config.identity.keyFile) : resolve(dataDir, 'identity.key'),
    tokenFile: config.http.tokenFile !== undefined ? abs(config.http.tokenFile) : resolve(dataDir, 'admin.token'),
    pskFile: config.privateNetwork !== undefined ? abs(config.privateNetwork.pskFile) : undefined,
    invitesFile: resolve(dataDir, 'invites.json')
  }
  const instance = config.instance.kind === 'senaite'
    ? {
        ...config.instance,
        passwordFile: config.instance.passwordFile !== undefined ? abs(config.instance.passwordFile) : undefined,
        caFile: config.instance.caFile !== undefined ? abs(config.instance.caFile) : undefined
      }
    : config.instance
  return deepFreeze({ ...config, dataDir, instance, configFile: file, paths })
}

/** LABMESH_LOG_LEVEL and LABMESH_HTTP_LISTEN override the file (handy in service units). */
function applyEnv (raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw
  const out = { ...(raw as Record<string, unknown>) }
  if (env.LABMESH_LOG_LEVEL !== undefined) out.log = { ...(out.log as object ?? {}), level: env.LABMESH_LOG_LEVEL }
  if (env.LABMESH_HTTP_LISTEN !== undefined) out.http = { ...(out.http as object ?? {}), listen: env.LABMESH_HTTP_LISTEN }
  return out
}

function toConfigIssue (issue: z.core.$ZodIssue, raw: unknown): ConfigIssue {
  const path = formatPath(issue.path)
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ')
    return { path: path === '' ? '(top level)' : path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`, fix: 'remove it or correct its spelling (see config/examples/ for every key)' }
  }
  return { path: path === '' ? '(top level)' : path, message: describeIssue(issue, raw), fix: fixFor(issue.path, issue) }
}

function describeIssue (issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === 'invalid_type') {
    // zod 4 leaves the input out of its issues: look the value up in the document,
    // so that a value of the wrong type is not reported as a missing one
    const received = valueAt(raw, issue.path)
    if (received === undefined) return `is required (expected ${issue.expected})`
    return `expected ${issue.expected}, got ${Array.isArray(received) ? 'array' : received === null ? 'null' : typeof received}`
  }
  if (issue.code === 'invalid_union' && (issue as { note?: string }).note === 'No matching discriminator') return 'has an unknown kind'
  return issue.message
}

const FIXES: Array<[RegExp, string]> = [
  [/^domain$/, 'give this agent a short unique name such as lab-a'],
  [/^listen(\.\d+)?$/, 'use a libp2p multiaddr such as /ip4/127.0.0.1/tcp/4101'],
  [/^http\.listen$/, 'use HOST:PORT such as 127.0.0.1:8101'],
  [/^peers\.\d+\.peerId$/, 'paste the ID printed by `labmesh id --config <that peer\'s labmesh.yaml>`'],
  [/^peers\.\d+\.name$/, 'give each peer a unique short name (letters, digits, . _ -) other than this agent\'s domain'],
  [/^peers\.\d+\.addrs(\.\d+)?$/, 'list the peer\'s listen multiaddrs, e.g. /ip4/10.0.0.5/tcp/4100'],
  [/^peers\.\d+\.autoSync\.interval$/, 'use a duration such as 30s, 5m or 1h'],
  [/^peers\.\d+\.types\./, 'list each portal type in at most one of only/skip and one of readOnly/updateOnly; set prefix and types.prefixable together'],
  [/^peers\.\d+\.prefix$/, 'set a prefix distinct from localPrefix together with types.prefixable, or leave both empty'],
  [/^instance(\.kind)?$/, 'use kind: embedded, or kind: senaite with url, username and passwordFile'],
  [/^instance\./, 'see config/examples/ for the senaite instance keys'],
  [/^log\.level$/, 'use one of fatal, error, warn, info, debug, trace, silent'],
  [/^sync\./, 'use a positive whole number within the stated range']
]

function fixFor (path: readonly PropertyKey[], issue: z.core.$ZodIssue): string {
  const key = path.map(String).join('.')
  for (const [re, fix] of FIXES) if (re.test(key)) return fix
  if (issue.code === 'invalid_type') return `set it to a ${issue.expected}`
  return 'correct the value (see config/examples/)'
}

function valueAt (raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  return value
}

function formatPath (path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
