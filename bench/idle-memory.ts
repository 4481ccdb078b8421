/**
 * What an idle agent's memory is (issue 15): RSS, anonymous and file-backed,
 * (1) after each group of modules an agent loads, in this process, after a
 * full GC — node alone, our CLI's small dependencies, LevelDB, libp2p, Hono,
 * metrics, then labmesh's own modules; (2) of `labmesh start` on an empty
 * store with nothing to do, `--settle-ms` after its ready line, started as an
 * admin starts it (bin/labmesh.js), with its start-time settings and with
 * LABMESH_NODE_FLAGS=none.
 *
 *   node --expose-gc dist/bench/idle-memory.js [--agents 3] [--settle-ms 5000]
 */
import '../agent/runtime/polyfills.js'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { isMainModule, parseBenchArgs } from './lib/args.js'

interface Rss { rss: number, anon: number, file: number }

async function rssOf (pid: number | 'self'): Promise<Rss> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const mib = (name: string): number => Math.round(Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 102.4) / 10
  return { rss: mib('VmRSS'), anon: mib('RssAnon'), file: mib('RssFile') }
}

const GROUPS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['node alone', []],
  ['+ commander, yaml, zod, pino', ['commander', 'yaml', 'zod', 'pino']],
  ['+ level (classic-level)', ['level']],
  ['+ libp2p, tcp, noise, yamux, pnet, crypto', ['libp2p', '@libp2p/tcp', '@chainsafe/libp2p-noise', '@chainsafe/libp2p-yamux', '@libp2p/pnet', '@libp2p/crypto']],
  ['+ hono, @hono/node-server', ['hono', '@hono/node-server']],
  ['+ prom-client, undici', ['prom-client', 'undici']],
  ['+ labmesh: agent/agent.js', ['../agent/agent.js']],
  ['+ labmesh: cli/main.js, cli/start.js', ['../agent/cli/main.js', '../agent/cli/start.js']]
]

async function importSteps (): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) process.stdout.write('(run with node --expose-gc for figures after a full GC)\n')
  process.stdout.write('| loaded | RSS | anon | file | V8 heap used |\n| --- | ---: | ---: | ---: | ---: |\n')
  for (const [label, modules] of GROUPS) {
    for (const m of modules) await import(m)
    gc?.(); gc?.()
    const r = await rssOf('self')
    process.stdout.write(`| ${label} | ${r.rss} | ${r.anon} | ${r.file} | ${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} |\n`)
  }
}

const CLI = resolve(import.meta.dirname, '../../bin/labmesh.js')

/** `labmesh start` on a fresh directory; RSS of the process running the agent `settleMs` after ready. */
async function idleAgent (env: NodeJS.ProcessEnv, settleMs: number, port: number): Promise<Rss & { parent?: Rss }> {
  const dir = await mkdtemp(join(tmpdir(), 'labmesh-idle-'))
  try {
    const init = spawnSync(process.execPath, [CLI, 'init', '--domain', 'idle', '--dir', dir, '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--http', `127.0.0.1:${port + 1}`])
    if (init.status !== 0) throw new Error(`labmesh init failed: ${init.stderr.toString()}`)
    const proc = spawn(process.execPath, [CLI, 'start', '--config', join(dir, 'labmesh.yaml')], { stdio: ['ignore', 'pipe', 'ignore'], env })
    await new Promise<void>((res, rej) => {
      let out = ''
      proc.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('labmesh ready')) res() })
      proc.once('exit', (code) => rej(new Error(`labmesh start exited with ${code}`)))
    })
    await new Promise((res) => setTimeout(res, settleMs))
    // with a relaunch through a parent (node without execve), the agent is its only child
    const children = (await readFile(`/proc/${proc.pid!}/task/${proc.pid!}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter((s) => s !== '')
    const agentPid = children.length === 1 ? Number(children[0]) : proc.pid!
    const r = await rssOf(agentPid)
    const out = agentPid !== proc.pid ? { ...r, parent: await rssOf(proc.pid!) } : r
    const exited = new Promise((res) => proc.once('exit', res))
    proc.kill('SIGTERM')
    await exited
    return out
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (isMainModule(import.meta.url)) {
  const flags = parseBenchArgs(process.argv.slice(2), { agents: 3, settleMs: 5000, port: 4931 })
  await importSteps()
  process.stdout.write('\n| labmesh start, idle | RSS | anon | file | relaunching parent (RSS / anon / file) |\n| --- | ---: | ---: | ---: | --- |\n')
  for (let i = 0; i < flags.agents; i++) {
    for (const [label, env] of [['default in this node (Node 20: none unless LABMESH_NODE_FLAGS is set)', { ...process.env }], ['LABMESH_NODE_FLAGS=none', { ...process.env, LABMESH_NODE_FLAGS: 'none' }]] as const) {
      const r = await idleAgent(env, flags.settleMs, flags.port + 2 * i)
      process.stdout.write(`| ${label} | ${r.rss} | ${r.anon} | ${r.file} | ${r.parent !== undefined ? `${r.parent.rss} / ${r.parent.anon} / ${r.parent.file}` : '—'} |\n`)
    }
  }
}
