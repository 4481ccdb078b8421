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
 *
 * Where node can replace its process (process.execve: Node 22.15+, 23.11+,
 * 24) this is the default. Node 20 cannot: the new node has to run as a
 * child of the first, which then is the PID the admin sees but not the one
 * holding the store, and a SIGKILL reaches the agent only ~1 s later (the
 * crash and lock tests caught both). So there it is done only when the admin
 * asks by setting LABMESH_NODE_FLAGS; otherwise the agent logs how to start
 * node with the settings (NODE_OPTIONS, a unit's Environment=).
 */
/** LABMESH_NODE_FLAGS holds something that is not a node flag (bin/labmesh.js exits 2, as for a bad config) */
export class NodeFlagsError extends Error {
  readonly code = 'NODE_FLAGS_INVALID'
  constructor (message: string) {
    super(message)
    this.name = 'NodeFlagsError'
  }
}

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
 * Throws NodeFlagsError when LABMESH_NODE_FLAGS holds something that is not a flag.
 */
export function missingStartSettings (execArgv: readonly string[], env: Readonly<Record<string, string | undefined>>): StartSettings {
  if (env[RELAUNCHED_VAR] !== undefined) return NOTHING
  const chosen = (env[NODE_FLAGS_VAR] ?? '').trim()
  if (chosen === 'none') return NOTHING
  const wanted = chosen !== '' ? chosen.split(/\s+/) : AGENT_NODE_FLAGS
  const bad = wanted.filter((f) => !f.startsWith('--'))
  if (bad.length > 0) {
    throw new NodeFlagsError(`${NODE_FLAGS_VAR}: "${bad.join(' ')}" is not a node flag; give node flags separated by spaces (e.g. --max-semi-space-size=4), or "none"`)
  }
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName))
  const flags = wanted.filter((f) => !given.has(flagName(f)))
  const added = Object.entries(AGENT_NODE_ENV).filter(([k]) => env[k] === undefined)
  return { flags, env: Object.fromEntries(added) }
}

/**
 * What `labmesh start` adds in this node: the missing settings where the
 * process can be replaced, or where the admin named the flags; else nothing.
 */
export function startSettingsToApply (execArgv: readonly string[], env: Readonly<Record<string, string | undefined>>, canReplaceProcess: boolean): StartSettings {
  const asked = (env[NODE_FLAGS_VAR] ?? '').trim() !== ''
  return canReplaceProcess || asked ? missingStartSettings(execArgv, env) : NOTHING
}

/** node can replace this process with another (execve): Node 22.15+, 23.11+, 24, not on Windows */
export function canReplaceProcess (): boolean {
  return typeof (process as unknown as { execve?: unknown }).execve === 'function' && process.platform !== 'win32'
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
