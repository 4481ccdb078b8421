/**
 * One store upgrade step: what it is given and what it must promise.
 *
 * A step brings a store from schema `to - 1` to `to`. It works in chunks,
 * each committed as one LevelDB batch together with the step's resume
 * point, so a crash (SIGKILL, power loss) between chunks loses nothing: the
 * next open resumes the step from that point. A chunk must therefore be
 * idempotent — written again after a crash between its batch and the next,
 * it leaves the same result — and a step must not depend on anything it
 * wrote before its resume point other than what it reads back from the
 * store. The store's schema is raised only after the step's last chunk, in
 * a batch of its own: a half-upgraded store never opens as upgraded.
 */
import type { BatchOp, Sublevels } from '../sublevels.js'

export interface UpgradeContext {
  /** the database's sublevels (keys.ts): read them; write only through commit() */
  readonly subs: Sublevels
  /** where an interrupted run of this step got to (undefined: start from the beginning) */
  readonly resumeFrom: string | undefined
  /** commit `ops` and the step's new resume point as one batch */
  commit (ops: readonly BatchOp[], resumeFrom: string): Promise<void>
  /** the step visited `done` of `total` rows (progress with percent and ETA) */
  progress (done: number): void
}

export interface UpgradeStep {
  /** the schema this step produces; steps run in order of `to` */
  readonly to: number
  /** short machine name, e.g. `blob-references` */
  readonly name: string
  /** one sentence for the log and `labmesh upgrade --dry-run`: what changes on disk */
  readonly description: string
  /** rows the step will visit, counted cheaply (progress, the dry run) */
  estimate (subs: Sublevels): Promise<number>
  run (context: UpgradeContext): Promise<void>
}

/** What an open reports while it upgrades. */
export interface UpgradeProgress {
  readonly to: number
  readonly name: string
  readonly done: number
  readonly total: number
  /** 0–100 */
  readonly percent: number
  /** seconds left at the rate so far; undefined until there is a rate */
  readonly etaSeconds: number | undefined
  /** the step resumed where an interrupted run left it */
  readonly resumed: boolean
  readonly finished: boolean
}
