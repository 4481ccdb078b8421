/**
 * Fresh-site migration speed (issue 12): a seeded lab in an old SENAITE
 * site (test/senaite-sim), read by its agent, pulled into a fresh site by
 * another agent, each simulated site answering every call `--latency` ms
 * late; per layout pair, the time from the fresh agent's start to the last
 * object written with its pull caught up (test/helpers/senaite-migration.ts,
 * the tests' own path), and objects/s.
 *
 * Baselines in the same run, on the same seeded lab: the same migration
 * with sites that answer at once (what is the agent's own cost), and the
 * serial floor — the calls the fresh agent made, one after another at the
 * simulated latency (what a migrator making the same calls one at a time
 * would take at best; the add-on did ~3 objects/s). Everything runs in this
 * process, so its CPU time per object (both agents and both simulated
 * sites) is the figure to compare on a busy machine: the wall time moves
 * with the load.
 *
 *   node dist/bench/senaite-migration.js [--samples 200] [--latency 25] [--pairs 2.5:2.5,2.6:2.6,1.3:2.6]
 */
import { runMigration } from '../test/helpers/senaite-migration.js'
import { prepareNode } from '../test/helpers/nodes.js'
import type { RealLayout } from '../test/helpers/senaite.js'
import { REAL_LAYOUTS } from '../test/senaite-sim/layouts.js'
import { isMainModule, parseBenchArgs } from './lib/args.js'
import { machineInfo } from './lib/report.js'
import { renderTable, type Cell } from './lib/table.js'
import { createTempDir } from './lib/tmp.js'

interface Figure { readonly objects: number, readonly seconds: number, readonly cpuSeconds: number, readonly calls: number }

async function migrate (from: RealLayout, to: RealLayout, samples: number, latencyMs: number): Promise<Figure> {
  const dir = await createTempDir('senaite-migration')
  try {
    const nodes = [await prepareNode('old', dir.path), await prepareNode('new', dir.path)] as const
    const m = await runMigration(nodes, { from, to, samples, latencyMs, timeoutMs: 1_800_000 })
    await m.stop()
    return { objects: m.objects, seconds: m.seconds, cpuSeconds: m.cpuSeconds, calls: m.calls }
  } finally {
    await dir.remove()
  }
}

function layoutOf (text: string): RealLayout {
  if (!(REAL_LAYOUTS as readonly string[]).includes(text)) throw new Error(`unknown SENAITE layout ${JSON.stringify(text)}: one of ${REAL_LAYOUTS.join(', ')}`)
  return text as RealLayout
}

async function main (): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), { samples: 200, latency: 25, pairs: '2.0-2.4:2.0-2.4,2.5:2.5,2.6:2.6,1.3:2.6' })
  const pairs = args.pairs.split(',').map((p) => p.split(':').map(layoutOf) as [RealLayout, RealLayout])
  const m = machineInfo()
  console.log(`SENAITE fresh-site migration, ${args.samples} samples, ${m.cpus} × ${m.cpuModel}, node ${m.node}, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  const rows: Cell[][] = [['from → into', 'objects', `s at ${args.latency} ms`, 'objects/s', 'CPU ms/object', 'calls/object', 's at 0 ms (baseline)', 'objects/s at 0 ms', 'CPU ms/object at 0 ms', `serial floor s (calls × ${args.latency} ms)`, 'objects/s serial floor']]
  for (const [from, to] of pairs) {
    process.stderr.write(`${from} → ${to} …\n`)
    const slow = await migrate(from, to, args.samples, args.latency)
    const quick = await migrate(from, to, args.samples, 0)
    const floor = slow.calls * args.latency / 1000
    const cpuPerObject = (f: Figure): string => (f.cpuSeconds * 1000 / f.objects).toFixed(1)
    rows.push([`${from} → ${to}`, slow.objects, slow.seconds.toFixed(1), (slow.objects / slow.seconds).toFixed(1), cpuPerObject(slow), (slow.calls / slow.objects).toFixed(1),
      quick.seconds.toFixed(1), (quick.objects / quick.seconds).toFixed(1), cpuPerObject(quick), floor.toFixed(1), (slow.objects / floor).toFixed(1)])
  }
  console.log(renderTable(rows))
}

if (isMainModule(import.meta.url)) {
  main().catch((err: unknown) => { console.error(err); process.exit(1) })
}
