/**
 * The layering rule (docs/architecture.md, .dependency-cruiser.cjs): imports
 * go down the layers and never round in a circle; programs (cli, demo, bench)
 * never open the agent's test hooks. Checked on the real tree, and shown to
 * catch each kind of violation in a throwaway tree.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cruise, type ICruiseResult } from 'dependency-cruiser'
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options'
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config'
import { afterEach, describe, expect, it } from 'vitest'
import { makeTempDir, removeDir } from '../helpers/nodes.js'

const SOURCES = ['agent', 'protocol', 'store', 'config', 'bench']

async function check (baseDir: string): Promise<string[]> {
  const options = await extractDepcruiseOptions(join(process.cwd(), '.dependency-cruiser.cjs'))
  const tsConfig = extractTSConfig(join(process.cwd(), 'tsconfig.json'))
  const result = await cruise(SOURCES, { ...options, baseDir, tsConfig: { fileName: join(process.cwd(), 'tsconfig.json') } }, { extensions: ['.ts', '.js'] }, { tsConfig })
  const output = result.output as ICruiseResult
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle !== undefined ? ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`)
}

describe('layers', () => {
  let tmp: string | undefined
  afterEach(async () => { if (tmp !== undefined) await removeDir(tmp); tmp = undefined })

  it('labmesh imports only downward and has no import cycles', async () => {
    expect(await check(process.cwd())).toEqual([])
  })

  it('the check fails on an upward import, on a cycle and on test hooks in a program', async () => {
    tmp = await makeTempDir('labmesh-layers-')
    const file = async (path: string, text: string): Promise<void> => {
      await mkdir(join(tmp!, path, '..'), { recursive: true })
      await writeFile(join(tmp!, path), text)
    }
    await file('agent/errors.ts', 'export class NotFoundError extends Error {}\n')
    // protocol reaching up into the agent: the kind of import the rule exists for
    await file('protocol/codec.ts', "import { NotFoundError } from '../agent/errors.js'\nexport const e = NotFoundError\n")
    await file('store/a.ts', "import { b } from './b.js'\nexport const a = (): number => b()\n")
    await file('store/b.ts', "import { a } from './a.js'\nexport const b = (): number => 1\nexport const c = a\n")
    await file('config/schema.ts', 'export const ok = 1\n')
    await file('agent/test-hooks.ts', 'export const agentInternals = (): number => 1\n')
    await file('bench/run.ts', "import { agentInternals } from '../agent/test-hooks.js'\nexport const run = agentInternals\n")
    const violations = await check(tmp)
    expect(violations).toContain('layer-protocol: protocol/codec.ts → agent/errors.ts')
    expect(violations.some((v) => v.startsWith('no-circular: store/a.ts → store/b.ts'))).toBe(true)
    expect(violations).toContain('no-test-hooks-in-production: bench/run.ts → agent/test-hooks.ts')
  })
})
