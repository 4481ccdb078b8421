/**
 * V8 heap settings for a process whose main job is running one agent
 * (`labmesh start`); a library embedding createAgent keeps its own settings.
 *
 * Why: during a bulk pull the agent allocates ~9 KB per 1 KB object, nearly
 * all of it short-lived, and V8 — seeing collection cheap next to that work —
 * lets the old generation grow to ~4× the live set between full collections.
 * A 50,000-object pull kept ~30 MB live but peaked at ~140 MB of heap (RSS
 * ~270 MB). Capping the growth factor at 1.5× held the heap at ~80 MB (RSS
 * ~210 MB) for ~10 % more CPU in the pulling process (bench/README.md).
 * Only flags V8 reads at every collection can be set at run time; the young
 * generation's size (--max-semi-space-size) must be given to node itself.
 */
import { setFlagsFromString } from 'node:v8'

export const HEAP_GROWING_PERCENT = 50

/** Apply the agent's heap settings unless node was started with its own. */
export function tuneHeapForAgent (execArgv: readonly string[], nodeOptions: string | undefined): void {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)]
  if (given.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}
