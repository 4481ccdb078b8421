/**
 * Joining through an invite code, end to end as processes: two fresh agents
 * made with `labmesh init`, started with `labmesh start`, joined with
 * `labmesh invite` / `labmesh join` — no YAML edited by hand — then
 * replicating both ways, their files still holding what `init` wrote. A cut
 * or expired code is refused by the CLI before anything is asked; a broken
 * file sent to the running agent with SIGHUP or `labmesh reload` changes
 * nothing and names the field.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { decodeInviteCode, encodeInviteCode } from '../../protocol/invite-code.js'
import { keepsEveryLine } from '../helpers/config-files.js'
import { freePort, makeTempDir, removeDir, waitFor } from '../helpers/nodes.js'
import { logLines, runCli, spawnAgent, type AgentProcess } from '../helpers/processes.js'

describe('labmesh invite / join / reload as processes', () => {
  let root: string
  const running: AgentProcess[] = []

  beforeEach(async () => { root = await makeTempDir('labmesh-join-') })
  afterEach(async () => {
    for (const a of running.splice(0)) { a.proc.kill('SIGKILL'); await a.exited }
    await removeDir(root)
  })

  const initAndStart = async (domain: string): Promise<{ agent: AgentProcess, file: string, initial: string }> => {
    const dir = join(root, domain)
    const init = await runCli(['init', '--domain', domain, '--dir', dir, '--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`, '--http', `127.0.0.1:${await freePort()}`])
    expect(init.code, init.stderr).toBe(0)
    const file = join(dir, 'labmesh.yaml')
    const agent = await spawnAgent(file, { token: (await readFile(join(dir, 'data', 'admin.token'), 'utf8')).trim() })
    running.push(agent)
    return { agent, file, initial: await readFile(file, 'utf8') }
  }

  it('two fresh agents join through a code and replicate; their files keep what init wrote; reloads refuse a broken file', async () => {
    const [a, b] = await Promise.all([initAndStart('lab-a'), initAndStart('lab-b')])

    const invited = await runCli(['invite', '--config', a.file, '--pull', '--expires', '2h'])
    expect(invited.code, invited.stderr).toBe(0)
    const code = invited.stdout.trim()
    expect(invited.stdout).toBe(`${code}\n`)
    expect(code).toMatch(/^labmesh_invite_[a-z2-7]+$/)
    expect(invited.stderr).toContain('labmesh join')

    // a code cut short or past its time is refused by the CLI itself, before any agent is asked
    const cut = await runCli(['join', code.slice(0, -10), '--config', b.file])
    expect(cut.code).toBe(1)
    expect(cut.stderr).toMatch(/damaged.*\[INVITE_DAMAGED\]/)
    const stale = await runCli(['join', encodeInviteCode({ ...decodeInviteCode(code), expiresAt: Date.now() - 60_000 }), '--config', b.file])
    expect(stale.code).toBe(1)
    expect(stale.stderr).toMatch(/expired.*\[INVITE_EXPIRED\]/)

    const joined = await runCli(['join', code, '--config', b.file, '--pull'])
    expect(joined.code, joined.stderr).toBe(0)
    expect(joined.stdout).toContain(`joined lab-a (${a.agent.peerId}) as peer "lab-a"`)

    for (const [side, other] of [[a, b], [b, a]] as const) {
      const after = await readFile(side.file, 'utf8')
      // everything init wrote is still there, comments included; `peers: []` became a list
      expect(keepsEveryLine(side.initial.replace('peers: []', 'peers:'), after), after).toBe(true)
      expect(after).toContain(`peerId: ${other.agent.peerId}`)
    }
    await a.agent.api('PUT', '/api/objects/client-a', { type: 'Client', id: 'client-a', data: { name: 'from A' } })
    await b.agent.api('PUT', '/api/objects/client-b', { type: 'Client', id: 'client-b', data: { name: 'from B' } })
    await waitFor(async () => await b.agent.api('GET', '/api/objects/client-a').catch(() => undefined), { what: 'A\'s object on B' })
    await waitFor(async () => await a.agent.api('GET', '/api/objects/client-b').catch(() => undefined), { what: 'B\'s object on A' })
    const status = await b.agent.api<{ configFile: string, configLoadedAt: number, peers: Array<{ name: string, connected: boolean }> }>('GET', '/api/status')
    expect(status).toMatchObject({ configFile: b.file, peers: [{ name: 'lab-a', connected: true }] })

    // a broken file: SIGHUP logs why and changes nothing; `labmesh reload` says which field
    const good = await readFile(b.file, 'utf8')
    await writeFile(b.file, good.replace(`peerId: ${a.agent.peerId}`, 'peerId: nobody'))
    b.agent.proc.kill('SIGHUP')
    await waitFor(() => logLines(b.agent).find((l) => String(l.msg).includes('config reload refused') && String(l.msg).includes('peers[0].peerId')), { what: 'the refused reload in B\'s log' })
    const broken = await runCli(['reload', '--config', b.file])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toContain('peers[0].peerId')
    await a.agent.api('PUT', '/api/objects/client-a2', { type: 'Client', id: 'client-a2', data: {} })
    await waitFor(async () => await b.agent.api('GET', '/api/objects/client-a2').catch(() => undefined), { what: 'B still runs on its old config' })
    expect((await b.agent.api<{ configLoadedAt: number }>('GET', '/api/status')).configLoadedAt).toBe(status.configLoadedAt)

    await writeFile(b.file, good)
    const reloaded = await runCli(['reload', '--config', b.file])
    expect(reloaded.code, reloaded.stderr).toBe(0)
    expect(reloaded.stdout).toBe(`reloaded ${b.file}: nothing changed\n`)
  })
})
