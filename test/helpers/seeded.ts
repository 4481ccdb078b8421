/**
 * Seeds and modes of the fault suite. Every randomised test takes its seed
 * from LABMESH_SEED when set (replay) or draws a fresh one, prints it, and on
 * failure names the command that replays it. LABMESH_SOAK=1 (`npm run soak`)
 * selects the long modes; CI runs the short ones.
 */
import { randomInt } from 'node:crypto'
import { createRng, type Rng } from '../../agent/demo/rng.js'

export type { Rng }

/** An independent stream of the same seed, for one of several concurrent workers (keeps replays exact). */
export function forkRng (seed: number, worker: string | number): Rng {
  return createRng(`${seed}:${worker}`)
}

/** True under `npm run soak`. Read at call time: nothing module-level changes. */
export function soakMode (): boolean {
  return process.env.LABMESH_SOAK === '1'
}

/** `ci` in CI mode, `soak` under LABMESH_SOAK=1. */
export function scaled<T> (ci: T, soak: T): T {
  return soakMode() ? soak : ci
}

/** The seed to use: LABMESH_SEED (replaying a failure) or a fresh random one. */
export function pickSeed (): number {
  const fromEnv = process.env.LABMESH_SEED
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv)
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`LABMESH_SEED must be a non-negative integer, got "${fromEnv}"`)
    return n
  }
  return randomInt(0, 2 ** 31)
}

/** The command that reruns one test file with the same seed. */
export function replayCommand (file: string, seed: number): string {
  return `LABMESH_SEED=${seed}${soakMode() ? ' LABMESH_SOAK=1' : ''} npx vitest run ${file}`
}

/**
 * Run `fn` with a seeded PRNG. The seed is printed before anything random
 * happens; a failure is rethrown with the replay command prepended, so the
 * report always says how to reproduce it.
 */
export async function withSeed<T> (label: string, file: string, fn: (rng: Rng, seed: number) => Promise<T>): Promise<T> {
  const seed = pickSeed()
  console.log(`[${label}] seed ${seed}${soakMode() ? ' (soak)' : ''}`)
  try {
    return await fn(createRng(seed), seed)
  } catch (err) {
    const e = err as Error
    const hint = `[${label}] failed with seed ${seed}; replay: ${replayCommand(file, seed)}`
    console.error(hint)
    e.message = `${hint}\n${e.message}`
    throw e
  }
}
