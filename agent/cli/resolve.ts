/**
 * `labmesh resolve`: how its options become the body of POST
 * /api/conflicts/:uid/resolve, and what it prints. Pure, so the forms are
 * unit-tested without an agent: `--pick local|remote` takes a side whole;
 * `--merge auto` takes each side's change where only one side changed;
 * `--field NAME=local|remote|base` (repeatable) picks a field, alone or
 * with `--merge auto` (the same: unpicked fields merge as auto does).
 */
import { InvalidArgumentError } from 'commander'

export type ResolveBody =
  | { readonly pick: 'local' | 'remote' }
  | { readonly merge: 'auto', readonly fields?: Readonly<Record<string, 'local' | 'remote' | 'base'>> }
  | { readonly fields: Readonly<Record<string, 'local' | 'remote' | 'base'>> }

export interface ResolveOptions {
  readonly pick?: string
  readonly merge?: string
  readonly field?: readonly string[]
}

/** Commander's collector for a repeatable `--field NAME=SIDE`. */
export function collectField (value: string, previous: readonly string[] = []): string[] {
  return [...previous, value]
}

export function resolveBody (opts: ResolveOptions): ResolveBody {
  const fields = parseFields(opts.field ?? [])
  if (opts.pick !== undefined) {
    if (opts.merge !== undefined || fields !== undefined) throw new InvalidArgumentError('--pick takes a whole side: give it alone, or use --merge auto / --field NAME=SIDE')
    if (opts.pick !== 'local' && opts.pick !== 'remote') throw new InvalidArgumentError('--pick must be local or remote')
    return { pick: opts.pick }
  }
  if (opts.merge !== undefined) {
    if (opts.merge !== 'auto') throw new InvalidArgumentError('--merge must be auto')
    return fields !== undefined ? { merge: 'auto', fields } : { merge: 'auto' }
  }
  if (fields !== undefined) return { fields }
  throw new InvalidArgumentError('give --pick local|remote, --merge auto, or --field NAME=local|remote|base')
}

function parseFields (items: readonly string[]): Record<string, 'local' | 'remote' | 'base'> | undefined {
  if (items.length === 0) return undefined
  const out: Record<string, 'local' | 'remote' | 'base'> = {}
  for (const item of items) {
    const at = item.lastIndexOf('=')
    const name = item.slice(0, at)
    const side = item.slice(at + 1)
    if (at <= 0 || (side !== 'local' && side !== 'remote' && side !== 'base')) throw new InvalidArgumentError(`--field ${item}: write NAME=local, NAME=remote or NAME=base (e.g. --field result=remote)`)
    out[name] = side
  }
  return out
}

/** The line printed once the resolution is written. */
export function describeResolution (uid: string, body: ResolveBody, vector: Readonly<Record<string, number>>): string {
  const how = 'pick' in body
    ? body.pick
    : [...('merge' in body ? ['merge auto'] : []), ...Object.entries(body.fields ?? {}).map(([name, side]) => `${name}=${side}`)].join(', ')
  return `resolved ${uid} (${how}); new version ${JSON.stringify(vector)} replicates to every agent`
}
