/**
 * Command-line flags for benchmark programs, and "am I the entry point?".
 *
 * Flags are typed by their defaults: `parseBenchArgs(argv, { objects: 50_000,
 * seed: 1, keep: false })` accepts `--objects 1000`, `--objects=1e6`,
 * `--seed 7`, `--keep` / `--no-keep`, and returns the same shape. Unknown
 * flags and malformed numbers throw, so a typo never silently benchmarks the
 * default.
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export type FlagValue = number | string | boolean

export class BenchArgsError extends Error {
  override readonly name = 'BenchArgsError'
}

export function parseBenchArgs<T extends Record<string, FlagValue>> (argv: readonly string[], defaults: T): T {
  const out: Record<string, FlagValue> = { ...defaults }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (!arg.startsWith('--')) throw new BenchArgsError(`unexpected argument ${JSON.stringify(arg)}`)
    const eq = arg.indexOf('=')
    const raw = arg.slice(2, eq === -1 ? undefined : eq)
    let name = camel(raw)
    let inline: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1)
    let negated = false
    if (!(name in defaults) && raw.startsWith('no-') && typeof defaults[camel(raw.slice(3))] === 'boolean') {
      name = camel(raw.slice(3))
      negated = true
    }
    if (!(name in defaults)) throw new BenchArgsError(`unknown flag ${arg}; known: ${Object.keys(defaults).map((k) => '--' + kebab(k)).join(' ')}`)
    const kind = typeof defaults[name]
    if (kind === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new BenchArgsError(`${arg}: expected true or false`)
      out[name] = negated ? false : inline !== 'false'
      continue
    }
    if (inline === undefined) {
      inline = argv[++i]
      if (inline === undefined) throw new BenchArgsError(`${arg} needs a value`)
    }
    if (kind === 'number') {
      const n = Number(inline.replace(/_/g, ''))
      if (!Number.isFinite(n)) throw new BenchArgsError(`${arg}: ${JSON.stringify(inline)} is not a number`)
      out[name] = n
    } else {
      out[name] = inline
    }
  }
  return out as T
}

/** True when the module at `metaUrl` is the script node was started with (not imported by a runner). */
export function isMainModule (metaUrl: string): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(metaUrl))
  } catch {
    return false
  }
}

function camel (s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
}

function kebab (s: string): string {
  return s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())
}
