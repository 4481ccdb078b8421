/**
 * Running work on the agent as a background job from the CLI: POST with
 * `?async=1`, then `GET /api/jobs/:id` every `pollMs` until the job is no
 * longer running. Each poll is shown to `onPoll` (progress drawing). Shared
 * by `labmesh sync` and `labmesh verify`.
 */
import type { AdminClient } from './admin-client.js'

export interface PolledJob<P> {
  readonly state: 'running' | 'done' | 'failed'
  readonly progress?: P
  readonly result?: unknown
  readonly error?: string
}

export async function runAdminJob<J extends PolledJob<unknown>> (client: AdminClient, path: string, body: unknown, onPoll: (job: J) => void, pollMs: number): Promise<J> {
  const started = await client.post<{ job: string }>(`${path}?async=1`, body)
  while (true) {
    const job = await client.get<J>(`/api/jobs/${started.job}`)
    onPoll(job)
    if (job.state !== 'running') return job
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}
