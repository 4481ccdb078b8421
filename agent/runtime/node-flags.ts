/**
 * Start-time node settings for a process whose main job is running one agent
 * (`labmesh start`, and the bench's agent processes, which must start the
 * same way so that the bench measures what admins run).
 *
 * Why: V8's young generation is sized when node starts — `--max-semi-space-size`
 * given later through v8.setFlagsFromString is ignored (tested on Node 20, 22
 * and 24: the new space still grows to 32 MiB; test/unit/node-flags.test.ts
 * keeps checking it) — and glibc reads MALLOC_ARENA_MAX only when the
 * process starts. So these are handed to a new node (agent/cli/relaunch.ts)
 * rather than set at run time like heap-tuning.ts's growth factor.
 * What they save and cost is measured in bench/README.md ("Round four: memory").
 *
 * The admin's own settings win: a flag of the same name in node's own
 * arguments or NODE_OPTIONS, or an environment variable already set, is
 * left as given. LABMESH_NODE_FLAGS replaces the flag list ("none": add
 * nothing and start no second node).
 */
import { ConfigError } from '../../config/errors.js'

/** a 4 MiB semi-space instead of 16 (Node 20; 32 MiB young generation → 8) */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4']
/** environment a relaunched agent gets unless the variable is already set */
export const AGENT_NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' }
/** the admin's list of node flags for the agent, or "none" */
export const NODE_FLAGS_VAR = 'LABMESH_NODE_FLAGS'
/** set in the relaunched process (how it was started): it never relaunches again, whatever its flags */
export const RELAUNCHED_VAR = 'LABMESH_RELAUNCHED'

/** What a process still lacks of the agent's start-time settings (both empty: nothing). */
export interface StartSettings {
  readonly flags: readonly string[]
  readonly env: Readonly<Record<string, string>>
}

const NOTHING: StartSettings = { flags: [], env: {} }

/**
 * The settings a node started with `execArgv` and `env` still lacks.
 * Throws ConfigError when LABMESH_NODE_FLAGS holds something that is not a flag.
 */
export function missingStartSettings (execArgv: readonly string[], env: Readonly<Record<string, string | undefined>>): StartSettings {
  if (env[RELAUNCHED_VAR] !== undefined) return NOTHING
  const chosen = (env[NODE_FLAGS_VAR] ?? '').trim()
  if (chosen === 'none') return NOTHING
  const wanted = chosen !== '' ? chosen.split(/\s+/) : AGENT_NODE_FLAGS
  const bad = wanted.filter((f) => !f.startsWith('--'))
  if (bad.length > 0) {
    throw new ConfigError([{ path: NODE_FLAGS_VAR, message: `"${bad.join(' ')}" is not a node flag`, fix: 'give node flags separated by spaces (e.g. --max-semi-space-size=4), or "none"' }])
  }
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName))
  const flags = wanted.filter((f) => !given.has(flagName(f)))
  const added = Object.entries(AGENT_NODE_ENV).filter(([k]) => env[k] === undefined)
  return { flags, env: Object.fromEntries(added) }
}

/** true when there is nothing to add */
export function isNothing (s: StartSettings): boolean {
  return s.flags.length === 0 && Object.keys(s.env).length === 0
}

/** `--max_semi_space_size=8` and `--no-max-semi-space-size` name the same setting as `--max-semi-space-size=4` */
function flagName (arg: string): string {
  const name = (arg.split('=')[0] ?? arg).replace(/_/g, '-')
  return name.startsWith('--no-') ? `--${name.slice(5)}` : name
}
