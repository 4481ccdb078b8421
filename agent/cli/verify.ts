/**
 * `labmesh verify --peer NAME [--repair] [--quick]` and `labmesh verify
 * --self`: ask the running agent of FILE (its admin API) to compare its
 * digest with a peer's — or with one rebuilt from its own records — and
 * print the result. The verify runs as a job of the agent; while it runs,
 * its progress (phase, %, ETA) is drawn on stderr. Exit code 0: in sync
 * (after the repair, with --repair); 3: differences; 1 and 2 as every
 * command (failure, bad config).
 */
import type { Command } from 'commander'
import { loadConfigFile } from '../../config/load.js'
import type { SelfVerifyReport } from '../verify/report-build.js'
import type { Difference, VerifyProgress, VerifyReport, VerifyResult } from '../verify/report.js'
import { adminClientFor, type AdminClient } from './admin-client.js'
import { runAdminJob, type PolledJob } from './admin-job.js'
import { table } from './format.js'

/** exit code of a verify that found differences */
export const DIFFERENCES_EXIT_CODE = 3

export function addVerifyCommand (program: Command): void {
  program.command('verify')
    .description('prove two agents hold the same data (or, with --self, that this agent\'s digest matches its records); list what differs')
    .requiredOption('--config <file>', 'agent config file')
    .option('--peer <name>', 'the peer to compare with')
    .option('--self', 'rebuild this agent\'s digest from its records and compare it with the stored one')
    .option('--repair', 'fetch and apply what the peer has and this agent lacks or holds older (never an overwrite), then verify again')
    .option('--quick', 'compare the digests only (skip rebuilding them from the records on both sides)')
    .option('--json', 'print the raw JSON answer')
    .action(async (opts: { config: string, peer?: string, self?: boolean, repair?: boolean, quick?: boolean, json?: boolean }) => {
      if ((opts.peer === undefined) === (opts.self !== true)) throw new Error('give either --peer NAME or --self')
      const config = await loadConfigFile(opts.config, process.env)
      const client = await adminClientFor(config)
      if (opts.self === true) {
        const report = await runAsJob<SelfVerifyReport>(client, '/api/verify/self', undefined, () => undefined)
        process.stdout.write(opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderSelf(report)}\n`)
        if (!report.equal) process.exitCode = DIFFERENCES_EXIT_CODE
        return
      }
      const peer = opts.peer!
      const result = await runAsJob<VerifyResult>(client, `/api/peers/${encodeURIComponent(peer)}/verify`, { repair: opts.repair === true, quick: opts.quick === true },
        (progress) => { process.stderr.write(`${progressLine(peer, progress)}\n`) })
      process.stdout.write(opts.json === true ? `${JSON.stringify(result, null, 2)}\n` : `${renderVerify(result)}\n`)
      if (!(result.after ?? result.report).inSync) process.exitCode = DIFFERENCES_EXIT_CODE
    })
}

/**
 * Runs a verify as a job of the agent rather than one long request: a verify
 * of a large store reads every record on both sides and can outlast an HTTP
 * timeout. Each poll draws the progress while it runs.
 */
async function runAsJob<T> (client: AdminClient, path: string, body: unknown, onProgress: (p: VerifyProgress) => void, pollMs = 1000): Promise<T> {
  const job = await runAdminJob<PolledJob<VerifyProgress>>(client, path, body, (polled) => {
    if (polled.state === 'running' && polled.progress !== undefined) onProgress(polled.progress)
  }, pollMs)
  if (job.state === 'failed') throw new Error(job.error ?? 'the verify failed')
  return job.result as T
}

export function progressLine (peer: string, p: VerifyProgress): string {
  const eta = p.etaSeconds !== undefined ? `, ETA ${p.etaSeconds} s` : ''
  return p.total > 0 ? `verify ${peer}: ${p.phase} ${p.percent}% (${p.done.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')}${eta})` : `verify ${peer}: ${p.phase}…`
}

export function renderVerify (result: VerifyResult): string {
  const lines = [renderReport(result.report)]
  if (result.repair !== undefined) {
    const r = result.repair
    lines.push(`repair: ${r.received} of ${r.requested} fetched; ${r.applied} applied, ${r.restored} restored, ${r.unchanged} unchanged, ${r.conflicts} kept as conflicts, ${r.ignored} ignored, ${r.failed} parked`)
    for (const n of r.notRepaired) lines.push(`  not repaired ${n.uid}: ${n.reason}`)
  }
  if (result.after !== undefined) lines.push(`after the repair: ${renderReport(result.after)}`)
  return lines.join('\n')
}

function renderReport (r: VerifyReport): string {
  const how = `${r.checked ? 'records checked on both sides' : 'digests only (--quick)'}; ${r.roundTrips} round trip(s), ${r.messages.sent + r.messages.received} messages, ${(r.durationMs / 1000).toFixed(1)} s`
  if (r.inSync) return `in sync with ${r.peer}: ${r.digest.here.count.toLocaleString('en-US')} objects in ${r.scope.groups} group(s), digest ${r.digest.here.hash}, at ${new Date(r.finishedAt).toISOString()} (${how})`
  const head = `${r.differenceCount} difference(s) with ${r.peer}: ${Object.entries(r.byKind).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')} (${how})`
  const rows = r.differences.map((d) => [d.uid, d.kind + (d.corrupt !== undefined ? ` (record changed behind the store ${d.corrupt})` : ''), d.type, side(d.here), side(d.there)])
  const more = r.differenceCount > r.differences.length ? `\n… and ${r.differenceCount - r.differences.length} more (--json with maxDifferences lists them)` : ''
  return `${head}\n${table(['UID', 'HOW', 'TYPE', 'HERE', 'THERE'], rows)}${more}`
}

function side (v: Difference['here']): string {
  if (v === undefined) return '-'
  return `${v.vectors.map((x) => JSON.stringify(x)).join(' + ')}${v.deleted ? ' deleted' : ''}`
}

export function renderSelf (r: SelfVerifyReport): string {
  if (r.equal) return `digest matches the records: ${r.objects.toLocaleString('en-US')} objects, digest ${r.stored.hash} (rebuilt from scratch in ${(r.durationMs / 1000).toFixed(1)} s)`
  const rows = r.problems.map((p) => [p.uid, p.stored !== undefined ? `${p.stored.type} / ${p.stored.origin}` : '-', p.actual !== undefined ? `${p.actual.type} / ${p.actual.origin}` : '-'])
  return `digest does NOT match the records: ${r.problemCount} object(s) differ, ${r.groupProblems} group total(s) wrong; stored ${r.stored.count} ${r.stored.hash}, rebuilt ${r.rebuilt.count} ${r.rebuilt.hash}\n${table(['UID', 'IN THE DIGEST', 'IN THE RECORDS'], rows)}`
}
