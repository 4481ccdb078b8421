/**
 * `labmesh start` and its start-time node settings (agent/cli/relaunch.ts)
 * as an admin runs it: `node bin/labmesh.js start`. In a node that can
 * replace its process (22.15+) the agent always runs with the settings, in
 * the same process; in one that cannot (20) only when LABMESH_NODE_FLAGS asks,
 * in a child — which must still end as the started process is told to, and
 * die with it when that one is SIGKILLed (the store is free again at once).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { canReplaceProcess } from '../../agent/runtime/node-flags.js'
import { createLevelStore } from '../../store/level-store.js'
import { CLI, runCli } from '../helpers/processes.js'
import { freePort, makeTempDir, removeDir } from '../helpers/nodes.js'

interface Started { proc: ChildProcess, stderr: () => string, exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }> }

const dirs: string[] = []
const procs: ChildProcess[] = []
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
  for (const d of dirs.splice(0)) await removeDir(d)
})

async function agentDir (): Promise<string> {
  const dir = await makeTempDir('labmesh-start-settings-')
  dirs.push(dir)
  const p2p = await freePort()
  const http = await freePort()
  const init = await runCli(['init', '--domain', 'lab-s', '--dir', join(dir, 'a'), '--listen', `/ip4/127.0.0.1/tcp/${p2p}`, '--http', `127.0.0.1:${http}`], { timeout: 60_000 })
  expect(init.code).toBe(0)
  return join(dir, 'a')
}

async function start (dir: string, env: Record<string, string>): Promise<Started> {
  const base = { ...process.env }
  delete base.LABMESH_NODE_FLAGS
  delete base.NODE_OPTIONS
  const proc = spawn(process.execPath, [CLI, 'start', '--config', join(dir, 'labmesh.yaml')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...base, ...env } })
  procs.push(proc)
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((res) => proc.on('exit', (code, signal) => res({ code, signal })))
  await new Promise<void>((res, rej) => {
    let out = ''
    proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('labmesh ready')) res() })
    void exited.then(({ code }) => rej(new Error(`exited ${code} before ready: ${err}`)))
  })
  return { proc, stderr: () => err, exited }
}

/** node's arguments of the process that runs the agent, from its 'starting' log line */
function agentExecArgv (stderr: string): string[] {
  const line = stderr.split('\n').find((l) => l.includes('"msg":"starting"'))
  expect(line).toBeDefined()
  return (JSON.parse(line!) as { execArgv: string[] }).execArgv
}

describe('labmesh start: start-time node settings', () => {
  it('runs the agent with the settings where node can replace its process, else only when asked (and says how)', async () => {
    const dir = await agentDir()
    const plain = await start(dir, {})
    if (canReplaceProcess()) {
      expect(agentExecArgv(plain.stderr())).toContain('--max-semi-space-size=4')
    } else {
      expect(agentExecArgv(plain.stderr())).toEqual([])
      expect(plain.stderr()).toContain('node runs without the agent\'s memory settings')
    }
    plain.proc.kill('SIGTERM')
    expect(await plain.exited).toEqual({ code: 0, signal: null })

    const off = await start(dir, { LABMESH_NODE_FLAGS: 'none' })
    expect(agentExecArgv(off.stderr())).toEqual([])
    expect(off.stderr()).not.toContain('node runs without')
    off.proc.kill('SIGTERM')
    expect(await off.exited).toEqual({ code: 0, signal: null })
  }, 180_000)

  it('asked for, ends as told (SIGTERM: exit 0) and dies with the started process (SIGKILL: the store is free)', async () => {
    const dir = await agentDir()
    const asked = await start(dir, { LABMESH_NODE_FLAGS: '--max-semi-space-size=2' })
    expect(agentExecArgv(asked.stderr())).toContain('--max-semi-space-size=2')
    asked.proc.kill('SIGTERM')
    expect(await asked.exited).toEqual({ code: 0, signal: null })

    const killed = await start(dir, { LABMESH_NODE_FLAGS: '--max-semi-space-size=2' })
    killed.proc.kill('SIGKILL')
    await killed.exited
    // the agent (a child on Node 20, this very process on 22.15+) lets go of the store
    const store = createLevelStore({ location: join(dir, 'data', 'store'), domain: 'lab-s' })
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        await store.open()
        break
      } catch (err) {
        if (Date.now() > deadline) throw err
        await new Promise((res) => setTimeout(res, 200))
      }
    }
    await store.close()
  }, 180_000)
})
