/**
 * `labmesh upgrade` as a process: the dry run before and after a store
 * exists, the lock of a running agent, and a store written by newer code
 * refused with both schemas named.
 */
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { META_KEYS, SUBLEVELS } from '../../store/keys.js'
import { SCHEMA_VERSION } from '../../store/upgrades/index.js'
import { freePort, makeTempDir, removeDir } from '../helpers/nodes.js'
import { runCli, spawnAgent, type AgentProcess } from '../helpers/processes.js'
import { readFile } from 'node:fs/promises'

describe('labmesh upgrade', () => {
  let root: string
  const running: AgentProcess[] = []
  beforeEach(async () => { root = await makeTempDir('labmesh-upgrade-') })
  afterEach(async () => {
    for (const a of running.splice(0)) { a.proc.kill('SIGKILL'); await a.exited }
    await removeDir(root)
  })

  it('says what would run, refuses a running agent\'s store and a newer store, naming both schemas', async () => {
    const dir = join(root, 'a')
    const init = await runCli(['init', '--domain', 'lab-a', '--dir', dir, '--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`, '--http', `127.0.0.1:${await freePort()}`])
    expect(init.code).toBe(0)
    const config = join(dir, 'labmesh.yaml')
    const store = join(dir, 'data', 'store')

    const none = await runCli(['upgrade', '--config', config, '--dry-run'])
    expect(none.code).toBe(0)
    expect(none.stdout).toContain(`no store at ${store} yet: the agent creates it at schema ${SCHEMA_VERSION}`)

    const agent = await spawnAgent(config, { token: (await readFile(join(dir, 'data', 'admin.token'), 'utf8')).trim() })
    running.push(agent)
    const locked = await runCli(['upgrade', '--config', config, '--dry-run'])
    expect(locked.code).toBe(1)
    expect(locked.stderr).toContain(`is locked by process ${agent.proc.pid!}`)
    expect(locked.stderr).toContain('[STORE_LOCKED]')
    agent.proc.kill('SIGTERM')
    expect((await agent.exited).code).toBe(0)
    running.length = 0

    const current = await runCli(['upgrade', '--config', config, '--dry-run'])
    expect(current.stdout).toContain(`is at schema ${SCHEMA_VERSION}, the schema this labmesh writes: nothing to run`)
    const run = await runCli(['upgrade', '--config', config])
    expect(run.code).toBe(0)

    // as if a newer labmesh had written it
    const db = new Level<string, unknown>(store, { valueEncoding: 'json' })
    await db.sublevel<string, unknown>(SUBLEVELS.meta, { valueEncoding: 'json' }).put(META_KEYS.schema, SCHEMA_VERSION + 7)
    await db.close()
    for (const args of [['upgrade', '--config', config], ['start', '--config', config]]) {
      const refused = await runCli(args)
      expect(refused.code).not.toBe(0)
      expect(refused.stderr).toContain(`has schema ${SCHEMA_VERSION + 7}, written by a newer labmesh; this labmesh reads schema ${SCHEMA_VERSION} and older`)
    }
    const check = await runCli(['upgrade', '--config', config, '--dry-run'])
    expect(check.code).not.toBe(0)
    expect(check.stderr).toContain('[STORE_SCHEMA_TOO_NEW]')
    // nothing changed
    const after = new Level<string, unknown>(store, { valueEncoding: 'json' })
    expect(await after.sublevel(SUBLEVELS.meta, { valueEncoding: 'json' }).get(META_KEYS.schema)).toBe(SCHEMA_VERSION + 7)
    await after.close()
  })
})
