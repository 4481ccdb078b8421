/**
 * What a SENAITE write of one large file holds in memory: the agent's
 * client POSTs an attachment of `--mib` MiB from the blob store to a local
 * HTTP server that only counts the bytes (no simulated site: its own copy of
 * the body would swamp the agent's). Two ways, each in a fresh process,
 * alternating for `--runs` rounds:
 *
 * - `streamed` (labmesh): the file's base64 is made from the blob as the
 *   request is sent (agent/connectors/senaite/file-body.ts);
 * - `held` (the named baseline: labmesh before file-body.ts): the blob read
 *   whole, its base64 text and the JSON text built before sending.
 *
 * Reports seconds and peak RSS above the level before the write (sampled
 * every 5 ms), and checks the server got the exact JSON text's length.
 *
 *   node dist/bench/senaite-upload.js [--mib 100] [--runs 3]
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { createSenaiteClient } from '../agent/connectors/senaite/client.js'
import { FileBody } from '../agent/connectors/senaite/file-body.js'
import { createBlobStore } from '../store/blobs/blob-store.js'
import { seededBytes } from '../test/helpers/blobs.js'
import { isMainModule, parseBenchArgs } from './lib/args.js'
import { machineInfo } from './lib/report.js'
import { createRssSampler } from './lib/rss.js'
import { renderTable } from './lib/table.js'
import { createTempDir } from './lib/tmp.js'

const MiB = 1024 * 1024
type Mode = 'streamed' | 'held'
interface Figure { readonly mode: Mode, readonly seconds: number, readonly peakMiB: number, readonly receivedBytes: number, readonly expectedBytes: number }

/** one write in this process: the child's side */
async function writeOnce (mode: Mode, mib: number): Promise<Figure> {
  const tmp = await createTempDir('labmesh-upload-')
  let received = 0
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => { received += chunk.length })
    req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end('{"items":[{"uid":"x"}]}') })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const client = createSenaiteClient({ url: `http://127.0.0.1:${port}/senaite`, username: 'u', password: 'p', concurrency: 1 })
  try {
    const blobs = createBlobStore(tmp.path)
    await blobs.open()
    const size = mib * MiB
    const put = await blobs.put((async function * () { for (let at = 0; at < size; at += MiB) yield seededBytes(Math.min(MiB, size - at), 'upload', at) })())
    const file = new FileBody(put.size, async () => (await blobs.read(put.hash)).stream, 'bench.bin')
    const expectedBytes = Buffer.byteLength(JSON.stringify({ title: 'bench', AttachmentFile: '', filename: 'bench.bin' })) + file.base64Length
    global.gc?.()
    const before = process.memoryUsage.rss()
    const sampler = createRssSampler({ intervalMs: 5 })
    sampler.start()
    sampler.reset()
    const started = performance.now()
    if (mode === 'streamed') {
      await client.post('create/x', { title: 'bench', AttachmentFile: file, filename: 'bench.bin' })
    } else {
      // labmesh before file-body.ts: the blob read whole, then its base64, then the JSON text
      const chunks: Buffer[] = []
      for await (const chunk of await file.open()) chunks.push(chunk as Buffer)
      await client.post('create/x', { title: 'bench', AttachmentFile: Buffer.concat(chunks).toString('base64'), filename: 'bench.bin' })
    }
    const seconds = (performance.now() - started) / 1000
    sampler.stop()
    return { mode, seconds, peakMiB: Math.max(0, sampler.report().peakBytes - before) / MiB, receivedBytes: received, expectedBytes }
  } finally {
    await client.close()
    server.close()
    await tmp.remove()
  }
}

async function inChild (mode: Mode, mib: number): Promise<Figure> {
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', mode, '--mib', String(mib)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`${mode} write exited with ${code}`)
  return JSON.parse(out) as Figure
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main (): Promise<void> {
  const argv = process.argv.slice(2)
  if (argv[0] === '--child') {
    const flags = parseBenchArgs(argv.slice(2), { mib: 100 })
    process.stdout.write(JSON.stringify(await writeOnce(argv[1] as Mode, flags.mib)))
    return
  }
  const flags = parseBenchArgs(argv, { mib: 100, runs: 3 })
  const figures: Figure[] = []
  for (let run = 1; run <= flags.runs; run++) {
    for (const mode of ['held', 'streamed'] as const) {
      const f = await inChild(mode, flags.mib)
      if (f.receivedBytes !== f.expectedBytes) throw new Error(`${mode}: the server got ${f.receivedBytes} bytes, expected ${f.expectedBytes}`)
      console.error(`run ${run} ${mode}: ${f.seconds.toFixed(2)} s, peak RSS +${f.peakMiB.toFixed(0)} MiB`)
      figures.push(f)
    }
  }
  const info = machineInfo()
  console.log(`SENAITE write of one ${flags.mib} MiB file (base64 in the JSON body) to a byte-counting server, ${flags.runs} runs each, fresh process per run, ${info.cpus} × ${info.cpuModel}, node ${info.node}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  const rows = (['held', 'streamed'] as const).map((mode) => {
    const of = figures.filter((f) => f.mode === mode)
    const peak = of.map((f) => f.peakMiB)
    return [mode === 'held' ? 'baseline: held whole (labmesh before)' : 'streamed from the blob store (labmesh)', median(of.map((f) => f.seconds)).toFixed(2), `${median(peak).toFixed(0)} (${Math.min(...peak).toFixed(0)}–${Math.max(...peak).toFixed(0)})`, (median(peak) / flags.mib).toFixed(2)]
  })
  console.log(renderTable([['write', 's (median)', 'peak RSS above start, MiB (range)', 'peak / file size'], ...rows]))
}

if (isMainModule(import.meta.url)) await main()
