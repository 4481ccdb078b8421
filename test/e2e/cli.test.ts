import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { writeFile } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { freePort, makeTempDir, removeDir, waitFor } from '../helpers/nodes.js'
import { runCli, spawnAgent, type AgentProcess } from '../helpers/processes.js'

describe('labmesh CLI as processes', () => {
  let root: string
  const running: AgentProcess[] = []

  beforeEach(async () => { root = await makeTempDir('labmesh-cli-') })
  afterEach(async () => {
    for (const a of running.splice(0)) { a.proc.kill('SIGKILL'); await a.exited }
    await removeDir(root)
  })

  it('init, id, start, status, and a clean SIGTERM shutdown', async () => {
    const ports = { a: await freePort(), b: await freePort(), ha: await freePort(), hb: await freePort() }
    const initA = await runCli(['init', '--domain', 'lab-a', '--dir', join(root, 'a'), '--listen', `/ip4/127.0.0.1/tcp/${ports.a}`, '--http', `127.0.0.1:${ports.ha}`])
    const initB = await runCli(['init', '--domain', 'lab-b', '--dir', join(root, 'b'), '--listen', `/ip4/127.0.0.1/tcp/${ports.b}`, '--http', `127.0.0.1:${ports.hb}`])
    expect(initA.code).toBe(0)
    const peerA = initA.stdout.trim()
    const peerB = initB.stdout.trim()
    expect(peerA).toMatch(/^12D3KooW\w+$/)
    expect((await stat(join(root, 'a', 'data', 'identity.key'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(root, 'a', 'data', 'admin.token'))).mode & 0o777).toBe(0o600)

    const id = await runCli(['id', '--config', join(root, 'a', 'labmesh.yaml')])
    expect(id.stdout).toBe(`${peerA}\n`)

    // a second init into the same directory refuses to overwrite anything
    const again = await runCli(['init', '--domain', 'lab-a', '--dir', join(root, 'a')])
    expect(again.code).not.toBe(0)
    expect(again.stderr).toContain('already exists')

    // connect them: each lists the other and pulls from it
    for (const [me, other, otherId, otherPort] of [['a', 'lab-b', peerB, ports.b], ['b', 'lab-a', peerA, ports.a]] as const) {
      const file = join(root, me, 'labmesh.yaml')
      const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>
      config.peers = [{ name: other, peerId: otherId, addrs: [`/ip4/127.0.0.1/tcp/${otherPort}`], pull: true }]
      await writeFile(file, stringify(config))
    }
    const tokenA = (await readFile(join(root, 'a', 'data', 'admin.token'), 'utf8')).trim()
    const tokenB = (await readFile(join(root, 'b', 'data', 'admin.token'), 'utf8')).trim()
    const a = await spawnAgent(join(root, 'a', 'labmesh.yaml'), { token: tokenA })
    running.push(a)
    const b = await spawnAgent(join(root, 'b', 'labmesh.yaml'), { token: tokenB })
    running.push(b)
    expect(a.peerId).toBe(peerA)
    expect(a.httpUrl).toBe(`http://127.0.0.1:${ports.ha}`)

    await a.api('PUT', '/api/objects/client-1', { type: 'Client', id: 'client-1', data: { name: 'Happy Hills' } })
    await waitFor(async () => await b.api('GET', '/api/objects/client-1').catch(() => undefined), { what: 'object on B' })

    const status = await runCli(['status', '--config', join(root, 'b', 'labmesh.yaml')])
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/lab-a\s+connected\s+pull\s+0\s/)
    expect(status.stdout).toContain('1 objects')
    const json = JSON.parse((await runCli(['status', '--config', join(root, 'b', 'labmesh.yaml'), '--json'])).stdout) as { domain: string, objects: number, peers: Array<{ name: string, connected: boolean }> }
    expect(json).toMatchObject({ domain: 'lab-b', peerId: peerB, objects: 1, feedHead: 1, peers: [{ name: 'lab-a', peerId: peerA, connected: true, lag: 0, conflicts: 0 }] })

    // plan through the running agent's API: B is up to date, nothing to do
    const plan = await runCli(['plan', '--config', join(root, 'b', 'labmesh.yaml'), '--peer', 'lab-a'])
    expect(plan.code).toBe(0)
    expect(plan.stdout).toContain('nothing to pull')
    // … and from a stopped B, planning in-process: A's new object would be created
    // (B stopped first: running, it would pull the new object live before the plan)
    b.proc.kill('SIGTERM')
    expect(await b.exited).toEqual({ code: 0, signal: null })
    running.splice(running.indexOf(b), 1)
    await a.api('PUT', '/api/objects/client-2', { type: 'Client', id: 'client-2', data: {} })
    const offline = await runCli(['plan', '--config', join(root, 'b', 'labmesh.yaml'), '--peer', 'lab-a', '--json'])
    expect(offline.code, offline.stderr).toBe(0)
    expect(JSON.parse(offline.stdout)).toMatchObject({ peer: 'lab-a', types: { Client: { create: 1, unchanged: 0 } } })

    // exits once stopped, without waiting out libp2p's leftover 1 s timer
    const signalled = performance.now()
    a.proc.kill('SIGTERM')
    expect(await a.exited).toEqual({ code: 0, signal: null })
    expect(performance.now() - signalled, 'ms from SIGTERM to exit').toBeLessThan(900)
    running.splice(running.indexOf(a), 1)
    const down = await runCli(['status', '--config', join(root, 'a', 'labmesh.yaml')])
    expect(down.code).toBe(1)
    expect(down.stderr).toContain('no labmesh agent answers')
  })

  it('refuses to start with a bad config and names every problem', async () => {
    const file = join(root, 'bad.yaml')
    await writeFile(file, 'domain: "lab a"\nlisten: [nope]\npeers:\n  - name: m\n    peerId: x\n')
    const result = await runCli(['start', '--config', file])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('3 problems')
    for (const path of ['domain:', 'listen[0]:', 'peers[0].peerId:']) expect(result.stderr).toContain(path)
  })
})
