/**
 * The agent's start-time node settings (agent/runtime/node-flags.ts): what
 * `labmesh start` adds, and that the admin's own settings win. And the fact
 * that makes a relaunch necessary: V8 ignores a semi-space size given at run
 * time, but honours it given to node at start.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AGENT_NODE_ENV, AGENT_NODE_FLAGS, isNothing, missingStartSettings, NodeFlagsError, startSettingsToApply } from '../../agent/runtime/node-flags.js'
import { isStartCommand } from '../../agent/cli/relaunch.js'

describe('start-time node settings', () => {
  it('adds the semi-space flag and MALLOC_ARENA_MAX to a plain node', () => {
    expect(missingStartSettings([], {})).toEqual({ flags: AGENT_NODE_FLAGS, env: AGENT_NODE_ENV })
    expect(AGENT_NODE_FLAGS).toContain('--max-semi-space-size=4')
  })

  it("leaves a flag the admin gave (node's arguments or NODE_OPTIONS, any spelling) and a variable already set", () => {
    expect(missingStartSettings(['--max-semi-space-size=8'], {}).flags).toEqual([])
    expect(missingStartSettings([], { NODE_OPTIONS: '--inspect --max_semi_space_size=16' }).flags).toEqual([])
    expect(missingStartSettings([], { MALLOC_ARENA_MAX: '8' }).env).toEqual({})
    expect(isNothing(missingStartSettings(['--max-semi-space-size=2'], { MALLOC_ARENA_MAX: '4' }))).toBe(true)
  })

  it('LABMESH_NODE_FLAGS replaces the list, "none" adds nothing, a relaunched node adds nothing', () => {
    expect(missingStartSettings([], { LABMESH_NODE_FLAGS: ' --max-semi-space-size=2  --single-threaded-gc ' }).flags).toEqual(['--max-semi-space-size=2', '--single-threaded-gc'])
    expect(isNothing(missingStartSettings([], { LABMESH_NODE_FLAGS: 'none' }))).toBe(true)
    expect(isNothing(missingStartSettings([], { LABMESH_RELAUNCHED: 'exec' }))).toBe(true)
    expect(() => missingStartSettings([], { LABMESH_NODE_FLAGS: 'max-semi-space-size=2' })).toThrow(NodeFlagsError)
  })

  it('where node cannot replace its process, adds only what the admin named', () => {
    expect(isNothing(startSettingsToApply([], {}, false))).toBe(true)
    expect(startSettingsToApply([], { LABMESH_NODE_FLAGS: '--max-semi-space-size=4' }, false).flags).toEqual(['--max-semi-space-size=4'])
    expect(startSettingsToApply([], {}, true).flags).toEqual(AGENT_NODE_FLAGS)
  })

  it('relaunches only for `start`', () => {
    expect(isStartCommand(['node', 'labmesh', 'start', '--config', 'x'])).toBe(true)
    expect(isStartCommand(['node', 'labmesh', 'status', '--config', 'start'])).toBe(false)
    expect(isStartCommand(['node', 'labmesh', '--help'])).toBe(false)
  })

  it('V8 sizes the young generation only at start: a run-time --max-semi-space-size changes nothing', () => {
    const script = `
      const v8 = require('node:v8')
      if (process.argv[1] === 'late') v8.setFlagsFromString('--max-semi-space-size=4')
      let keep = [], max = 0
      for (let i = 0; i < 2e6; i++) {
        const o = { a: i, b: 'x' + i }
        if (i % 50 === 0) keep.push(o)
        if (keep.length > 4000) keep = []
        if (i % 20000 === 0) max = Math.max(max, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)
      }
      console.log(max)`
    // largest new space seen while allocating; `late`: the flag set through v8.setFlagsFromString first
    const newSpace = (nodeArgs: string[], late = false): number => Number(spawnSync(process.execPath, [...nodeArgs, '-e', script, ...(late ? ['late'] : [])], { encoding: 'utf8' }).stdout.trim())
    const atStart = newSpace(['--max-semi-space-size=4'])
    const plain = newSpace([])
    const atRunTime = newSpace([], true)
    expect(atStart).toBeLessThanOrEqual(8 * 1024 * 1024)
    expect(plain).toBeGreaterThan(atStart * 2)
    expect(atRunTime).toBe(plain)
  })

  it("bin/labmesh.js relaunches before it loads anything heavy", () => {
    const bin = readFileSync(resolve(import.meta.dirname, '../../bin/labmesh.js'), 'utf8')
    const firstImport = /^import .*$/m.exec(bin)?.[0]
    expect(firstImport).toContain('relaunch.js')
    expect(bin.indexOf('relaunchForAgent(process.argv)')).toBeLessThan(bin.indexOf("import('../dist/agent/cli/main.js')"))
  })
})
