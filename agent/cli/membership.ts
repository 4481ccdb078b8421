/**
 * `labmesh invite`, `labmesh join` and `labmesh reload`: each asks the
 * running agent of FILE through its admin API (the agent holds the
 * invitations, dials the inviter and owns its config file). What can be told
 * without the agent is told first: a join code that is cut short, altered or
 * expired, and a config file that does not validate (every problem by field,
 * exit code 2), changes nothing anywhere.
 */
import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { loadConfigFile } from '../../config/load.js'
import { parseDuration } from '../../config/duration.js'
import type { ReloadReport } from '../../config/live-changes.js'
import { AgentError } from '../../protocol/errors.js'
import { readInviteCode } from '../invite/read-code.js'
import type { CreatedInvite, JoinResult } from '../invite/types.js'
import { adminClientFor } from './admin-client.js'

export function addMembershipCommands (program: Command): void {
  program.command('invite')
    .description('print a one-line, single-use invite code for another agent to join this one with `labmesh join`')
    .requiredOption('--config <file>', 'agent config file')
    .option('--pull', 'this agent pulls from the agent that joins (imports from it)')
    .option('--name <name>', 'the name the joining agent gets in this agent\'s peers (default: its domain)')
    .option('--expires <duration>', 'how long the code is valid: 30m, 24h, 7d', durationArgument, 24 * 3_600_000)
    .option('--addr <multiaddr>', 'an address the joining agent should dial (repeatable; default: this agent\'s listen addresses)', collect, [] as string[])
    .action(async (opts: { config: string, pull?: boolean, name?: string, expires: number, addr: string[] }) => {
      const config = await loadConfigFile(opts.config, process.env)
      const invite = await (await adminClientFor(config)).post<CreatedInvite>('/api/invites', {
        pull: opts.pull === true,
        expires: `${opts.expires}ms`,
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.addr.length > 0 ? { addrs: opts.addr } : {})
      })
      process.stdout.write(`${invite.code}\n`)
      process.stderr.write(`invitation to join ${invite.domain}: single use, valid until ${new Date(invite.expiresAt).toISOString()}; the joining agent will dial ${invite.addrs.join(', ')}\n` +
        `on the other agent run:  labmesh join <the code above> --config <its labmesh.yaml>${invite.pull ? '' : '  (add --pull there to import from this agent)'}\n`)
    })

  program.command('join')
    .description('join the agent that printed CODE (`labmesh invite`): both agents add each other to their peers')
    .argument('<code>', 'the invite code, as printed')
    .requiredOption('--config <file>', 'agent config file')
    .option('--name <name>', 'the name the inviting agent gets in this agent\'s peers (default: its domain)')
    .option('--pull', 'this agent pulls from the inviting agent (imports from it)')
    .action(async (code: string, opts: { config: string, name?: string, pull?: boolean }) => {
      readInviteCode(code, { now: Date.now })
      const config = await loadConfigFile(opts.config, process.env)
      const result = await (await adminClientFor(config)).post<JoinResult>('/api/join', {
        code,
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.pull === true ? { pull: true } : {})
      })
      process.stdout.write(`joined ${result.peer.domain} (${result.peer.peerId}) as peer "${result.peer.name}" in ${result.file}${result.peer.pull ? ', pulling from it' : ''}; it lists this agent as "${result.nameThere}"\n`)
    })

  program.command('reload')
    .description('apply the config file to the running agent (peers and their rules) without a restart; an invalid file changes nothing')
    .requiredOption('--config <file>', 'agent config file')
    .action(async (opts: { config: string }) => {
      // a file that does not validate is reported here, by field, and never reaches the agent
      const config = await loadConfigFile(opts.config, process.env)
      const report = await (await adminClientFor(config)).post<ReloadReport>('/api/config/reload').catch((err: unknown) => {
        if (err instanceof AgentError && err.code === 'NOT_STARTED') {
          throw new AgentError('NOT_STARTED', `${err.message} (if this file changes http.listen, the running agent still answers at its old address: http.listen needs a restart)`, { cause: err })
        }
        throw err
      })
      process.stdout.write(`${describeReload(report)}\n`)
    })
}

export function describeReload (report: ReloadReport): string {
  const parts = [
    report.added.length > 0 ? `added ${report.added.join(', ')}` : '',
    report.removed.length > 0 ? `removed ${report.removed.join(', ')}` : '',
    report.changed.length > 0 ? `changed ${report.changed.join(', ')}` : '',
    report.agentRules ? 'localPrefix/prefixSeparator changed (every remote re-pulls)' : ''
  ].filter((p) => p !== '')
  return `reloaded ${report.file}: ${parts.length > 0 ? parts.join('; ') : 'nothing changed'}`
}

function durationArgument (value: string): number {
  const ms = parseDuration(value)
  if (ms === undefined || ms < 1000) throw new InvalidArgumentError('must be a duration of at least 1 s, such as 30m, 24h or 7d')
  return ms
}

function collect (value: string, previous: string[]): string[] {
  return [...previous, value]
}
