/**
 * The agent's event bus: what the status page, `GET /api/events` (SSE),
 * metrics and tests observe. Events are facts that already happened; a slow
 * or failing listener never blocks or breaks the emitter.
 */
import type { BlobTransferStatus } from '../blobs/blob-status.js'
import type { ProgressSnapshot } from '../sync/progress.js'

export type AgentEvent =
  /** a peer connected or went away */
  | { readonly type: 'peer', readonly peer: string, readonly connected: boolean, readonly address?: string }
  /** a batch from a remote was applied (and its checkpoint advanced) */
  | { readonly type: 'batch', readonly peer: string, readonly received: number, readonly applied: number, readonly conflicts: number, readonly failed: number, readonly remaining: number, readonly more: boolean, readonly durationMs: number }
  /** progress of a pull, after each batch */
  | { readonly type: 'progress', readonly peer: string, readonly progress: ProgressSnapshot }
  /** a pull from a remote caught up (or ended) */
  | { readonly type: 'pull-finished', readonly peer: string, readonly pulled: number, readonly durationMs: number, readonly caughtUp: boolean }
  /** objects served to a peer */
  | { readonly type: 'served', readonly peer: string, readonly objects: number }
  /** the set of open conflicts changed */
  | { readonly type: 'conflict', readonly open: number }
  /** the failed queue changed */
  | { readonly type: 'failure', readonly parked: number }
  /** the feed grew */
  | { readonly type: 'commit', readonly head: number, readonly objects: number }
  /** a local edit of a read-only object was reverted */
  | { readonly type: 'read-only-revert', readonly uid: string, readonly peer: string }
  /** a blob transfer from a peer moved on (every ~0.5 s), was fetched (done) or ended without it (failed) */
  | { readonly type: 'blob', readonly peer: string, readonly state: 'progress' | 'done' | 'failed', readonly transfer: BlobTransferStatus, readonly text: string }
  /** the config file was reloaded and applied (a reload, SIGHUP, or a join / an invitation used) */
  | { readonly type: 'config', readonly file: string, readonly loadedAt: number, readonly added: readonly string[], readonly removed: readonly string[], readonly changed: readonly string[] }
  /** an invitation was created, used or revoked */
  | { readonly type: 'invite', readonly id: string, readonly state: 'open' | 'used' | 'revoked' }
  /** the echo-loop guard held an object (a loop found) or released it; `held` is how many it holds now */
  | { readonly type: 'echo-loop', readonly uid: string, readonly objectType: string, readonly id: string, readonly action: 'held' | 'released', readonly held: number }
  /** a verify with this peer started, moved on (at most once a second) or finished: its state is in the peer's `verification` */
  | { readonly type: 'verify', readonly peer: string, readonly running: boolean }

export interface EventBus {
  emit (event: AgentEvent): void
  subscribe (listener: (event: AgentEvent) => void): () => void
  readonly listeners: number
}

export function createEventBus (onListenerError?: (err: unknown) => void): EventBus {
  const listeners = new Set<(event: AgentEvent) => void>()
  return {
    emit (event) {
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (err) {
          onListenerError?.(err)
        }
      }
    },
    subscribe (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    get listeners () { return listeners.size }
  }
}
