/**
 * Backups on disk (store/backup/): a stopped store's backup and its restore
 * with real LevelDB — consistent while writes go on, a new epoch, an older
 * schema upgraded after the restore, a newer one refused naming both
 * versions, damage and an occupied target refused with nothing changed, and
 * the file-part seam (immutable files only) copied both ways.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BackupConflictError, BackupIncompatibleError, BackupInvalidError } from '../../store/errors.js'
import { createLevelStore } from '../../store/level-store.js'
import { decodeFrames, encodeFrame, STORE_FILE, type Frame } from '../../store/backup/format.js'
import { directoryPart } from '../../store/backup/file-parts.js'
import { backupStoppedStore } from '../../store/backup/offline.js'
import type { BackupProgress } from '../../store/backup/progress.js'
import { readManifest, restoreBackup } from '../../store/backup/restore.js'
import { backupFrames } from '../../store/backup/source.js'
import { writeBackupDir } from '../../store/backup/write-dir.js'
import { SCHEMA_VERSION, UPGRADE_STEPS } from '../../store/upgrades/index.js'
import type { Store } from '../../store/types.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'

const DOMAIN = 'lab-a'

async function fill (store: Store, from: number, n: number, tag = 0): Promise<void> {
  const uids = Array.from({ length: n }, (_, i) => `u-${String(from + i).padStart(5, '0')}`)
  await store.write(async (tx) => {
    const held = await tx.getMany(uids)
    uids.forEach((uid, i) => {
      const n = (held[i]?.vector[DOMAIN] ?? 0) + 1
      tx.putObject({ uid, type: 'Client', id: uid, parent: null, refs: [], data: { tag }, vector: { [DOMAIN]: n }, origin: DOMAIN, deleted: false, at: 0, conflicts: [], via: null })
    })
  })
}

describe('backup directories', () => {
  let dir: string
  beforeEach(async () => { dir = await makeTempDir('labmesh-backup-') })
  afterEach(async () => { await removeDir(dir) })

  it('snapshots whole transactions while writes go on, and restores them under a new epoch', async () => {
    const store = createLevelStore({ location: join(dir, 'store'), domain: DOMAIN })
    await store.open()
    await fill(store, 0, 500)
    const snapshot = await store.openSnapshot()
    // every transaction after the snapshot rewrites all 500 objects and more: none of it may show
    const writes = (async () => { for (let t = 1; t <= 5; t++) await fill(store, 0, 600, t) })()
    const progress: BackupProgress[] = []
    const frames = backupFrames(snapshot, [], { peerId: 'p', onProgress: (p) => progress.push(p) })
    // through the wire encoding, in odd-sized pieces, as the admin API sends it
    async function * bytes (): AsyncGenerator<Uint8Array> {
      for await (const f of frames) {
        const b = encodeFrame(f)
        for (let i = 0; i < b.length; i += 777) yield b.subarray(i, i + 777)
      }
    }
    const manifest = await writeBackupDir(decodeFrames(bytes()), { out: join(dir, 'backup'), online: true })
    await writes
    const { head, epoch } = store.info()
    expect(store.info().entry).toBe(DOMAIN) // never restored: it raises its domain
    await store.close()
    expect(manifest).toMatchObject({ domain: DOMAIN, schema: SCHEMA_VERSION, objects: 500, head: 500, epoch, online: true })
    expect(head).toBe(500 + 5 * 600)
    expect(progress.at(-1)).toMatchObject({ percent: 100, finished: true })

    const restored = await restoreBackup({ from: join(dir, 'backup'), storeDir: join(dir, 'restored'), domain: DOMAIN, codeSchema: SCHEMA_VERSION, fileTargets: {} })
    const again = createLevelStore({ location: join(dir, 'restored'), domain: DOMAIN })
    await again.open()
    try {
      expect(again.info()).toMatchObject({ head: 500, objects: 500, epoch: restored.epoch })
      expect(restored.epoch).not.toBe(epoch)
      // and a vector entry of its own, which local writes raise instead of the domain's
      expect(restored.entry).toBe(`${DOMAIN}~${restored.epoch.slice(0, 8)}`)
      expect(again.info().entry).toBe(restored.entry)
      const page = await again.listObjects({ limit: 1000 })
      expect(page.items.map((o) => o.data)).toEqual(Array.from({ length: 500 }, () => ({ tag: 0 })))
      expect((await again.readFeed(0, 1000)).entries).toHaveLength(500)
    } finally {
      await again.close()
    }
    expect(manifest.domain).toBe(DOMAIN)
    // restored again, from a backup of the restored store: a new entry replaces the one it held
    await backupStoppedStore({ location: join(dir, 'restored'), out: join(dir, 'backup-2'), peerId: 'p', parts: [] })
    const twice = await restoreBackup({ from: join(dir, 'backup-2'), storeDir: join(dir, 'restored-2'), domain: DOMAIN, codeSchema: SCHEMA_VERSION, fileTargets: {} })
    expect(twice.entry).not.toBe(restored.entry)
    const third = createLevelStore({ location: join(dir, 'restored-2'), domain: DOMAIN })
    await third.open()
    expect(third.info().entry).toBe(twice.entry)
    await third.close()
  })

  it('restores a backup of an older schema, which the store upgrades at open; refuses a newer one naming both schemas', async () => {
    const older = UPGRADE_STEPS.slice(0, -1)
    const store = createLevelStore({ location: join(dir, 'store'), domain: DOMAIN, upgradeSteps: older })
    await store.open()
    await fill(store, 0, 40)
    await store.close()
    const manifest = await backupStoppedStore({ location: join(dir, 'store'), out: join(dir, 'backup'), peerId: 'p', parts: [] })
    expect(manifest.schema).toBe(SCHEMA_VERSION - 1)
    expect(manifest.online).toBe(false)

    const refused = restoreBackup({ from: join(dir, 'backup'), storeDir: join(dir, 'newer'), domain: DOMAIN, codeSchema: SCHEMA_VERSION - 2, fileTargets: {} })
    await expect(refused).rejects.toThrow(BackupIncompatibleError)
    await expect(refused).rejects.toThrow(new RegExp(`schema ${SCHEMA_VERSION - 1}.*reads schema ${SCHEMA_VERSION - 2}`))
    await expect(readdir(join(dir, 'newer'))).rejects.toThrow(/ENOENT/)
    await expect(restoreBackup({ from: join(dir, 'backup'), storeDir: join(dir, 'x'), domain: 'lab-b', codeSchema: SCHEMA_VERSION, fileTargets: {} })).rejects.toThrow(/domain "lab-a"/)

    await restoreBackup({ from: join(dir, 'backup'), storeDir: join(dir, 'restored'), domain: DOMAIN, codeSchema: SCHEMA_VERSION, fileTargets: {} })
    const upgraded = createLevelStore({ location: join(dir, 'restored'), domain: DOMAIN })
    await upgraded.open()
    try {
      expect(upgraded.info().objects).toBe(40)
      // the restore's entry row, written into the older store, is kept by the upgrade
      expect(upgraded.info().entry).toMatch(/^lab-a~[0-9a-f]{8}$/)
      // the last step (history) ran on the restored rows
      expect(await upgraded.getHistory('u-00000')).toHaveLength(1)
    } finally {
      await upgraded.close()
    }
  })

  it('refuses a damaged backup and an occupied target, changing nothing; moves a stopped store aside when asked', async () => {
    const store = createLevelStore({ location: join(dir, 'store'), domain: DOMAIN })
    await store.open()
    await fill(store, 0, 20)
    await expect(backupStoppedStore({ location: join(dir, 'store'), out: join(dir, 'b'), peerId: 'p', parts: [] })).rejects.toThrow(/locked/)
    await store.close()
    await backupStoppedStore({ location: join(dir, 'store'), out: join(dir, 'backup'), peerId: 'p', parts: [] })
    await expect(backupStoppedStore({ location: join(dir, 'store'), out: join(dir, 'backup'), peerId: 'p', parts: [] })).rejects.toThrow(BackupConflictError)

    const options = { from: join(dir, 'backup'), storeDir: join(dir, 'store'), domain: DOMAIN, codeSchema: SCHEMA_VERSION, fileTargets: {} }
    await expect(restoreBackup(options)).rejects.toThrow(BackupConflictError)
    const moved = await restoreBackup({ ...options, replace: true })
    expect(moved.movedAside).toMatch(/store\.before-restore-/)
    expect(await readdir(moved.movedAside!)).toContain('CURRENT')

    // a directory that is not a store but is not empty either (a damaged store may lack CURRENT) is never deleted
    await mkdir(join(dir, 'odd'))
    await writeFile(join(dir, 'odd', '000005.ldb'), 'x')
    await expect(restoreBackup({ ...options, storeDir: join(dir, 'odd') })).rejects.toThrow(BackupConflictError)
    expect(await readdir(join(dir, 'odd'))).toEqual(['000005.ldb'])

    const text = await readFile(join(dir, 'backup', STORE_FILE), 'utf8')
    await writeFile(join(dir, 'backup', STORE_FILE), text.replace('"tag', '"tog'))
    await expect(restoreBackup({ ...options, storeDir: join(dir, 'damaged') })).rejects.toThrow(BackupInvalidError)
    await expect(readdir(join(dir, 'damaged'))).rejects.toThrow(/ENOENT/)
    await expect(readManifest(dir)).rejects.toThrow(/not a labmesh backup/)
  })

  it('copies the immutable files of a part (not files being written) and puts them back on restore', async () => {
    const blobs = join(dir, 'blobs')
    await mkdir(join(blobs, 'sha256', 'ab'), { recursive: true })
    await mkdir(join(blobs, 'partial'), { recursive: true })
    const big = Buffer.alloc(2.5 * 1024 * 1024, 7)
    await writeFile(join(blobs, 'sha256', 'ab', 'ab01'), big)
    await writeFile(join(blobs, 'sha256', 'ab', 'ab02'), '')
    await writeFile(join(blobs, 'partial', 'cd03'), 'half')
    const store = createLevelStore({ location: join(dir, 'store'), domain: DOMAIN })
    await store.open()
    await fill(store, 0, 3)
    await store.close()
    const part = directoryPart('blobs', blobs, (name) => name.startsWith('sha256/'))
    const manifest = await backupStoppedStore({ location: join(dir, 'store'), out: join(dir, 'backup'), peerId: 'p', parts: [part] })
    expect(manifest.files).toEqual([{ part: 'blobs', count: 2, bytes: big.length }])
    // a part this labmesh has no place for is refused
    await expect(restoreBackup({ from: join(dir, 'backup'), storeDir: join(dir, 'r0'), domain: DOMAIN, codeSchema: SCHEMA_VERSION, fileTargets: {} })).rejects.toThrow(/part "blobs"/)
    await restoreBackup({ from: join(dir, 'backup'), storeDir: join(dir, 'r1'), domain: DOMAIN, codeSchema: SCHEMA_VERSION, fileTargets: { blobs: join(dir, 'restored-blobs') } })
    expect((await readFile(join(dir, 'restored-blobs', 'sha256', 'ab', 'ab01'))).equals(big)).toBe(true)
    expect(await readdir(join(dir, 'restored-blobs'))).toEqual(['sha256'])
  })

  it('keeps no backup directory when the sender fails midway', async () => {
    async function * failing (): AsyncGenerator<Frame> {
      yield { header: { k: 'begin', snapshot: { domain: DOMAIN, schema: SCHEMA_VERSION, epoch: 'e', head: 1, objects: 1, rows: 5 }, peerId: 'p', createdAt: 0, files: [] } }
      yield { header: { k: 'error', code: 'STORE_CLOSED', message: 'the store is closed' } }
    }
    await expect(writeBackupDir(failing(), { out: join(dir, 'backup'), online: true })).rejects.toThrow(/could not finish the backup: the store is closed/)
    expect(await readdir(dir)).toEqual([])
    async function * cut (): AsyncGenerator<Uint8Array> { yield encodeFrame({ header: { k: 'rows', n: 1, bytes: 10 }, payload: Buffer.from('0123456789') }).subarray(0, 20) }
    await expect(async () => { for await (const _ of decodeFrames(cut())) { /* read */ } }).rejects.toThrow(/ended inside a frame/)
  })
})
