/**
 * `labmesh backup` and `labmesh restore` as processes: a backup of a running
 * agent (through its admin API) and of the stopped one (offline), a restore
 * refused while a store is there, done with --replace, and a backup of a
 * newer schema refused naming both schemas.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MANIFEST_FILE } from '../../store/backup/format.js'
import { SCHEMA_VERSION } from '../../store/upgrades/index.js'
import { freePort, makeTempDir, removeDir } from '../helpers/nodes.js'
import { runCli, spawnAgent, type AgentProcess } from '../helpers/processes.js'

describe('labmesh backup / restore', () => {
  let root: string
  const running: AgentProcess[] = []
  beforeEach(async () => { root = await makeTempDir('labmesh-cli-backup-') })
  afterEach(async () => {
    for (const a of running.splice(0)) { a.proc.kill('SIGKILL'); await a.exited }
    await removeDir(root)
  })

  it('backs up a running and a stopped agent, and restores only where it may', async () => {
    const dir = join(root, 'a')
    const httpPort = await freePort()
    expect((await runCli(['init', '--domain', 'lab-a', '--dir', dir, '--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`, '--http', `127.0.0.1:${httpPort}`])).code).toBe(0)
    const config = join(dir, 'labmesh.yaml')
    const token = (await readFile(join(dir, 'data', 'admin.token'), 'utf8')).trim()
    const agent = await spawnAgent(config, { token })
    running.push(agent)
    const put = await fetch(`http://127.0.0.1:${httpPort}/api/objects`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ uid: 'c-1', type: 'Client', id: 'C-1', data: {} }, { uid: 'c-2', type: 'Client', id: 'C-2', data: {} }] }) })
    expect(put.status).toBeLessThan(300)

    const online = await runCli(['backup', '--config', config, '--out', join(root, 'b1')])
    expect(online.stderr).toContain('backup: done')
    expect(online.code).toBe(0)
    expect(online.stdout).toContain('backup of lab-a (running agent)')
    expect(online.stdout).toContain('2 objects')

    const restoreRunning = await runCli(['restore', '--from', join(root, 'b1'), '--config', config, '--replace'])
    expect(restoreRunning.code).not.toBe(0)
    expect(restoreRunning.stderr).toContain('stop the agent that runs on it first')

    agent.proc.kill('SIGTERM')
    expect((await agent.exited).code).toBe(0)
    running.length = 0
    const offline = await runCli(['backup', '--config', config, '--out', join(root, 'b2')])
    expect(offline.code).toBe(0)
    expect(offline.stdout).toContain('backup of lab-a (stopped agent)')

    const occupied = await runCli(['restore', '--from', join(root, 'b1'), '--config', config])
    expect(occupied.code).not.toBe(0)
    expect(occupied.stderr).toContain('[BACKUP_CONFLICT]')
    const restored = await runCli(['restore', '--from', join(root, 'b1'), '--config', config, '--replace'])
    expect(restored.code).toBe(0)
    expect(restored.stdout).toContain('new feed epoch')

    const manifestFile = join(root, 'b2', MANIFEST_FILE)
    await writeFile(manifestFile, JSON.stringify({ ...JSON.parse(await readFile(manifestFile, 'utf8')) as object, schema: SCHEMA_VERSION + 1 }))
    const newer = await runCli(['restore', '--from', join(root, 'b2'), '--config', config, '--replace'])
    expect(newer.code).not.toBe(0)
    expect(newer.stderr).toContain(`has store schema ${SCHEMA_VERSION + 1}, written by a newer labmesh; this labmesh reads schema ${SCHEMA_VERSION} and older`)
  })
})
