/**
 * Backup and restore of a store in one process (store/backup/), against
 * named baselines in the same run on the same store:
 *
 * - backup: one snapshot → frames → the wire encoding → decoded → the backup
 *   directory (what `POST /api/backup` + `labmesh backup` do, without HTTP);
 *   baseline `scan`: one LevelDB iterator over every row, reading only
 *   (the floor of any consistent online copy); baseline `cp`: copying the
 *   stopped store's directory with fs.cp (what an offline file copy costs).
 * - restore: the backup directory → a new LevelDB (`restoreBackup`).
 * - size: the backup's store.jsonl against the rows' own bytes (keys and
 *   values as stored) and against the LevelDB directory.
 *
 *   node dist/bench/backup-micro.js [--objects 50000] [--rounds 3] [--seed 1]
 *
 * Reports best-of-rounds wall time and rows per second; nothing is asserted.
 */
import { cp, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { writeDocuments } from '../agent/apply/local-writes.js'
import { generateLimsObjects } from '../agent/demo/lims-data.js'
import { decodeFrames, encodeFrame, type Frame } from '../store/backup/format.js'
import { restoreBackup } from '../store/backup/restore.js'
import { backupFrames } from '../store/backup/source.js'
import { writeBackupDir } from '../store/backup/write-dir.js'
import { createLevelStore } from '../store/level-store.js'
import { SCHEMA_VERSION } from '../store/upgrades/index.js'
import { isMainModule, parseBenchArgs } from './lib/args.js'
import { createTempDir } from './lib/tmp.js'

const DEFAULTS = Object.freeze({ objects: 50_000, rounds: 3, seed: 1 })
const DOMAIN = 'lab-a'

async function dirBytes (dir: string): Promise<number> {
  let n = 0
  for (const f of await readdir(dir, { recursive: true })) {
    const s = await stat(join(dir, f))
    if (s.isFile()) n += s.size
  }
  return n
}

async function * wire (frames: AsyncIterable<Frame>): AsyncGenerator<Uint8Array> {
  for await (const f of frames) yield encodeFrame(f)
}

async function timed (fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

async function main (): Promise<void> {
  const flags = parseBenchArgs(process.argv.slice(2), { ...DEFAULTS })
  const tmp = await createTempDir('backup-micro')
  const location = join(tmp.path, 'store')
  try {
    const store = createLevelStore({ location, domain: DOMAIN })
    await store.open()
    const inputs = [...generateLimsObjects({ domain: DOMAIN, seed: flags.seed, count: flags.objects })].map((o) => ({ uid: o.uid, type: o.type, id: o.id, parent: o.parent, refs: o.refs, data: o.data }))
    for (let i = 0; i < inputs.length; i += 1000) await writeDocuments({ store, domain: DOMAIN, now: Date.now, rules: [] }, inputs.slice(i, i + 1000))
    process.stderr.write(`${flags.objects} objects written\n`)
    const results: Record<string, number[]> = { backup: [], scan: [], restore: [], cp: [] }
    let rows = 0
    let rawBytes = 0
    let jsonlBytes = 0
    for (let r = 0; r < flags.rounds; r++) {
      const out = join(tmp.path, `backup-${r}`)
      results.backup!.push(await timed(async () => {
        const manifest = await writeBackupDir(decodeFrames(wire(backupFrames(await store.openSnapshot(), [], { peerId: 'p' }))), { out, online: true })
        rows = manifest.rows
        jsonlBytes = manifest.storeBytes
      }))
      results.scan!.push(await timed(async () => {
        const snapshot = await store.openSnapshot()
        let bytes = 0
        for await (const [k, v] of snapshot.rows()) bytes += Buffer.byteLength(k) + Buffer.byteLength(v)
        rawBytes = bytes
        await snapshot.close()
      }))
      results.restore!.push(await timed(async () => {
        await restoreBackup({ from: out, storeDir: join(tmp.path, `restored-${r}`), domain: DOMAIN, codeSchema: SCHEMA_VERSION, fileTargets: {} })
      }))
      process.stderr.write(`round ${r + 1}: backup ${Math.round(results.backup!.at(-1)!)} ms, scan ${Math.round(results.scan!.at(-1)!)} ms, restore ${Math.round(results.restore!.at(-1)!)} ms\n`)
    }
    await store.close()
    // settle the store's files (compaction at open/close) before copying and measuring it
    const settle = new Level(location)
    await settle.open()
    await settle.close()
    for (let r = 0; r < flags.rounds; r++) results.cp!.push(await timed(async () => { await cp(location, join(tmp.path, `copy-${r}`), { recursive: true }) }))
    const storeBytes = await dirBytes(location)
    const best = (k: string): number => Math.round(Math.min(...results[k]!))
    const perSecond = (k: string): number => Math.round(rows / (best(k) / 1000))
    process.stdout.write(JSON.stringify({
      objects: flags.objects,
      rows,
      bestMs: { backup: best('backup'), scan: best('scan'), restore: best('restore'), cp: best('cp') },
      rowsPerSecond: { backup: perSecond('backup'), scan: perSecond('scan'), restore: perSecond('restore') },
      bytes: { jsonl: jsonlBytes, rows: rawBytes, leveldbDir: storeBytes, jsonlOverRows: Math.round(jsonlBytes / rawBytes * 100) / 100, jsonlOverLeveldb: Math.round(jsonlBytes / storeBytes * 100) / 100 }
    }) + '\n')
  } finally {
    await tmp.remove()
  }
}

if (isMainModule(import.meta.url)) await main()
