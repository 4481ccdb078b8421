/**
 * Background jobs of the admin API: work that may outlive one HTTP request
 * (a long pull, a verify of a large store) started with `?async=1`, answered
 * 202 with the job's id, and polled at `GET /api/jobs/:id`.
 *
 * One registry per admin app (no module state). It keeps at most MAX_JOBS;
 * finished jobs are forgotten oldest first, running ones never.
 */
import { describeError } from '../../protocol/errors.js'

/** jobs kept for polling (the oldest finished ones are forgotten first) */
const MAX_JOBS = 100

export type JobKind = 'sync' | 'verify' | 'verify-self'

export interface AdminJob {
  readonly id: string
  readonly kind: JobKind
  /** the peer the job works with; absent for `verify-self` */
  readonly peer?: string
  state: 'running' | 'done' | 'failed'
  /** the job's progress when it finished (a running job's is read live) */
  progress: unknown
  /** what the job answered when it finished (the synchronous route's body) */
  result: unknown
  error: string | undefined
  readonly startedAt: number
  finishedAt: number | undefined
}

export interface JobRegistry {
  /**
   * Registers `running` as a job. Work that cannot start (an unknown peer, no
   * connection) fails within a few microtasks: that error is thrown here, so
   * the caller answers with it rather than with a doomed job.
   */
  start: <T>(kind: JobKind, peer: string | undefined, running: Promise<T>, settle: (value: T) => { progress?: unknown, result?: unknown }) => Promise<AdminJob>
  get: (id: string) => AdminJob | undefined
}

export function createJobRegistry (now: () => number): JobRegistry {
  const jobs = new Map<string, AdminJob>()
  let next = 1
  return {
    async start (kind, peer, running, settle) {
      const early = await Promise.race([
        running.then(() => undefined, (err: unknown) => err),
        new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))
      ])
      if (early !== undefined) throw early
      const job: AdminJob = { id: String(next++), kind, ...(peer !== undefined ? { peer } : {}), state: 'running', progress: undefined, result: undefined, error: undefined, startedAt: now(), finishedAt: undefined }
      jobs.set(job.id, job)
      for (const [id, old] of jobs) {
        if (jobs.size <= MAX_JOBS) break
        if (old.state !== 'running') jobs.delete(id)
      }
      running.then((value) => {
        const settled = settle(value)
        job.finishedAt = now()
        job.progress = settled.progress
        job.result = settled.result
        job.state = 'done'
      }, (err: unknown) => {
        job.finishedAt = now()
        job.error = describeError(err)
        job.state = 'failed'
      })
      return job
    },
    get: (id) => jobs.get(id)
  }
}
