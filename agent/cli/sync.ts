/**
 * `labmesh sync PEER`: the add-on's "Get updates" from a shell — starts a
 * pull as a job on the running agent and draws its progress (%, ETA) until
 * it is done.
 */
import type { ProgressSnapshot } from '../sync/progress.js'
import { formatProgress } from '../sync/progress.js'
import type { AdminClient } from './admin-client.js'
import { runAdminJob, type PolledJob } from './admin-job.js'

interface Job extends PolledJob<ProgressSnapshot> { startedAt: number, finishedAt: number | undefined }

export interface SyncOutput {
  /** progress drawing (a TTY gets one line rewritten in place) */
  progress (line: string, final: boolean): void
}

export async function syncPeer (client: AdminClient, peer: string, out: SyncOutput, pollMs = 200): Promise<Job> {
  return await runAdminJob<Job>(client, `/api/peers/${encodeURIComponent(peer)}/sync`, undefined, (job) => {
    if (job.progress !== undefined) out.progress(progressLine(peer, job.progress), job.state !== 'running')
  }, pollMs)
}

export function progressLine (peer: string, p: ProgressSnapshot): string {
  const width = 30
  const filled = Math.round((Math.min(100, p.percent) / 100) * width)
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
  return `${peer} ${bar} ${formatProgress(p)}${p.rate > 0 ? ` at ${p.rate.toLocaleString('en-US')}/s` : ''}`
}
