/**
 * The `labmesh` command. The CLI (this module, and start.ts for a running
 * agent) is the only code that reads argv and the environment, prints for
 * people, handles signals and exits.
 *
 * stdout carries results (peer IDs, tables, the ready line); logs go to
 * stderr as JSON lines. What runs an agent in this process (start, plan
 * without a running agent) is imported when such a command runs.
 */
import '../runtime/polyfills.js'
import { Command, InvalidArgumentError } from 'commander'
import { collectField, describeResolution, resolveBody, type ResolveOptions } from './resolve.js'
import { loadConfigFile } from '../../config/load.js'
import { adminClientFor } from './admin-client.js'
import { addVerifyCommand } from './verify.js'
import { renderConflicts, renderFailedGroup, renderFailedSummary, renderHistory, renderPlan, renderStatus, type ConflictView } from './format.js'
import type { ObjectHistory } from '../admin/deps.js'
import { syncPeer } from './sync.js'
import { initAgentDir } from './init.js'
import { addMembershipCommands } from './membership.js'
import { AgentError } from '../../protocol/errors.js'
import { ConfigError } from '../../config/errors.js'
import { loadIdentityKey, peerIdOf } from '../net/identity.js'
import type { AgentStatusReport } from '../observe/status.js'
import type { FailedSummary } from '../apply/failed-summary.js'
import type { GroupRetryResult } from '../apply/failed-retry.js'
import type { FailedEntry } from '../../store/types.js'

export async function main (argv: readonly string[]): Promise<void> {
  const program = new Command()
  program.name('labmesh').description('Peer-to-peer replication mesh agent for laboratory instances').showHelpAfterError()
  addAgentCommands(program)
  addAdminCommands(program)
  addMembershipCommands(program)
  addQueueCommands(program)
  addVerifyCommand(program)
  await program.parseAsync(argv as string[])
}

/** Commands on the agent's own files and process: init, id, start. */
function addAgentCommands (program: Command): void {
  program.command('init')
    .description('create an agent directory: labmesh.yaml, identity key, admin token; prints the peer ID')
    .requiredOption('--domain <name>', 'unique name of this agent in the mesh, e.g. lab-a')
    .requiredOption('--dir <dir>', 'directory to create the agent in')
    .option('--listen <multiaddr>', 'libp2p listen address', '/ip4/127.0.0.1/tcp/4101')
    .option('--http <host:port>', 'admin API / status page address', '127.0.0.1:8101')
    .action(async (opts: { domain: string, dir: string, listen: string, http: string }) => {
      const result = await initAgentDir(opts)
      process.stdout.write(`${result.peerId}\n`)
      process.stderr.write(`created ${result.configFile}\n  identity key ${result.keyFile} (mode 0600)\n  admin token  ${result.tokenFile} (mode 0600)\n`)
    })

  program.command('id')
    .description('print this agent\'s peer ID')
    .requiredOption('--config <file>', 'agent config file')
    .action(async (opts: { config: string }) => {
      const config = await loadConfigFile(opts.config, process.env)
      process.stdout.write(`${peerIdOf(await loadIdentityKey(config.paths.keyFile))}\n`)
    })

  program.command('start')
    .description('run the agent until SIGTERM / Ctrl-C')
    .requiredOption('--config <file>', 'agent config file')
    // the agent (libp2p, LevelDB …) loads only for the commands that run one: the others start in a fraction of the time
    .action(async (opts: { config: string }) => { await (await import('./start.js')).runAgent(opts.config) })

  const progressLine = (line: string, final: boolean): void => {
    process.stderr.write(process.stderr.isTTY === true ? `\r${line}\x1b[K${final ? '\n' : ''}` : `${line}\n`)
  }
  program.command('backup')
    .description('write a consistent backup of the agent (store and the files beside it) to a new directory, while it runs (through its admin API) or stopped')
    .requiredOption('--config <file>', 'agent config file')
    .requiredOption('--out <dir>', 'directory to create (must not exist, or be empty)')
    .option('--offline', 'read the stopped agent\'s store directly, without asking a running agent')
    .action(async (opts: { config: string, out: string, offline?: boolean }) => {
      const config = await loadConfigFile(opts.config, process.env)
      const { backupCommand } = await import('./backup.js')
      await backupCommand(config, { out: opts.out, offline: opts.offline === true, print: (line) => process.stdout.write(`${line}\n`), progress: progressLine })
    })

  program.command('restore')
    .description('rebuild the stopped agent\'s store from a backup (new feed epoch; an older schema is upgraded)')
    .requiredOption('--from <dir>', 'backup directory (made by labmesh backup)')
    .requiredOption('--config <file>', 'config of the agent to restore (its domain and identity key must match the backup)')
    .option('--replace', 'move an existing store aside (kept, renamed) instead of refusing')
    .action(async (opts: { config: string, from: string, replace?: boolean }) => {
      const config = await loadConfigFile(opts.config, process.env)
      const { restoreCommand } = await import('./backup.js')
      await restoreCommand(config, { from: opts.from, replace: opts.replace === true, print: (line) => process.stdout.write(`${line}\n`), progress: progressLine })
    })

  program.command('upgrade')
    .description('bring a stopped agent\'s store to this labmesh\'s schema now (start does it too); --dry-run says what would run')
    .requiredOption('--config <file>', 'agent config file')
    .option('--dry-run', 'only say which upgrade steps would run, and on how many rows')
    .action(async (opts: { config: string, dryRun?: boolean }) => {
      const config = await loadConfigFile(opts.config, process.env)
      const { upgradeCommand } = await import('./upgrade.js')
      await upgradeCommand(config, {
        dryRun: opts.dryRun === true,
        print: (line) => process.stdout.write(`${line}\n`),
        progress: progressLine
      })
    })
}

/** Commands that ask a running agent through its admin API (plan: or the store, when none runs). */
function addAdminCommands (program: Command): void {
  program.command('status')
    .description('show the agent and its peers (connected, lag, progress, conflicts)')
    .requiredOption('--config <file>', 'agent config file')
    .option('--json', 'print the raw JSON of GET /api/status')
    .action(async (opts: { config: string, json?: boolean }) => {
      const config = await loadConfigFile(opts.config, process.env)
      const client = await adminClientFor(config)
      const status = await client.get<AgentStatusReport>('/api/status')
      process.stdout.write(opts.json === true ? `${JSON.stringify(status, null, 2)}\n` : `${renderStatus(status, Date.now())}\n`)
    })

  program.command('sync')
    .description('pull from PEER now and wait until caught up (the add-on\'s "Get updates"), with progress and ETA')
    .argument('<peer>', 'the remote to pull from')
    .requiredOption('--config <file>', 'agent config file')
    .action(async (peer: string, opts: { config: string }) => {
      const config = await loadConfigFile(opts.config, process.env)
      const client = await adminClientFor(config)
      const tty = process.stderr.isTTY === true
      let lastPrinted = 0
      const job = await syncPeer(client, peer, {
        progress (line, final) {
          if (tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`)
          else if (final || Date.now() - lastPrinted > 2000) { process.stderr.write(`${line}\n`); lastPrinted = Date.now() }
        }
      })
      if (job.state === 'failed') throw new AgentError('CONNECTOR_ERROR', `sync from ${peer} failed: ${job.error ?? 'unknown error'}`)
      const p = job.progress
      process.stdout.write(`synced from ${peer}: ${p?.done ?? 0} object(s) pulled in ${(((job.finishedAt ?? job.startedAt) - job.startedAt) / 1000).toFixed(1)} s\n`)
    })

  program.command('conflicts')
    .description('list objects holding concurrent versions, with the fields that differ')
    .requiredOption('--config <file>', 'agent config file')
    .option('--json', 'print the raw JSON of GET /api/conflicts')
    .action(async (opts: { config: string, json?: boolean }) => {
      const config = await loadConfigFile(opts.config, process.env)
      const list = await (await adminClientFor(config)).get<{ items: ConflictView[], total?: number }>('/api/conflicts')
      process.stdout.write(opts.json === true ? `${JSON.stringify(list, null, 2)}\n` : `${renderConflicts(list.items, list.total)}\n`)
    })

  program.command('history')
    .description('the versions this agent has seen of an object: origin, signer and signature, relay, changed fields, conflicts and resolutions')
    .argument('<uid>', 'the object')
    .requiredOption('--config <file>', 'agent config file')
    .option('--json', 'print the raw JSON of GET /api/objects/:uid/history')
    .action(async (uid: string, opts: { config: string, json?: boolean }) => {
      const config = await loadConfigFile(opts.config, process.env)
      const history = await (await adminClientFor(config)).get<ObjectHistory>(`/api/objects/${encodeURIComponent(uid)}/history`)
      process.stdout.write(opts.json === true ? `${JSON.stringify(history, null, 2)}\n` : `${renderHistory(history)}\n`)
    })

  program.command('resolve')
    .description('resolve a conflict: keep this agent\'s version (local), take the other side (remote), or merge field by field (--merge auto, --field)')
    .argument('<uid>', 'the object in conflict')
    .option('--pick <side>', 'local or remote: that side whole')
    .option('--merge <how>', 'auto: each side\'s change where only one side changed a field; refused when a field changed on both')
    .option('--field <name=side>', 'take this field from local, remote or base (repeatable; with or without --merge auto)', collectField)
    .requiredOption('--config <file>', 'agent config file')
    .action(async (uid: string, opts: ResolveOptions & { config: string }) => {
      const body = resolveBody(opts)
      const config = await loadConfigFile(opts.config, process.env)
      const result = await (await adminClientFor(config)).post<{ vector: Record<string, number> }>(`/api/conflicts/${encodeURIComponent(uid)}/resolve`, body)
      process.stdout.write(`${describeResolution(uid, body, result.vector)}\n`)
    })

  program.command('plan')
    .description('dry run: what a pull from PEER would create, update, ignore (by which rule) or flag as conflict; writes nothing')
    .requiredOption('--config <file>', 'agent config file')
    .requiredOption('--peer <name>', 'the remote to plan a pull from')
    .option('--json', 'print the plan as JSON')
    .action(async (opts: { config: string, peer: string, json?: boolean }) => {
      const config = await loadConfigFile(opts.config, process.env)
      const plan = await (await import('./plan.js')).planPull(config, opts.peer)
      process.stdout.write(opts.json === true ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`)
    })
}

/** Commands on what waits: the failed queue (by reason, retries) and the echo-loop guard's holds. */
function addQueueCommands (program: Command): void {
  program.command('failed')
    .description('show the failed queue grouped by reason code, with counts and the instance\'s messages')
    .requiredOption('--config <file>', 'agent config file')
    .option('--code <code>', 'list the objects of one group instead (the first 1,000)')
    .option('--json', 'print the raw JSON of GET /api/failed/summary (or /api/failed?code=)')
    .action(async (opts: { config: string, code?: string, json?: boolean }) => {
      const client = await adminClientFor(await loadConfigFile(opts.config, process.env))
      if (opts.code !== undefined) {
        const page = await client.get<{ items: FailedEntry[] }>(`/api/failed?code=${encodeURIComponent(opts.code)}`)
        process.stdout.write(opts.json === true ? `${JSON.stringify(page, null, 2)}\n` : `${renderFailedGroup(opts.code, page.items)}\n`)
        return
      }
      const summary = await client.get<FailedSummary>('/api/failed/summary')
      process.stdout.write(opts.json === true ? `${JSON.stringify(summary, null, 2)}\n` : `${renderFailedSummary(summary, Date.now())}\n`)
    })

  program.command('retry')
    .description('retry a parked object now, or every object of one reason code (--code)')
    .argument('[uid]', 'the parked object')
    .option('--code <code>', 'retry the whole group with this reason code')
    .requiredOption('--config <file>', 'agent config file')
    .action(async (uid: string | undefined, opts: { config: string, code?: string }) => {
      if ((uid === undefined) === (opts.code === undefined)) throw new InvalidArgumentError('give either a UID or --code CODE')
      const client = await adminClientFor(await loadConfigFile(opts.config, process.env))
      if (opts.code !== undefined) {
        const r = await client.post<GroupRetryResult>(`/api/failed/groups/${encodeURIComponent(opts.code)}/retry`)
        process.stdout.write(`retried ${r.retried} object(s) with code ${r.code}: ${r.applied} applied, ${r.parked} still parked\n`)
        return
      }
      const r = await client.post<{ applied: boolean, entry: FailedEntry | null }>(`/api/failed/${encodeURIComponent(uid!)}/retry`)
      process.stdout.write(r.applied ? `${uid} applied\n` : `${uid} still parked: ${r.entry?.code ?? ''} ${r.entry?.reason ?? ''}\n`)
    })

  program.command('release')
    .description('end the echo-loop guard\'s hold on an object (the instance edit it held is recorded and sent out)')
    .argument('<uid>', 'the held object (labmesh status lists them)')
    .requiredOption('--config <file>', 'agent config file')
    .action(async (uid: string, opts: { config: string }) => {
      const client = await adminClientFor(await loadConfigFile(opts.config, process.env))
      const r = await client.post<{ recorded: boolean }>(`/api/echo-loops/${encodeURIComponent(uid)}/release`)
      process.stdout.write(`released ${uid}${r.recorded ? '; its held instance edit is recorded and sent out' : '; its next instance edit is recorded'}\n`)
    })
}

export function positiveInt (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number')
  return n
}

/** Print an error the way an admin can act on it, and set the exit code. */
export function reportFatal (err: unknown): void {
  if (err instanceof ConfigError) {
    process.stderr.write(`labmesh: ${err.message}\n`)
    process.exitCode = 2
    return
  }
  const e = err as { code?: string, message?: string }
  process.stderr.write(`labmesh: ${e.message ?? String(err)}${e.code !== undefined ? ` [${e.code}]` : ''}\n`)
  process.exitCode = 1
}
